"""Universal registration and the yearly resident enrolment campaign.

``uninsured``: the registry's living persons of a region (residence, else hukou) without a
pension or medical enrolment in force, counted by region and age group
(``resident.uninsured_age_groups``) — the work list of 全民参保登记.

``open_campaign``: the campaign of a region for insurance year Y: the window in Y−1
(``resident.enrolment_window``), the year's individual resident medical contribution and the
fiscal subsidy per person (``resident.medical_contribution``), kept with their references.

``sign_up``: inside the window, a resident or student enrols for Y: resident medical (from
1 January of Y) and, for residents, the resident pension with a tier (``resident.pension_tiers``;
its subsidy from ``resident.pension_subsidy``). Enrolments go through collection's enrolment
(the registry's record and the individual account at once), the tier through collection's
declaration, so collection assesses and bills both like any other
contribution. ``post_subsidies``: the campaign's subsidies to the ledger — medical subsidies to
the resident medical pooled fund, pension subsidies to each person's resident pension account:

    Dr fund_bank (fiscal transfer)   Cr pooled_fund (medical) / Cr individual (pension)
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
from sqlalchemy import insert, select, update

from shebao.collection import declarations, enrolment
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import to_fen
from shebao.core.regions import check_region
from shebao.db.uow import now, transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.registry import queries as registry
from shebao.registry.queries_coverage import coverage_matrix
from shebao.rules.formulas import resident as R
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import model, queries
from .tables import resident_campaign, resident_signup


def _like(region: str) -> str:
    return region[:2] + "%" if region[2:] == "0000" else (
        region[:4] + "%" if region[4:] == "00" else region)


def _scoped(actor: Actor, permission: str, region: str) -> None:
    policy.require(actor, permission)
    if actor.role != "citizen" and not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope")


def uninsured(bind, actor: Actor, region: str, on: dt.date) -> list[dict]:
    return registration_table(bind, actor, region, on)


def registration_table(bind, actor: Actor, region: str, on: dt.date,
                       year: int | None = None) -> list[dict]:
    """The universal-registration list by region × age group: people, uninsured for pension,
    for medical, for both; with the campaign year ``year`` also how many signed up for it
    (``enrolled``) — the campaign's work sheet."""
    check_region(region)
    _scoped(actor, "residents.read", region)
    bounds = load_rules().value("resident.uninsured_age_groups", region, on)["bounds"]
    with transaction(bind) as conn:
        signed = None
        if year is not None:
            ids = [c["id"] for c in queries.campaigns(conn, _like(region)) if c["year"] == year]
            signed = np.array(queries.signed_up_persons(conn, ids), np.int64)
        rows = model.uninsured_table(coverage_matrix(conn, _like(region), on), on,
                                     [int(b) for b in bounds], signed)
        audit.record(conn, actor, "residents.uninsured.list", "region", region,
                     detail={"on": on.isoformat(), "year": year, "groups": len(rows),
                             "uninsured": sum(r["uninsured"] for r in rows)})
    return rows


def campaign_list(bind, actor: Actor, region: str) -> list[dict]:
    """The campaigns of a region subtree with their windows and sign-up counts (aggregates:
    no person is shown)."""
    check_region(region)
    _scoped(actor, "residents.read", region)
    with transaction(bind) as conn:
        return queries.campaigns(conn, _like(region))


def open_campaign(bind, actor: Actor, region: str, year: int) -> int:
    check_region(region)
    _scoped(actor, "residents.campaign", region)
    rules = load_rules()
    jan1 = dt.date(year, 1, 1)
    w = rules.lookup("resident.enrolment_window", region, jan1)
    mc = rules.lookup("resident.medical_contribution", region, jan1)
    opens, closes = model.window(year, w.value)
    with transaction(bind) as conn:
        if conn.execute(select(resident_campaign.c.id).where(
                resident_campaign.c.region == region, resident_campaign.c.year == year)).first():
            raise ConflictError(f"the {year} campaign of {region} exists")
        cid = conn.execute(insert(resident_campaign).values(
            region=region, year=year, opens_on=opens, closes_on=closes,
            medical_individual_fen=to_fen(Decimal(mc.value["individual"])),
            medical_subsidy_fen=to_fen(Decimal(mc.value["subsidy"])), status="open",
            sources=json.dumps([w.as_json(), mc.as_json()], ensure_ascii=False, default=str),
            created_by=actor.id, created_at=now())
            .returning(resident_campaign.c.id)).scalar_one()
        audit.record(conn, actor, "residents.campaign.open", "region", region,
                     detail={"campaign": cid, "year": year, "opens": str(opens),
                             "closes": str(closes)})
    return cid


def _campaign(conn, campaign_id: int) -> dict:
    c = conn.execute(select(resident_campaign).where(
        resident_campaign.c.id == campaign_id)).mappings().first()
    if c is None:
        raise InputError(f"no campaign {campaign_id}", field="campaign")
    return dict(c)


def sign_up(bind, actor: Actor, *, campaign_id: int, person_id: int, kind: str = "resident",
            medical: bool = True, pension_tier: int = 0, on: dt.date | None = None) -> int:
    if kind not in model.KINDS:
        raise InputError(f"kind must be one of {', '.join(model.KINDS)}", field="kind")
    if kind == "student" and pension_tier:
        raise InputError("students join resident medical only", field="pension_tier")
    if not medical and not pension_tier:
        raise InputError("choose resident medical, a pension tier, or both", field="medical")
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen signs up only themselves")
    rules = load_rules()
    with transaction(bind) as conn:
        c = _campaign(conn, campaign_id)
        _scoped(actor, "residents.enrol", c["region"])
        on = on or now().date()
        if c["status"] != "open" or not c["opens_on"] <= on <= c["closes_on"]:
            raise InputError(f"the {c['year']} campaign takes sign-ups from {c['opens_on']} to "
                             f"{c['closes_on']}", field="on")
        start = dt.date(c["year"], 1, 1)
        for k in ("employee", "flexible"):
            if registry.enrolment_region(conn, person_id, k, "medical", start):
                raise InputError("the person has employee medical insurance",
                                 field="person_id")
        if medical and not registry.enrolment_region(conn, person_id, kind,
                                                     "resident_medical", start):
            enrolment.enrol(conn, actor if actor.role != "citizen" else _system(),
                                   person_id, "resident_medical", c["region"], kind, start)
        subsidy = 0
        if pension_tier:
            if not registry.enrolment_region(conn, person_id, "resident", "resident_pension",
                                             start):
                enrolment.enrol(conn, actor if actor.role != "citizen" else _system(),
                                       person_id, "resident_pension", c["region"], "resident",
                                       start)
            declarations.choose_resident_tier(conn, actor, person_id=person_id,
                                              year=c["year"], tier_yuan=int(pension_tier))
            subsidy = R.subsidy_fen(rules, c["region"], start, int(pension_tier) * 100)
        sid = conn.execute(insert(resident_signup).values(
            campaign_id=campaign_id, person_id=person_id, kind=kind, medical=int(medical),
            pension_tier_fen=int(pension_tier) * 100, pension_subsidy_fen=subsidy,
            medical_subsidy_fen=c["medical_subsidy_fen"] if medical else 0, signed_on=on,
            created_by=actor.id).returning(resident_signup.c.id)).scalar_one()
        audit.record(conn, actor, "residents.sign_up", "person", person_id,
                     detail={"campaign": campaign_id, "kind": kind, "medical": medical,
                             "pension_tier": int(pension_tier)})
    return sid


def _system() -> Actor:
    from shebao.core.actor import SYSTEM
    return SYSTEM


def post_subsidies(bind, actor: Actor, campaign_id: int) -> dict:
    """Close the campaign and book its subsidies (once: the ledger key is the campaign's)."""
    with transaction(bind) as conn:
        c = _campaign(conn, campaign_id)
        _scoped(actor, "residents.campaign", c["region"])
        rows = conn.execute(select(resident_signup.c.person_id,
                                   resident_signup.c.pension_subsidy_fen,
                                   resident_signup.c.medical_subsidy_fen).where(
            resident_signup.c.campaign_id == campaign_id)).all()
        region, day = c["region"], dt.date(c["year"], 1, 1)
        med = sum(int(r[2]) for r in rows)
        pids = np.array([r[0] for r in rows if r[1]], np.int64)
        amts = np.array([-int(r[1]) for r in rows if r[1]], np.int64)
        entries = []
        if med:
            entries.append(BatchEntry(region, "resident_medical", day, (
                Line.debit(account_code(region, "resident_medical", "fund_bank"), med),
                Line.credit(account_code(region, "resident_medical", "pooled_fund"), med)),
                source="residents.subsidy", memo=f"campaign {campaign_id} medical subsidy"))
        if len(pids):
            entries.append(BatchEntry(region, "resident_pension", day, (Line.debit(
                account_code(region, "resident_pension", "fund_bank"), int(-amts.sum())),),
                pids, amts, source="residents.subsidy",
                memo=f"campaign {campaign_id} pension subsidy"))
        if entries:
            ledger.open_chart(conn, actor, region, ("resident_medical", "resident_pension"))
            ledger.post_batch(conn, actor, f"resident-subsidy:{campaign_id}", Batch(entries),
                              open_missing=True)
        conn.execute(update(resident_campaign).where(resident_campaign.c.id == campaign_id)
                     .values(status="closed"))
        out = {"signups": len(rows), "medical_subsidy_fen": med,
               "pension_subsidy_fen": int(-amts.sum()) if len(amts) else 0}
        audit.record(conn, actor, "residents.campaign.subsidies", "region", region,
                     detail={"campaign": campaign_id, **out})
    return out


__all__ = ["uninsured", "registration_table", "campaign_list", "open_campaign", "sign_up", "post_subsidies"]
