"""API: medical insurance (#16). A designated provider submits itemised bills and lists its own
claims; the citizen sees their claims, medical account balance and off-site registrations and
registers off-site care; clerks settle, and decide and check manual reimbursement claims."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.medical import access, claims, manual, offsite, settle

from ..deps import current_actor, engine, purpose
from .params import PathId

router = APIRouter()
Money = Field(pattern=r"^\d{1,9}(\.\d{1,2})?$")


class LineIn(BaseModel):
    item_code: str = Field(min_length=1, max_length=40)
    amount: str = Money


class ClaimIn(BaseModel):
    provider: str = Field(min_length=1, max_length=32)
    bill_no: str = Field(min_length=1, max_length=40)
    citizen_id: str | None = Field(None, max_length=18)
    person_id: int | None = Field(None, ge=1, le=2 ** 62)
    kind: Literal["inpatient", "outpatient"] = "inpatient"
    admitted_on: dt.date
    discharged_on: dt.date | None = None
    treatment_region: str | None = Field(None, pattern=r"^\d{6}$")
    emergency: bool = False
    retired: bool = False
    use_account: bool = False
    lines: list[LineIn] = Field(min_length=1, max_length=2000)


def _claim_dict(body: ClaimIn) -> dict:
    d = body.model_dump()
    d["admitted_on"] = body.admitted_on.isoformat()
    d["discharged_on"] = body.discharged_on.isoformat() if body.discharged_on else None
    return d


@router.post("/medical/claims", status_code=201, tags=["medical"],
             summary="A designated provider submits an itemised bill (duplicates refused: 409)")
def submit(body: ClaimIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return {"claim_id": claims.submit_claim(eng, actor, _claim_dict(body), channel="api"),
            "status": "submitted"}


@router.get("/medical/claims", tags=["medical"], summary="The provider's own claims")
def provider_claims(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return access.provider_claim_list(eng, actor)


@router.get("/me/medical", tags=["medical"],
            summary="My claims, medical account balance and off-site registrations (citizen)")
def mine(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if actor.role != "citizen":
        raise PermissionDenied("only a citizen has a medical record of their own")
    out = access.person_medical(eng, actor, actor.person_id, "citizen portal: medical")
    out["account_balance"] = fen_to_yuan_str(out.pop("account_balance_fen"))
    return out


@router.get("/persons/{person_id}/medical", tags=["medical"],
            summary="A person's claims, account balance and registrations (staff, audited)")
def person(person_id: PathId, actor: Actor = Depends(current_actor),
           why: str | None = Depends(purpose), eng=Depends(engine)):
    out = access.person_medical(eng, actor, person_id, why or "medical record read")
    out["account_balance"] = fen_to_yuan_str(out.pop("account_balance_fen"))
    return out


class OffsiteIn(BaseModel):
    person_id: int | None = Field(None, ge=1, le=2 ** 62)
    treatment_region: str = Field(pattern=r"^\d{6}$")
    category: Literal["long_term", "referral", "emergency", "temporary_other"]
    subtype: str = Field(min_length=1, max_length=30)
    valid_from: dt.date


@router.post("/medical/offsite-registrations", status_code=201, tags=["medical"],
             summary="Register off-site care (the citizen for themself, or a clerk)")
def register_offsite(body: OffsiteIn, actor: Actor = Depends(current_actor),
                     eng=Depends(engine)):
    pid = actor.person_id if actor.role == "citizen" else body.person_id
    if pid is None:
        raise InputError("person_id is required", field="person_id")
    return offsite.register(eng, actor, person_id=pid, treatment_region=body.treatment_region,
                            category=body.category, subtype=body.subtype,
                            valid_from=body.valid_from,
                            channel="online" if actor.role == "citizen" else "counter")


@router.post("/medical/manual-claims", status_code=201, tags=["medical"],
             summary="A manual reimbursement claim (a 30-working-day case)")
def open_manual(body: ClaimIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    d = _claim_dict(body)
    if actor.role == "citizen":
        d["person_id"] = actor.person_id
    return manual.open_manual_claim(eng, actor, d,
                                    channel="online" if actor.role == "citizen" else "counter")


class DecisionIn(BaseModel):
    outcome: Literal["granted", "refused"]
    reason: str | None = Field(None, max_length=500)


@router.post("/medical/manual-claims/{case_id}/decision", tags=["medical"],
             summary="Clerk: propose the decision (a second clerk checks it)")
def decide(case_id: PathId, body: DecisionIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    return {"approval_id": manual.propose(eng, actor, case_id, body.outcome, body.reason)}


@router.post("/medical/manual-claims/{case_id}/approve", tags=["medical"],
             summary="Second clerk: the decision takes effect; a granted claim is settled")
def approve(case_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return manual.approve(eng, actor, case_id)


class SettleIn(BaseModel):
    region: str = Field(pattern=r"^\d{6}$")


@router.post("/medical/settlements", tags=["medical"],
             summary="Clerk: settle every submitted claim of the region subtree")
def run_settlement(body: SettleIn, actor: Actor = Depends(current_actor),
                   eng=Depends(engine)):
    return settle.settle(eng, actor, body.region)
