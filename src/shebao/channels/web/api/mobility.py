"""API: relation transfers (the citizen applies and follows; the clerks of both ends work their
steps), living certification (the pensioner certifies; clerks run the month) and the policy
comparison. Moving funds takes Idempotency-Key."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.sharing.mobility_link import COURIER
from shebao.mobility import access, certification, compare, queries, transfers

from .. import idempotency
from ..deps import current_actor, engine, purpose
from .params import IdemKey, Month, PathId

router = APIRouter()
Region = Annotated[str, Field(pattern=r"^\d{6}$")]


class Step(BaseModel):
    step: str
    region: str
    started_on: dt.date
    due_on: dt.date
    limit_days: int
    done_on: dt.date | None
    done_by: str | None
    outcome: str | None


class TransferOut(BaseModel):
    id: int
    kind: str
    person_id: int
    from_region: str
    to_region: str
    status: str
    channel: str
    temporary: bool
    applied_on: dt.date
    account: str | None
    pooled: str | None
    months: int | None
    case_in_id: int | None
    case_out_id: int | None
    reason: str | None
    steps: list[Step]


class TransferIn(BaseModel):
    kind: Literal["pension", "medical", "bridge"] = "pension"
    person_id: int | None = Field(None, ge=1, le=2 ** 62)
    to_region: Region
    from_region: Region | None = None


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class PrepareIn(BaseModel):
    months: int | None = Field(None, ge=0, le=1200)


class CertifyIn(BaseModel):
    person_id: int | None = Field(None, ge=1, le=2 ** 62)
    on: dt.date | None = None
    method: Literal["portal", "e_card", "face", "counter", "home_visit"] = "portal"


class RunIn(BaseModel):
    region: Region
    month: Month


def _yuan(v):
    from shebao.core.money import fen_to_yuan_str
    return None if v is None else fen_to_yuan_str(v)


def transfer_json(t: dict) -> dict:
    return {**{k: t[k] for k in ("id", "kind", "person_id", "from_region", "to_region", "status",
                                 "channel", "temporary", "applied_on", "months", "case_in_id",
                                 "case_out_id", "reason")},
            "account": _yuan(t["account_fen"]), "pooled": _yuan(t["pooled_fen"]),
            "steps": [{k: s[k] for k in Step.model_fields} for s in t["steps"]]}


def _tid(v: int) -> int:
    if v < 1 or v > 2 ** 62:
        raise InputError("not a valid id", field="transfer_id")
    return v


def _show(eng, actor, tid, why) -> dict:
    return transfer_json(access.access_transfer(eng, actor, tid, why))


@router.post("/transfers", response_model=TransferOut, status_code=201, tags=["mobility"],
             summary="Apply for a transfer at the new place (the citizen for themself, or a "
                     "clerk of the new place)")
def apply(body: TransferIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    pid = body.person_id if actor.role != "citizen" else (body.person_id or actor.person_id)
    if pid is None:
        raise InputError("person_id is required", field="person_id")
    channel = "online" if actor.role == "citizen" else "api"
    tid = transfers.apply(eng, actor, kind=body.kind, person_id=pid, to_region=body.to_region,
                          from_region=body.from_region, channel=channel, courier=COURIER)
    return _show(eng, actor, tid, "transfer applied")


@router.get("/transfers/mine", response_model=list[TransferOut], tags=["mobility"],
            summary="My transfers and their steps (citizen)")
def mine(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if actor.role != "citizen":
        raise PermissionDenied("only a citizen has transfers of their own")
    return [transfer_json(t) for t in queries.transfers_of(eng, actor, actor.person_id)]


@router.get("/transfers/queue", tags=["mobility"],
            summary="Open steps my region must act on, soonest due first (clerks of both ends)")
def queue(limit: Annotated[int, Query(ge=1, le=500)] = 100,
          actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return [{**{k: r[k] for k in ("transfer_id", "step", "region", "started_on", "due_on",
                                  "limit_days", "kind", "person_id", "from_region", "to_region",
                                  "status", "overdue")}}
            for r in queries.work_queue(eng, actor, limit=limit)]


@router.get("/transfers/{transfer_id}", response_model=TransferOut, tags=["mobility"],
            summary="One transfer with its steps (audited read)")
def get_transfer(transfer_id: PathId, actor: Actor = Depends(current_actor),
                 why: str | None = Depends(purpose), eng=Depends(engine)):
    return _show(eng, actor, _tid(transfer_id), why or "transfer read")


@router.post("/transfers/{transfer_id}/contact-letter", response_model=TransferOut,
             tags=["mobility"], summary="New place: send the contact letter")
def contact_letter(transfer_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    transfers.send_contact_letter(eng, actor, _tid(transfer_id), courier=COURIER)
    return _show(eng, actor, transfer_id, "contact letter")


@router.post("/transfers/{transfer_id}/prepare-out", response_model=TransferOut,
             tags=["mobility"], summary="Old place: the information sheet, for a second check "
                                        "(maker)")
def prepare_out(transfer_id: PathId, body: PrepareIn, actor: Actor = Depends(current_actor),
                eng=Depends(engine)):
    transfers.request_transfer_out(eng, actor, _tid(transfer_id), months=body.months)
    return _show(eng, actor, transfer_id, "transfer out prepared")


@router.post("/transfers/{transfer_id}/approve-out", response_model=TransferOut,
             tags=["mobility"], summary="Old place, checker: the funds leave; needs "
                                        "Idempotency-Key")
def approve_out(request: Request, transfer_id: PathId, idempotency_key: IdemKey = None,
                actor: Actor = Depends(current_actor), eng=Depends(engine)):
    _tid(transfer_id)

    def do():
        transfers.approve_transfer_out(eng, actor, transfer_id, courier=COURIER)
        return _show(eng, actor, transfer_id, "transfer out approved")
    return idempotency.run(request, actor.id, idempotency_key, {"transfer_id": transfer_id}, do)


@router.post("/transfers/{transfer_id}/record-in", response_model=TransferOut,
             tags=["mobility"], summary="New place: record the history and the funds; needs "
                                        "Idempotency-Key")
def record_in(request: Request, transfer_id: PathId, idempotency_key: IdemKey = None,
              gap_months: Annotated[int | None, Query(ge=0, le=1200)] = None,
              actor: Actor = Depends(current_actor), eng=Depends(engine)):
    _tid(transfer_id)

    def do():
        transfers.record_in(eng, actor, transfer_id, gap_months=gap_months, courier=COURIER)
        return _show(eng, actor, transfer_id, "transfer recorded")
    return idempotency.run(request, actor.id, idempotency_key,
                           {"transfer_id": transfer_id, "gap_months": gap_months}, do)


@router.post("/transfers/{transfer_id}/refuse", response_model=TransferOut, tags=["mobility"],
             summary="The side whose step is open refuses, with reasons")
def refuse(transfer_id: PathId, body: ReasonIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    transfers.refuse(eng, actor, _tid(transfer_id), body.reason, courier=COURIER)
    return _show(eng, actor, transfer_id, "transfer refused")


@router.post("/transfers/{transfer_id}/withdraw", response_model=TransferOut, tags=["mobility"],
             summary="The applicant withdraws before the funds move")
def withdraw(transfer_id: PathId, body: ReasonIn, actor: Actor = Depends(current_actor),
             eng=Depends(engine)):
    transfers.withdraw(eng, actor, _tid(transfer_id), body.reason, courier=COURIER)
    return _show(eng, actor, transfer_id, "transfer withdrawn")


# --------------------------------------------------------------------------- certification
@router.post("/certification", tags=["mobility"],
             summary="Living certification: the pensioner themself (portal, e-card) or a clerk")
def certify(body: CertifyIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    pid = actor.person_id if actor.role == "citizen" else body.person_id
    if pid is None:
        raise InputError("person_id is required", field="person_id")
    method = body.method if actor.role != "citizen" else (
        body.method if body.method in ("portal", "e_card", "face") else "portal")
    return certification.certify(eng, actor, pid, body.on, method)


@router.get("/persons/{person_id}/certification", tags=["mobility"],
            summary="A pensioner's certification state and history (audited read)")
def certification_of(person_id: PathId, actor: Actor = Depends(current_actor),
                     why: str | None = Depends(purpose), eng=Depends(engine)):
    return access.access_certification(eng, actor, person_id, why or "certification read")


@router.post("/certification/runs", tags=["mobility"],
             summary="Run the month over every pensioner of a region")
def run(body: RunIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    from shebao.core.periods import parse_month
    return certification.run_month(eng, actor, body.region, parse_month(body.month)).__dict__


@router.get("/compare", tags=["mobility"],
            summary="Parameters of regions on a date, side by side, with references")
def compare_regions(regions: Annotated[str, Query(pattern=r"^\d{6}(,\d{6})+$")], on: dt.date,
                    prefix: Annotated[str, Query(max_length=100)] = "",
                    only_different: bool = False, actor: Actor = Depends(current_actor)):
    return compare.compare(regions.split(","), on, prefix=prefix, only_different=only_different)
