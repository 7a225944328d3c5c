"""Organisation use cases: towns, villages and grid cells below the GB/T 2260 counties; service
outlets; staff assigned to outlets; administration budgets. One transaction and one audit
record each; the acting administrator's region scope covers everything written."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.db.uow import now, transaction
from shebao.security import audit, policy
from shebao.security import queries as security_queries

from . import model
from .tables import admin_budget, org_unit, service_outlet, staff_assignment


def _name(value, what: str = "name") -> str:
    v = (value or "").strip()
    if not v or len(v) > 100 or any(ord(c) < 32 for c in v):
        raise InputError(f"{what} must be 1–100 printable characters", field=what)
    return v


def add_unit(db, actor: Actor, code: str, name: str, *, households: int | None = None,
             grid_worker: str | None = None) -> int:
    """A town (9 digits), village (12) or grid cell (town/village code + G<n>) below a county
    of the region tree; its parent must exist (the county is known from GB/T 2260)."""
    policy.require(actor, "org.manage")
    level = model.unit_level(code)
    parent = model.parent_of(code)
    county = code[:6]
    regions.check_region(county, field="code")
    if model.region_level(county) != "county":
        raise InputError(f"{code}: a town lies below a county code (last two digits not 00)",
                         field="code")
    policy.require_region(actor, county)
    if households is not None and (households < 0 or households > 10 ** 7):
        raise InputError("households must be between 0 and 10,000,000", field="households")
    with transaction(db) as conn:
        if conn.execute(select(org_unit.c.id).where(org_unit.c.code == code)).first():
            raise ConflictError(f"org unit {code} exists")
        if level != "town" and not conn.execute(
                select(org_unit.c.id).where(org_unit.c.code == parent)).first():
            raise InputError(f"parent {parent} of {code} does not exist: add it first",
                             field="code")
        if grid_worker and security_queries.account(conn, grid_worker) is None:
            raise InputError(f"no account {grid_worker}", field="grid_worker")
        uid = conn.execute(org_unit.insert().values(
            code=code, level=level, name=_name(name), parent_code=parent, region=county,
            households=households, grid_worker=grid_worker or None,
            created_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "org.unit.add", "org_unit", code,
                     detail={"level": level, "parent": parent})
    return int(uid)


def add_outlet(db, actor: Actor, code: str, name: str, kind: str, region: str, *,
               unit_code: str | None = None, provider_id: int | None = None) -> int:
    policy.require(actor, "org.manage")
    model.check_choice(kind, model.OUTLET_KINDS, "kind")
    regions.check_region(region)
    policy.require_region(actor, region)
    code = (code or "").strip()
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        raise InputError("outlet code: 1–32 letters, digits, - or _", field="code")
    with transaction(db) as conn:
        if conn.execute(select(service_outlet.c.id).where(
                service_outlet.c.code == code)).first():
            raise ConflictError(f"outlet {code} exists")
        if unit_code:
            u = conn.execute(select(org_unit.c.region).where(
                org_unit.c.code == unit_code)).first()
            if u is None or not regions.within(u.region, region):
                raise InputError(f"org unit {unit_code} is not in region {region}",
                                 field="unit_code")
        oid = conn.execute(service_outlet.insert().values(
            code=code, name=_name(name), kind=kind, region=region, unit_code=unit_code or None,
            provider_id=provider_id, active=True, created_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "org.outlet.add", "service_outlet", code,
                     detail={"kind": kind, "region": region, "provider_id": provider_id})
    return int(oid)


def assign(db, actor: Actor, username: str, outlet_code: str, staff_class: str, *,
           valid_from: dt.date, is_head: bool = False, fte_pct: int = 100) -> int:
    """Assign a staff account to an outlet (from ``valid_from``); an open assignment of the
    same person elsewhere ends the day before. The account's scope must cover the outlet."""
    policy.require(actor, "org.manage")
    model.check_choice(staff_class, model.STAFF_CLASSES, "staff_class")
    if not isinstance(fte_pct, int) or not 1 <= fte_pct <= 100:
        raise InputError("fte_pct must be 1–100 (per cent of a full-time post)", field="fte_pct")
    with transaction(db) as conn:
        acct = security_queries.account(conn, username)
        if acct is None or not acct["active"] or acct["role"] not in policy.STAFF_ROLES:
            raise InputError(f"{username} is not an active staff account", field="username")
        o = conn.execute(select(service_outlet).where(
            service_outlet.c.code == outlet_code)).first()
        if o is None:
            raise InputError(f"no outlet {outlet_code}", field="outlet")
        policy.require_region(actor, o.region)
        if not regions.within(o.region, acct["scope"]):
            raise InputError(f"{username}'s scope {acct['scope']} does not cover the outlet's "
                             f"region {o.region}", field="username")
        open_ = and_(staff_assignment.c.username == username,
                     or_(staff_assignment.c.valid_to.is_(None),
                         staff_assignment.c.valid_to >= valid_from))
        prev = conn.execute(select(staff_assignment.c.id, staff_assignment.c.valid_from)
                            .where(open_)).all()
        if any(p.valid_from >= valid_from for p in prev):
            raise ConflictError(f"{username} already has an assignment from {valid_from} or later")
        if prev:
            conn.execute(update(staff_assignment).where(open_).values(
                valid_to=valid_from - dt.timedelta(days=1)))
        aid = conn.execute(staff_assignment.insert().values(
            username=username, outlet_id=o.id, staff_class=staff_class, is_head=bool(is_head),
            fte_pct=fte_pct, valid_from=valid_from, valid_to=None,
            created_by=actor.id)).inserted_primary_key[0]
        audit.record(conn, actor, "org.staff.assign", "staff_assignment", aid,
                     detail={"username": username, "outlet": outlet_code, "class": staff_class,
                             "head": bool(is_head), "fte_pct": fte_pct,
                             "from": valid_from.isoformat(), "ended": len(prev)})
    return int(aid)


def set_budget(db, actor: Actor, region: str, year: int, amount_fen: int,
               note: str | None = None) -> None:
    """The administration budget of a region for a year (replaces an earlier figure)."""
    policy.require(actor, "org.manage")
    regions.check_region(region)
    policy.require_region(actor, region)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise InputError("amount must be a non-negative number of fen", field="amount")
    if not 2000 <= int(year) <= 2100:
        raise InputError("year out of range", field="year")
    with transaction(db) as conn:
        old = conn.execute(select(admin_budget.c.amount_fen).where(
            admin_budget.c.region == region, admin_budget.c.year == year)).scalar()
        if old is None:
            conn.execute(admin_budget.insert().values(
                region=region, year=year, amount_fen=amount_fen, note=note,
                created_by=actor.id, created_at=now()))
        else:
            conn.execute(update(admin_budget).where(
                admin_budget.c.region == region, admin_budget.c.year == year).values(
                amount_fen=amount_fen, note=note, created_by=actor.id, created_at=now()))
        audit.record(conn, actor, "org.budget.set", "admin_budget", f"{region}/{year}",
                     detail={"old": old, "new": amount_fen})
