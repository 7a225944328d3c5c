"""API: pension cases (compute → submit → approve/reject by another clerk) and payroll runs
(submit → approve by another clerk). Approvals move money: they take Idempotency-Key."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from shebao.benefits import access, payroll
from shebao.benefits import determination as det
from shebao.benefits import queries as bq
from shebao.core.actor import Actor

from .. import idempotency, pagination
from ..deps import current_actor, engine, purpose
from ..pagination import Page
from .params import Cursor, IdemKey, Limit, PathId

router = APIRouter()
Status = Literal["open", "incomplete", "ineligible", "computed", "submitted", "approved",
                 "rejected"]


class CaseBrief(BaseModel):
    id: int
    person_id: int
    citizen_id: str
    name: str
    region: str
    status: str
    claim: str
    retirement_date: str | None
    total: str | None
    opened_by: str
    decided_by: str | None


class Approval(BaseModel):
    maker: str
    checker: str | None
    status: str
    reason: str | None


class CaseOut(BaseModel):
    id: int
    person_id: int
    region: str
    status: str
    claim: str
    category: str | None
    retirement_date: str | None
    opened_by: str
    decided_by: str | None
    reason: str | None
    basic: str | None
    account: str | None
    transitional: str | None
    total: str | None
    missing: list | dict | None
    options: list | dict | None
    approval: Approval | None


class CaseIn(BaseModel):
    person_id: int = Field(ge=1, le=2 ** 62)
    region: str | None = Field(None, pattern=r"^\d{6}$")


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class RunOut(BaseModel):
    id: int
    region: str
    month: str
    status: str
    payments: int
    total: str
    individual_account_part: str
    created_by: str
    maker: str | None
    checker: str | None


@router.get("/pension/cases", response_model=Page[CaseBrief], tags=["benefits"],
            summary="Pension cases in my region scope, newest first")
def cases(status: Status | None = None, limit: Limit = 50, cursor: Cursor = None,
          actor: Actor = Depends(current_actor), eng=Depends(engine)):
    items, nxt = bq.cases(eng, actor, status=status, limit=limit,
                          after=pagination.decode(cursor))
    return Page[CaseBrief](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


@router.post("/pension/cases", response_model=CaseOut, status_code=201, tags=["benefits"],
             summary="Open and compute a retirement case (maker)")
def open_case(body: CaseIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    cid = det.open_case_for(eng, actor, body.person_id, body.region)
    return bq.case_json(bq.case(eng, actor, cid, purpose="case opened"))


@router.get("/pension/cases/{case_id}", response_model=CaseOut, tags=["benefits"],
            summary="A case with its decision (audited read)")
def get_case(case_id: PathId, actor: Actor = Depends(current_actor),
             why: str | None = Depends(purpose), eng=Depends(engine)):
    return bq.case_json(bq.case(eng, actor, case_id, purpose=why))


@router.post("/pension/cases/{case_id}/submit", response_model=CaseOut, tags=["benefits"],
             summary="Put a computed case up for a second clerk (maker)")
def submit_case(case_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    access.require_staff(actor, "pension.compute")
    det.submit_case(eng, actor, case_id)
    return bq.case_json(bq.case(eng, actor, case_id, purpose="case submitted"))


@router.post("/pension/cases/{case_id}/approve", response_model=CaseOut, tags=["benefits"],
             summary="Approve (checker, never the maker): the pension is awarded; needs "
             "Idempotency-Key")
def approve_case(request: Request, case_id: PathId, idempotency_key: IdemKey = None,
                 actor: Actor = Depends(current_actor), eng=Depends(engine)):

    def do():
        access.require_staff(actor, "pension.approve")
        det.approve_case(eng, actor, case_id)
        return bq.case_json(bq.case(eng, actor, case_id, purpose="case approved"))
    return idempotency.run(request, actor.id, idempotency_key, {"case_id": case_id}, do)


@router.post("/pension/cases/{case_id}/reject", response_model=CaseOut, tags=["benefits"],
             summary="Reject with a reason (checker)")
def reject_case(case_id: PathId, body: RejectIn, actor: Actor = Depends(current_actor),
                eng=Depends(engine)):
    access.require_staff(actor, "pension.approve")
    det.reject_case(eng, actor, case_id, reason=body.reason)
    return bq.case_json(bq.case(eng, actor, case_id, purpose="case rejected"))


@router.get("/payroll/runs", response_model=Page[RunOut], tags=["benefits"],
            summary="Payroll runs in my region scope, newest first")
def runs(limit: Limit = 50, cursor: Cursor = None, actor: Actor = Depends(current_actor),
         eng=Depends(engine)):
    items, nxt = bq.runs(eng, actor, limit=limit, after=pagination.decode(cursor))
    return Page[RunOut](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


def _run(eng, actor, run_id) -> dict:
    return bq.run(eng, actor, run_id)


@router.post("/payroll/runs/{run_id}/submit", response_model=RunOut, tags=["benefits"],
             summary="Put a computed payroll run up for a second clerk (maker)")
def submit_run(run_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    access.require_staff(actor, "payroll.prepare")
    payroll.submit(eng, actor, run_id)
    return _run(eng, actor, run_id)


@router.post("/payroll/runs/{run_id}/approve", response_model=RunOut, tags=["benefits"],
             summary="Approve a payroll run for release (checker, never the maker); needs "
             "Idempotency-Key")
def approve_run(request: Request, run_id: PathId, idempotency_key: IdemKey = None,
                actor: Actor = Depends(current_actor), eng=Depends(engine)):

    def do():
        access.require_staff(actor, "payroll.approve")
        payroll.approve(eng, actor, run_id)
        return _run(eng, actor, run_id)
    return idempotency.run(request, actor.id, idempotency_key, {"run_id": run_id}, do)
