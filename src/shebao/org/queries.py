"""Organisation reads for other packages and the channels: plain functions, plain data.

The hierarchy national → province → city → county comes from ``core.regions`` (GB/T 2260);
towns, villages and grid cells from ``org_unit``."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select

from shebao.core import regions
from shebao.db.uow import reading

from . import model
from .tables import (admin_budget, org_unit, outsourcing_contract, provider, service_outlet,
                     staff_assignment)


def _in(region_col, scope: str):
    """Rows whose region lies in ``scope``'s subtree (codes share the scope's prefix)."""
    if scope == regions.NATIONAL:
        return True
    prefix = scope[:2] if scope[2:] == "0000" else scope[:4] if scope[4:] == "00" else scope
    return region_col.like(prefix + "%")


def hierarchy(bind, region: str) -> list[dict]:
    """The chain above ``region`` (national first) and the org units below it, each with its
    level and parent: the tree national → province → city → county → town → village → grid."""
    chain = [{"code": c, "level": model.region_level(c), "name": regions.name(c)
              if c != regions.NATIONAL else "全国", "parent": regions.parent(c)}
             for c in reversed(regions.lineage(region))]
    with reading(bind) as conn:
        rows = conn.execute(select(org_unit).where(_in(org_unit.c.region, region))
                            .order_by(org_unit.c.code)).all()
    return chain + [{"code": r.code, "level": r.level, "name": r.name, "parent": r.parent_code,
                     "households": r.households, "grid_worker": r.grid_worker} for r in rows]


def outlets(bind, scope: str = regions.NATIONAL) -> list[dict]:
    with reading(bind) as conn:
        rows = conn.execute(select(service_outlet, provider.c.name.label("provider_name"))
                            .select_from(service_outlet.outerjoin(
                                provider, provider.c.id == service_outlet.c.provider_id))
                            .where(_in(service_outlet.c.region, scope))
                            .order_by(service_outlet.c.code)).all()
    return [{"id": r.id, "code": r.code, "name": r.name, "kind": r.kind, "region": r.region,
             "unit_code": r.unit_code, "provider_id": r.provider_id,
             "provider_name": r.provider_name, "active": bool(r.active)} for r in rows]


def outlet(bind, code: str) -> dict | None:
    return next((o for o in outlets(bind) if o["code"] == code), None)


def _in_force(on: dt.date):
    return and_(staff_assignment.c.valid_from <= on,
                or_(staff_assignment.c.valid_to.is_(None), staff_assignment.c.valid_to >= on))


def assignments(bind, *, on: dt.date, outlet_code: str | None = None,
                username: str | None = None, scope: str = regions.NATIONAL) -> list[dict]:
    """Staff assignments in force on ``on``."""
    q = (select(staff_assignment, service_outlet.c.code.label("outlet"),
                service_outlet.c.region)
         .select_from(staff_assignment.join(
             service_outlet, service_outlet.c.id == staff_assignment.c.outlet_id))
         .where(_in_force(on), _in(service_outlet.c.region, scope)))
    if outlet_code:
        q = q.where(service_outlet.c.code == outlet_code)
    if username:
        q = q.where(staff_assignment.c.username == username)
    with reading(bind) as conn:
        rows = conn.execute(q.order_by(service_outlet.c.code, staff_assignment.c.username)).all()
    return [{"id": r.id, "username": r.username, "outlet": r.outlet, "region": r.region,
             "staff_class": r.staff_class, "is_head": bool(r.is_head), "fte_pct": r.fte_pct,
             "valid_from": r.valid_from, "valid_to": r.valid_to} for r in rows]


def outlet_of(bind, username: str, on: dt.date) -> dict | None:
    """The outlet a staff member works at on ``on`` (and whether they head it)."""
    rows = assignments(bind, on=on, username=username)
    return rows[0] if rows else None


def actual_fte_pct(bind, on: dt.date, classes, scope: str = regions.NATIONAL) -> dict[str, int]:
    """outlet code → Σ fte_pct of the assignments in force of the given staff classes."""
    with reading(bind) as conn:
        rows = conn.execute(
            select(service_outlet.c.code, func.sum(staff_assignment.c.fte_pct))
            .select_from(staff_assignment.join(
                service_outlet, service_outlet.c.id == staff_assignment.c.outlet_id))
            .where(_in_force(on), staff_assignment.c.staff_class.in_(list(classes)),
                   _in(service_outlet.c.region, scope))
            .group_by(service_outlet.c.code)).all()
    return {r[0]: int(r[1]) for r in rows}


def budgets(bind, year: int, scope: str = regions.NATIONAL) -> dict[str, int]:
    """region → the administration budget of ``year`` in fen."""
    with reading(bind) as conn:
        return {r.region: int(r.amount_fen) for r in conn.execute(
            select(admin_budget.c.region, admin_budget.c.amount_fen).where(
                admin_budget.c.year == year, _in(admin_budget.c.region, scope)))}


def providers(bind, scope: str = regions.NATIONAL) -> list[dict]:
    with reading(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(provider).where(_in(provider.c.region, scope)).order_by(provider.c.id))]


def contracts(bind, *, provider_id: int | None = None, scope: str = regions.NATIONAL,
              status: str | None = None) -> list[dict]:
    q = select(outsourcing_contract, provider.c.name.label("provider_name")).select_from(
        outsourcing_contract.join(provider, provider.c.id == outsourcing_contract.c.provider_id)
    ).where(_in(outsourcing_contract.c.region, scope))
    if provider_id is not None:
        q = q.where(outsourcing_contract.c.provider_id == provider_id)
    if status:
        q = q.where(outsourcing_contract.c.status == status)
    with reading(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(q.order_by(outsourcing_contract.c.id))]
