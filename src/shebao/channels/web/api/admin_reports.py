"""API of the administration side (#18), part 2: the training platform (courses, who is due a
required course, certificate verification) and the fund reports (the monthly statistical
report, a fund's statement tied out to the ledger, the year's final accounts against the
budget, and the four-eyes fund decisions: proposals listed, approved or refused). Reads need
``training.take`` / ``reports.read`` and the region in the caller's scope; a decision needs
``reports.approve`` and a checker who is not the maker."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.schemes import SCHEMES
from shebao.reports import decisions, funds, monthly
from shebao.training import queries as training_queries

from .. import idempotency, pagination
from ..deps import current_actor, engine, needs
from ..pagination import Page
from .admin import day, period, region_of, today
from .params import MONTH_PATTERN, Cursor, IdemKey, Limit, PathId

router = APIRouter()
TAG_TR, TAG_REP = ["training"], ["reports"]
Region6Path = Annotated[str, Path(pattern=r"^\d{6}$")]
Scheme = Literal[SCHEMES]  # type: ignore[valid-type]


# ---------------------------------------------------------------- training
class CourseOut(BaseModel):
    id: int
    code: str
    title: str
    description: str
    exam_questions: int
    exam_minutes: int
    pass_pct: int
    validity_months: int
    active: bool
    required_for: list[str]
    bank_size: int


class DueOut(BaseModel):
    username: str
    role: str
    scope: str
    course_id: int
    course_code: str | None
    status: str                     # missing | expired | expiring
    valid_until: dt.date | None


class VerifyOut(BaseModel):
    status: Literal["valid", "expired", "revoked", "unknown"]
    code: str
    course: str | None = None
    course_code: str | None = None
    holder: str | None = None
    issued_on: dt.date | None = None
    valid_until: dt.date | None = None


@router.get("/training/courses", response_model=list[CourseOut], tags=TAG_TR,
            summary="Courses with their exam rules, the roles that must take them and the "
                    "size of their question bank")
def training_courses(actor: Actor = Depends(needs("training.take")), eng=Depends(engine)):
    return [CourseOut(**{k: c[k] for k in CourseOut.model_fields})
            for c in training_queries.courses(eng)]


@router.get("/training/due", response_model=list[DueOut], tags=TAG_TR,
            summary="Who lacks a required course (missing, expired, expiring within warn_days): "
                    "an administrator sees everyone in scope, an outlet head the outlet, a "
                    "clerk themself")
def training_due(on: dt.date | None = None,
                 warn_days: Annotated[int, Query(ge=0, le=366)] = 30,
                 actor: Actor = Depends(needs("training.take")), eng=Depends(engine)):
    return [DueOut(**r) for r in training_queries.due_report(
        eng, actor, day(on, "on", today()), warn_days)]


@router.get("/training/certificates/{code}", response_model=VerifyOut, tags=TAG_TR,
            summary="Verify a certificate by its code (the holder's name masked)")
def training_verify(code: Annotated[str, Path(min_length=1, max_length=40)],
                    actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return VerifyOut(**training_queries.verify(eng, code, today()))


# ---------------------------------------------------------------- reports
class MonthlyRow(BaseModel):
    scheme: str
    insured: int | None
    collection: int
    subsidy: int
    benefits: int
    surplus: int
    balance: int


class MonthlyOut(BaseModel):
    region: str
    month: str
    date_from: dt.date
    date_to: dt.date
    columns: list[str]
    rows: list[MonthlyRow]          # amounts in fen
    total: MonthlyRow


class StatementLine(BaseModel):
    line: str
    side: Literal["revenue", "subsidy", "expense"]
    title: str
    amount: int


class StatementOut(BaseModel):
    region: str
    scheme: str
    date_from: dt.date
    date_to: dt.date
    opening: int                    # fen
    closing: int
    net_assets: int
    lines: list[StatementLine]
    revenue: int
    subsidy: int
    expense: int
    surplus: int
    surplus_excluding_subsidy: int
    ties_out: bool
    differences: list[str]


class VarianceOut(BaseModel):
    line: str
    side: str
    title: str
    budget: int | None
    actual: int
    difference: int | None
    execution_permille: int | None


class ProposalOut(BaseModel):
    id: int
    kind: Literal["subsidy", "budget", "final_accounts"]
    region: str
    scheme: str
    year: int
    detail: dict[str, Any]
    status: Literal["pending", "approved", "rejected"]
    made_by: str
    made_at: str | None
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    ledger_entry_id: int | None


class DecisionOut(ProposalOut):
    replayed: bool = False


class FinalAccountsOut(BaseModel):
    statement: StatementOut
    budget: dict[str, int]
    variance: list[VarianceOut]
    adopted: ProposalOut | None


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


def _statement(st: dict) -> StatementOut:
    return StatementOut(date_from=st["from"], date_to=st["to"],
                        **{k: v for k, v in st.items() if k not in ("from", "to")})


def _proposal(p: dict | None) -> ProposalOut | None:
    return None if p is None else ProposalOut(**{k: p[k] for k in ProposalOut.model_fields})


@router.get("/reports/monthly", response_model=MonthlyOut, tags=TAG_REP,
            summary="The monthly statistical report: insured, collection, subsidy, benefits, "
                    "surplus and balance per scheme (fen), every fund tied out")
def reports_monthly(month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
                    region: Annotated[str | None, Query(pattern=r"^(\d{6}|national)$")] = None,
                    actor: Actor = Depends(needs("reports.read")), eng=Depends(engine)):
    r = region_of(actor, region, six_digits=False)
    if not 2000 <= int(month[:4]) <= 2100:
        raise InputError("month out of range", field="month")
    rep = monthly.monthly_report(eng, actor, r, month)
    return MonthlyOut(region=r, month=month, date_from=rep["from"], date_to=rep["to"],
                      columns=rep["columns"], rows=rep["rows"], total=rep["total"])


@router.get("/reports/funds/{region}/{scheme}/statement", response_model=StatementOut,
            tags=TAG_REP, summary="A fund's statement over a period: revenue (contributions, "
                                  "late fees, interest, transfers in…), fiscal subsidy, expense, "
                                  "opening and closing balance, tied out to the ledger")
def reports_statement(region: Region6Path, scheme: Scheme, date_from: dt.date | None = None,
                      date_to: dt.date | None = None,
                      actor: Actor = Depends(needs("reports.read")), eng=Depends(engine)):
    region_of(actor, region)
    a = day(date_from, "date_from", today().replace(month=1, day=1))
    a, b = period(a, date_to)
    return _statement(funds.statement(eng, actor, region, scheme, a, b).as_json())


@router.get("/reports/funds/{region}/{scheme}/final-accounts", response_model=FinalAccountsOut,
            tags=TAG_REP, summary="决算: the year's tied-out statement beside the adopted "
                                  "budget, line by line, and its adoption if approved")
def reports_final_accounts(region: Region6Path, scheme: Scheme,
                           year: Annotated[int, Query(ge=2000, le=2100)],
                           actor: Actor = Depends(needs("reports.read")), eng=Depends(engine)):
    region_of(actor, region)
    fa = funds.final_accounts(eng, actor, region, scheme, year)
    return FinalAccountsOut(statement=_statement(fa["statement"]), budget=fa["budget"],
                            variance=fa["variance"],
                            adopted=_proposal(decisions.adopted_final_accounts(
                                eng, region, scheme, year)))


@router.get("/reports/proposals", response_model=Page[ProposalOut], tags=TAG_REP,
            summary="Fund decisions (subsidies, budgets, final accounts) in my scope; pending "
                    "ones await a second administrator")
def reports_proposals(region: Annotated[str | None, Query(pattern=r"^(\d{6}|national)$")] = None,
                      status: Literal["pending", "approved", "rejected"] | None = "pending",
                      kind: Literal["subsidy", "budget", "final_accounts"] | None = None,
                      limit: Limit = 50, cursor: Cursor = None,
                      actor: Actor = Depends(needs("reports.read")), eng=Depends(engine)):
    r = region_of(actor, region, six_digits=False)
    rows = decisions.proposals(eng, actor, region=r, status=status, kind=kind,
                               limit=limit + 1, after=pagination.decode(cursor))
    items, nxt = pagination.page(rows, limit, lambda p: p["id"])
    return Page[ProposalOut](items=[_proposal(p) for p in items], next_cursor=nxt)


@router.post("/reports/proposals/{proposal_id}/approve", response_model=DecisionOut,
             tags=TAG_REP, summary="Approve another administrator's proposal: the subsidy is "
                                   "posted, the budget or final accounts adopted; needs "
                                   "Idempotency-Key (and approving an approved proposal "
                                   "again answers the same, replayed, under any key)")
def reports_approve(request: Request, proposal_id: PathId, idempotency_key: IdemKey = None,
                    actor: Actor = Depends(needs("reports.approve")), eng=Depends(engine)):
    def act():
        out = decisions.approve(eng, actor, proposal_id)
        return DecisionOut(**{k: out[k] for k in DecisionOut.model_fields}).model_dump(
            mode="json")
    return idempotency.run(request, actor.id, idempotency_key, {"proposal_id": proposal_id},
                           act)


@router.post("/reports/proposals/{proposal_id}/reject", response_model=ProposalOut,
             tags=TAG_REP, summary="Refuse another administrator's proposal, with the reason")
def reports_reject(proposal_id: PathId, body: ReasonIn,
                   actor: Actor = Depends(needs("reports.approve")), eng=Depends(engine)):
    return _proposal(decisions.reject(eng, actor, proposal_id, body.reason))

