"""Designated providers (定点医药机构), their agreements, and the drug/treatment catalogue.

Each function is one use case: one transaction, one audit record. The catalogue is data: a CSV
of ``code,name,kind,class,valid_from[,valid_to]`` rows for a region (class A 甲 / B 乙 / C 丙);
loading a new version of an item closes the open one the day before.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import and_, insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.regions import check_region
from shebao.db.uow import now, transaction
from shebao.security import audit, policy

from . import model
from .tables import medical_catalogue_item as cat
from .tables import medical_contract, medical_provider


def _scoped(actor: Actor, permission: str, region: str) -> None:
    policy.require(actor, permission)
    if not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope")


def register_provider(bind, actor: Actor, *, code: str, name: str, region: str, kind: str,
                      level: str, networked: bool = True, account: str | None = None) -> int:
    """A designated provider; ``account``: the username of its ``provider`` login."""
    check_region(region)
    model.check_choice(kind, model.PROVIDER_KINDS, "kind")
    model.check_level(level)
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InputError("a provider needs a name of at most 200 characters", field="name")
    code = model._code(code, "code")
    _scoped(actor, "medical.provider.manage", region)
    with transaction(bind) as conn:
        if conn.execute(select(medical_provider.c.id).where(
                medical_provider.c.code == code)).first():
            raise ConflictError(f"provider code {code} is taken")
        pid = conn.execute(insert(medical_provider).values(
            code=code, name=name.strip(), region=region, kind=kind, level=level,
            networked=bool(networked), status="active", account=account, created_at=now())
            .returning(medical_provider.c.id)).scalar_one()
        audit.record(conn, actor, "medical.provider.register", "medical_provider", pid,
                     detail={"code": code, "region": region, "level": level, "kind": kind})
    return pid


def sign_contract(bind, actor: Actor, *, provider_id: int, number: str, valid_from: dt.date,
                  valid_to: dt.date | None = None) -> int:
    number = model._code(number, "number")
    if valid_to is not None and valid_to < valid_from:
        raise InputError("the agreement ends before it starts", field="valid_to")
    with transaction(bind) as conn:
        prov = conn.execute(select(medical_provider).where(
            medical_provider.c.id == provider_id)).mappings().first()
        if prov is None:
            raise InputError(f"no provider {provider_id}", field="provider_id")
        _scoped(actor, "medical.provider.manage", prov["region"])
        if conn.execute(select(medical_contract.c.id).where(
                medical_contract.c.number == number)).first():
            raise ConflictError(f"agreement {number} exists")
        cid = conn.execute(insert(medical_contract).values(
            provider_id=provider_id, number=number, valid_from=valid_from, valid_to=valid_to,
            status="active", created_by=actor.id, created_at=now())
            .returning(medical_contract.c.id)).scalar_one()
        audit.record(conn, actor, "medical.contract.sign", "medical_provider", provider_id,
                     detail={"contract": cid, "number": number, "from": str(valid_from),
                             "to": str(valid_to) if valid_to else None})
    return cid


def _rows(text: str):
    reader = csv.DictReader(io.StringIO(text))
    need = {"code", "name", "kind", "class", "valid_from"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise InputError(f"the catalogue needs the columns {', '.join(sorted(need))}",
                         field="header")
    for i, r in enumerate(reader, 2):
        try:
            start = dt.date.fromisoformat((r.get("valid_from") or "").strip())
            end = (dt.date.fromisoformat(r["valid_to"].strip())
                   if (r.get("valid_to") or "").strip() else None)
        except ValueError:
            raise InputError("dates must be YYYY-MM-DD", field="valid_from", row=i) from None
        if end is not None and end < start:
            raise InputError("valid_to before valid_from", field="valid_to", row=i)
        yield {"code": model._code((r["code"] or "").strip(), "code", i),
               "name": (r["name"] or "").strip()[:200] or "-",
               "kind": model.check_choice((r["kind"] or "").strip(), model.ITEM_KINDS, "kind"),
               "class": model.check_class((r["class"] or "").strip(), i),
               "valid_from": start, "valid_to": end}


def load_catalogue(bind, actor: Actor, region: str, text: str) -> int:
    """Load catalogue rows for ``region`` (all or nothing); returns the rows written."""
    check_region(region)
    _scoped(actor, "medical.catalogue.manage", region)
    rows = list(_rows(text))
    codes = [r["code"] for r in rows]
    if len(set(zip(codes, (r["valid_from"] for r in rows)))) != len(rows):
        raise InputError("an item appears twice with the same valid_from", field="code")
    with transaction(bind) as conn:
        for r in sorted(rows, key=lambda r: r["valid_from"]):   # close the open version
            conn.execute(update(cat).where(and_(
                cat.c.region == region, cat.c.code == r["code"], cat.c.valid_to.is_(None),
                cat.c.valid_from < r["valid_from"])).values(
                valid_to=r["valid_from"] - dt.timedelta(days=1)))
        if rows:
            conn.execute(insert(cat), [dict(r, region=region) for r in rows])
        audit.record(conn, actor, "medical.catalogue.load", "region", region,
                     detail={"rows": len(rows)})
    return len(rows)


__all__ = ["register_provider", "sign_contract", "load_catalogue"]
