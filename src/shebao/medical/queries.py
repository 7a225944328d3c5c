"""Reads of the medical tables for other packages and the channels (plain data back).

Personal reads go through ``access.py`` (scope check, audit); these functions assume it.
"""
from __future__ import annotations

from sqlalchemy import select

from shebao.core.money import fen_to_yuan_str
from shebao.rules.formulas.medical import LEVELS, OFFSITE, PERSON_TYPES

from .tables import (SETTLED_AMOUNTS, medical_claim, medical_offsite_registration,
                     medical_provider, medical_settlement)


def _claim_json(r) -> dict:
    out = {"id": r["id"], "bill_no": r["bill_no"], "provider": r["provider_code"],
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
    return None if r is None else _claim_json(dict(r)) | {"person_id": r["person_id"],
                                                           "provider_id": r["provider_id"]}


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


__all__ = ["person_claims", "claim", "provider_claims", "registrations", "provider_of_account",
           "providers", "claims_sql"]
