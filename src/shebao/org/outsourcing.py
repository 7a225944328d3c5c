"""Outsourcing (政府购买服务): providers, their contracts for catalogue items (access criteria,
price per case, quality targets), the performance measured from their cases and ratings, and
exit (a contract ended early; a provider with no contract left exits). A provider's cases are
the cases taken in at its outlets (``service_outlet.provider_id``)."""
from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

from sqlalchemy import select, update

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.db.uow import now, reading, transaction
from shebao.security import audit, policy

from . import model
from .service import _name
from .tables import outsourcing_contract, provider, service_outlet


def add_provider(db, actor: Actor, code: str, name: str, region: str) -> int:
    policy.require(actor, "org.manage")
    regions.check_region(region)
    policy.require_region(actor, region)
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not code.isalnum():
        raise InputError("provider code (USCC): 1–32 letters and digits", field="code")
    with transaction(db) as conn:
        if conn.execute(select(provider.c.id).where(provider.c.code == code)).first():
            raise ConflictError(f"provider {code} exists")
        pid = conn.execute(provider.insert().values(
            code=code, name=_name(name), region=region, status="active",
            created_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "org.provider.add", "provider", pid, detail={"code": code})
    return int(pid)


def add_contract(db, actor: Actor, provider_id: int, item: str, region: str, *,
                 valid_from: dt.date, valid_to: dt.date, price_fen: int,
                 access_criteria: list[str], target_on_time_pct: int,
                 target_rating_x100: int) -> int:
    """A contract for one catalogue item in a region. The item must be in the catalogue;
    the provider must be active and meet the access criteria (listed, each a non-empty
    statement the contracting officer confirmed)."""
    policy.require(actor, "org.manage")
    regions.check_region(region)
    policy.require_region(actor, region)
    if valid_to < valid_from:
        raise InputError("the contract ends before it starts", field="valid_to")
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen < 0:
        raise InputError("price must be a non-negative number of fen", field="price")
    if not 0 <= int(target_on_time_pct) <= 100:
        raise InputError("on-time target must be 0–100 %", field="target_on_time_pct")
    if not 100 <= int(target_rating_x100) <= 500:
        raise InputError("rating target must be 1.00–5.00", field="target_rating")
    crit = [c.strip() for c in access_criteria if c and c.strip()]
    if not crit:
        raise InputError("name at least one access criterion the provider meets",
                         field="access_criteria")
    catalogue.item(item, region, valid_from)   # refuses an unknown item
    with transaction(db) as conn:
        p = conn.execute(select(provider).where(provider.c.id == provider_id)).first()
        if p is None or p.status != "active":
            raise InputError(f"no active provider {provider_id}", field="provider_id")
        cid = conn.execute(outsourcing_contract.insert().values(
            provider_id=provider_id, item=item, region=region, valid_from=valid_from,
            valid_to=valid_to, price_fen=price_fen,
            access_criteria=json.dumps(crit, ensure_ascii=False),
            target_on_time_pct=int(target_on_time_pct),
            target_rating_x100=int(target_rating_x100), status="active",
            created_by=actor.id, created_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "org.contract.add", "outsourcing_contract", cid,
                     detail={"provider_id": provider_id, "item": item, "region": region,
                             "price_fen": price_fen})
    return int(cid)


def end_contract(db, actor: Actor, contract_id: int, on: dt.date, reason: str) -> None:
    """Exit: end a contract early (or at term) with the reason; when the provider has no
    active contract left it exits and its outlets close."""
    policy.require(actor, "org.manage")
    if not (reason or "").strip():
        raise InputError("give the reason for ending the contract", field="reason")
    with transaction(db) as conn:
        c = conn.execute(select(outsourcing_contract).where(
            outsourcing_contract.c.id == contract_id)).first()
        if c is None:
            raise InputError(f"no contract {contract_id}", field="contract_id")
        policy.require_region(actor, c.region)
        if c.status != "active":
            raise ConflictError(f"contract {contract_id} has already ended")
        conn.execute(update(outsourcing_contract).where(
            outsourcing_contract.c.id == contract_id).values(
            status="ended", ended_on=on, end_reason=reason.strip()[:200]))
        left = conn.execute(select(outsourcing_contract.c.id).where(
            outsourcing_contract.c.provider_id == c.provider_id,
            outsourcing_contract.c.status == "active")).first()
        if left is None:
            conn.execute(update(provider).where(provider.c.id == c.provider_id).values(
                status="exited", exited_on=on, exit_reason=reason.strip()[:200]))
            conn.execute(update(service_outlet).where(
                service_outlet.c.provider_id == c.provider_id).values(active=False))
        audit.record(conn, actor, "org.contract.end", "outsourcing_contract", contract_id,
                     detail={"on": on.isoformat(), "reason": reason.strip()[:200],
                             "provider_exited": left is None})


def performance(bind, actor: Actor, contract_id: int, date_from: dt.date,
                date_to: dt.date) -> dict:
    """The contract's measured performance over a period: cases of its item decided at the
    provider's outlets, on time, mean rating, cost (decided × price), and missed targets."""
    policy.require(actor, "org.read")
    with reading(bind) as conn:
        c = conn.execute(select(outsourcing_contract).where(
            outsourcing_contract.c.id == contract_id)).first()
        if c is None:
            raise InputError(f"no contract {contract_id}", field="contract_id")
        policy.require_region(actor, c.region)
        outlet_codes = set(conn.execute(select(service_outlet.c.code).where(
            service_outlet.c.provider_id == c.provider_id)).scalars())
        rows = case_queries.on_time(conn, date_from, date_to, region=c.region)
    decided = on_time = 0
    rating_sum, rated = Fraction(0), 0
    for r in rows:
        if r.item != c.item or r.outlet not in outlet_codes:
            continue
        decided += r.decided
        on_time += r.on_time
        if r.mean_rating is not None and r.ratings:
            # the mean of the outlet's ratings back to their sum (whole scores 1–5)
            rating_sum += round(Fraction(r.mean_rating) * r.ratings)
            rated += r.ratings
    perf = model.Performance(decided, on_time, rating_sum / rated if rated else None,
                             int(c.price_fen))
    return {"contract_id": contract_id, "item": c.item, "region": c.region,
            "decided": decided, "on_time": on_time,
            "on_time_pct": model.show(perf.on_time_pct, 1) if decided else None,
            "mean_rating": model.show(perf.mean_rating) if rated else None,
            "cost_fen": perf.cost_fen, "outlets": sorted(outlet_codes),
            "breaches": model.breaches(perf, c.target_on_time_pct, c.target_rating_x100)}
