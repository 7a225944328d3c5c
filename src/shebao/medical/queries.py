"""Reads of the medical tables for other packages and the channels (plain data back).

Personal reads go through ``access.py`` (scope check, audit); these functions assume it.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select

from shebao.core.money import fen_to_yuan_str
from shebao.rules.formulas.medical import LEVELS, OFFSITE, PERSON_TYPES

from .tables import (SETTLED_AMOUNTS, medical_catalogue_item, medical_claim,
                     medical_claim_line, medical_offsite_registration, medical_provider,
                     medical_settlement)


def _claim_json(r) -> dict:
    out = {"id": r["id"], "person_id": r["person_id"], "bill_no": r["bill_no"], "provider": r["provider_code"],
           "provider_name": r["provider_name"], "kind": "inpatient" if r["inpatient"]
           else "outpatient", "admitted_on": r["admitted_on"].isoformat()
           if hasattr(r["admitted_on"], "isoformat") else str(r["admitted_on"]),
           "status": r["status"], "channel": r["channel"], "scheme": r["scheme"],
           "insured_region": r["insured_region"], "treatment_region": r["treatment_region"],
           "person_type": PERSON_TYPES[r["person_type"]], "level": LEVELS[r["level"]],
           "offsite": OFFSITE[r["offsite"]], "case_id": r["case_id"]}
    for a in SETTLED_AMOUNTS:
        v = r.get(a)
        out[a[:-4]] = None if v is None else fen_to_yuan_str(int(v))
    # what insurance paid (fund, serious-illness layer, account); the rest is the person's cash
    paid = [r.get(a) for a in ("basic_fen", "serious_fen", "account_fen")]
    out["insurance_paid"] = None if paid[0] is None else fen_to_yuan_str(sum(map(int, paid)))
    return out


def _claims_stmt():
    s, c, p = medical_settlement, medical_claim, medical_provider
    return select(c, p.c.code.label("provider_code"), p.c.name.label("provider_name"),
                  *[s.c[a] for a in SETTLED_AMOUNTS if a != "total_fen"]).select_from(
        c.join(p, p.c.id == c.c.provider_id).outerjoin(s, s.c.claim_id == c.c.id))


def person_claims(bind, person_id: int, *, limit: int = 100) -> list[dict]:
    rows = bind.execute(_claims_stmt().where(medical_claim.c.person_id == person_id)
                        .order_by(medical_claim.c.admitted_on.desc(), medical_claim.c.id.desc())
                        .limit(limit)).mappings().all()
    return [_claim_json(dict(r)) for r in rows]


def claim(bind, claim_id: int) -> dict | None:
    r = bind.execute(_claims_stmt().where(medical_claim.c.id == claim_id)).mappings().first()
    return None if r is None else _claim_json(dict(r)) | {"provider_id": r["provider_id"]}


def claim_of_case(bind, case_id: int) -> dict | None:
    """The claim a manual reimbursement case holds (``None``: not a manual claim's case)."""
    cid = bind.execute(select(medical_claim.c.id).where(
        medical_claim.c.case_id == case_id)).scalar()
    return None if cid is None else claim(bind, cid)


def claims_of_cases(bind, case_ids) -> dict[int, dict]:
    """case id → its claim, for a list of manual-claim cases (one query)."""
    ids = [int(i) for i in case_ids]
    if not ids:
        return {}
    rows = bind.execute(_claims_stmt().where(medical_claim.c.case_id.in_(ids))).mappings().all()
    return {int(r["case_id"]): _claim_json(dict(r)) for r in rows}


def claim_lines(bind, claim_id: int) -> list[dict]:
    """The bill's lines with the catalogue item each matched at the place of treatment on the
    admission date (class A / B / C, or ``unlisted``: paid by the person) — the same match as
    the settlement's."""
    return lines_of_claims(bind, [claim_id]).get(claim_id, [])


def lines_of_claims(bind, claim_ids) -> dict[int, list[dict]]:
    """claim id → its lines (as ``claim_lines``), for several claims in one query."""
    ids = [int(i) for i in claim_ids]
    if not ids:
        return {}
    ln, m, cat = medical_claim_line, medical_claim, medical_catalogue_item
    rows = bind.execute(
        select(ln.c.claim_id, ln.c.line_no, ln.c.item_code, ln.c.amount_fen, cat.c.name,
               cat.c.kind, cat.c["class"].label("cls"))
        .select_from(ln.join(m, m.c.id == ln.c.claim_id).outerjoin(cat, and_(
            cat.c.region == m.c.catalogue_region, cat.c.code == ln.c.item_code,
            cat.c.valid_from <= m.c.admitted_on,
            or_(cat.c.valid_to.is_(None), cat.c.valid_to >= m.c.admitted_on))))
        .where(ln.c.claim_id.in_(ids)).order_by(ln.c.claim_id, ln.c.line_no)).mappings().all()
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(int(r["claim_id"]), []).append({
            "line_no": r["line_no"], "item_code": r["item_code"],
            "amount": fen_to_yuan_str(int(r["amount_fen"])), "name": r["name"],
            "kind": r["kind"], "class": r["cls"] or "unlisted"})
    return out


def provider(bind, code: str) -> dict | None:
    r = bind.execute(select(medical_provider).where(
        medical_provider.c.code == code)).mappings().first()
    return None if r is None else dict(r)


def provider_claims(bind, provider_id: int, *, limit: int = 100) -> list[dict]:
    rows = bind.execute(_claims_stmt().where(medical_claim.c.provider_id == provider_id)
                        .order_by(medical_claim.c.id.desc()).limit(limit)).mappings().all()
    return [_claim_json(dict(r)) for r in rows]


def registrations(bind, person_id: int) -> list[dict]:
    r_ = medical_offsite_registration
    rows = bind.execute(select(r_).where(r_.c.person_id == person_id)
                        .order_by(r_.c.valid_from.desc())).mappings().all()
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()
             if k not in ("created_by",)} for r in rows]


def provider_of_account(bind, username: str) -> dict | None:
    r = bind.execute(select(medical_provider).where(
        medical_provider.c.account == username)).mappings().first()
    return None if r is None else dict(r)


def providers(bind, region_like: str = "%") -> list[dict]:
    rows = bind.execute(select(medical_provider).where(
        medical_provider.c.region.like(region_like)).order_by(medical_provider.c.code)
    ).mappings().all()
    return [dict(r) for r in rows]


# A derived table for the supervision bureau's set-based monitoring rules (#14):
# ``FROM ({claims_sql()}) mc …``; the medical package writes every line of SQL about its tables.
def claims_sql() -> str:
    """``(claim_id, provider_id, person_id, insured_region, inpatient, admitted_on,
    discharged_on, total_fen, status)`` of every claim not rejected."""
    return ("SELECT id AS claim_id, provider_id, person_id, insured_region, inpatient, "
            "admitted_on, discharged_on, total_fen, status FROM medical_claim "
            "WHERE status <> 'rejected'")


__all__ = ["person_claims", "claim", "claim_of_case", "claims_of_cases", "claim_lines",
           "lines_of_claims",
           "provider", "provider_claims", "registrations", "provider_of_account",
           "providers", "claims_sql"]
