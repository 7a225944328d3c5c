"""API: benefit cases (unemployment, work injury, maternity, survivors) — apply (the person
online or a clerk), compute (maker), submit, approve (checker, Idempotency-Key) or send back;
the decision notice as PDF; appeals; a person's awards and payments."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from shebao.benefits import access as benefit_access
from shebao.benefits import appeals, awards, casework
from shebao.benefits import queries as bq
from shebao.benefits.claims import ITEM_OF_KIND
from shebao.benefits.notices import decision_notice
from shebao.cases import access as case_access
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.rules import load_rules

from .. import idempotency
from ..deps import current_actor, engine
from .params import IdemKey, PathId

router = APIRouter()


class ApplyIn(BaseModel):
    kind: str = Field(pattern="^(" + "|".join(ITEM_OF_KIND) + ")$")
    person_id: int = Field(ge=1, le=2 ** 62)
    region: str = Field(pattern=r"^\d{6}$")
    facts: dict[str, Any] = Field(default_factory=dict)


class FactsIn(BaseModel):
    facts: dict[str, Any] = Field(default_factory=dict)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class AppealIn(BaseModel):
    grounds: str = Field(min_length=1, max_length=1000)


class ReviewIn(BaseModel):
    outcome: str = Field(pattern="^(upheld|changed)$")
    reason: str = Field(min_length=1, max_length=1000)
    facts: dict[str, Any] | None = None


def case_json(eng, c) -> dict:
    try:
        cl = casework.claim(eng, c.id)
    except InputError:
        cl = None
    return {"id": c.id, "item": c.item, "region": c.region, "status": c.status,
            "person_id": c.person_id, "channel": c.channel,
            "opened_on": c.opened_on.isoformat(), "due_on": c.due_on.isoformat(),
            "outcome": c.outcome, "decided_on": c.decided_on.isoformat() if c.decided_on
            else None, "parent_id": c.parent_id,
            "kind": cl["kind"] if cl else None, "facts": cl["facts"] if cl else None,
            "computation": cl["computation"] if cl else None,
            "award_id": cl["award_id"] if cl else None}


def _read(eng, actor, cid, why="benefit case") -> dict:
    return case_json(eng, case_access.access_case(eng, actor, cid, why))


@router.post("/benefit/cases", status_code=201, tags=["benefits"],
             summary="Apply for a benefit (the person online, or a clerk at the counter)")
def apply(body: ApplyIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    channel = "online" if actor.role in ("citizen", "employer") else "counter"
    cid = casework.apply(eng, actor, kind=body.kind, person_id=body.person_id,
                         region=body.region, facts=body.facts, channel=channel,
                         employer_id=actor.employer_id if actor.role == "employer" else None)
    return _read(eng, actor, cid, "application received")


@router.get("/benefit/cases", tags=["benefits"],
            summary="Benefit cases in my scope (staff) or my own (citizen); overdue=true lists "
            "those past their statutory time limit")
def list_cases(status: str | None = Query(None, max_length=20),
               overdue: bool = False, limit: int = Query(50, ge=1, le=200),
               actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if actor.role == "citizen":
        rows = case_queries.list_cases(eng, person_id=actor.person_id, item_prefix="benefit.",
                                       limit=limit)
    else:
        benefit_access.require_staff(actor, "benefit.case.work") \
            if not actor.role == "inspector" else None
        region = actor.scope
        if overdue:
            import datetime as dt

            from .. import pagination  # noqa: F401  (pages share the same limits)
            rows = [c for c in case_queries.overdue(eng, dt.date.today(), region=region)
                    if c.item.startswith("benefit.")][:limit]
        else:
            rows = case_queries.list_cases(eng, region=region, item_prefix="benefit.",
                                           status=status, limit=limit)
    return {"items": [{"id": c.id, "item": c.item, "status": c.status, "region": c.region,
                       "person_id": c.person_id, "due_on": c.due_on.isoformat(),
                       "outcome": c.outcome} for c in rows]}


@router.get("/benefit/cases/{case_id}", tags=["benefits"], summary="A benefit case (audited)")
def get_case(case_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return _read(eng, actor, case_id)


@router.post("/benefit/cases/{case_id}/compute", tags=["benefits"],
             summary="Check against the records and compute (maker)")
def compute(case_id: PathId, body: FactsIn, actor: Actor = Depends(current_actor),
            eng=Depends(engine)):
    _read(eng, actor, case_id, "benefit case work")
    casework.compute(eng, actor, case_id, body.facts)
    return _read(eng, actor, case_id, "computed")


@router.post("/benefit/cases/{case_id}/submit", tags=["benefits"],
             summary="Put the computed decision up for a second clerk (maker)")
def submit(case_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    benefit_access.require_staff(actor, "benefit.case.work")
    casework.submit(eng, actor, case_id)
    return _read(eng, actor, case_id, "submitted")


@router.post("/benefit/cases/{case_id}/approve", tags=["benefits"],
             summary="Approve (checker, never the maker): the decision takes effect and a "
             "granted claim's award is created; needs Idempotency-Key")
def approve(request: Request, case_id: PathId, idempotency_key: IdemKey = None,
            actor: Actor = Depends(current_actor), eng=Depends(engine)):

    def do():
        benefit_access.require_staff(actor, "benefit.decision.approve")
        out = casework.approve(eng, actor, case_id)
        return {**_read(eng, actor, case_id, "approved"), "award_id": out["award_id"]}
    return idempotency.run(request, actor.id, idempotency_key, {"case_id": case_id}, do)


@router.post("/benefit/cases/{case_id}/send-back", tags=["benefits"],
             summary="The checker sends the proposal back to work")
def send_back(case_id: PathId, body: ReasonIn, actor: Actor = Depends(current_actor),
              eng=Depends(engine)):
    benefit_access.require_staff(actor, "benefit.decision.approve")
    casework.send_back(eng, actor, case_id, body.reason)
    return _read(eng, actor, case_id, "sent back")


@router.get("/benefit/cases/{case_id}/notice.pdf", tags=["benefits"],
            summary="The decision notice as PDF (lang zh or en)")
def notice(case_id: PathId, lang: str = Query("zh", pattern="^(zh|en)$"),
           actor: Actor = Depends(current_actor), eng=Depends(engine)):
    from ...decision_pdf import notice_pdf

    c = case_access.access_case(eng, actor, case_id, "decision notice")
    if c.decided_on is None:
        raise InputError("the case is not decided yet", field="case_id")
    try:
        cl = casework.claim(eng, case_id)
    except InputError:
        cl = None
    pdf = notice_pdf(decision_notice(c, cl, lang, load_rules()))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="decision-{case_id}-{lang}.pdf"'})


@router.post("/benefit/cases/{case_id}/appeal", status_code=201, tags=["benefits"],
             summary="Appeal against a decision (within the reconsideration limit)")
def appeal(case_id: PathId, body: AppealIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    case_access.access_case(eng, actor, case_id, "appeal")
    aid = appeals.file_appeal(eng, actor, case_id, body.grounds)
    return _read(eng, actor, aid, "appeal filed")


@router.post("/benefit/appeals/{appeal_id}/review", tags=["benefits"],
             summary="A different officer reviews the decision under appeal")
def review(appeal_id: PathId, body: ReviewIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    benefit_access.require_staff(actor, "benefit.appeal.review")
    return appeals.review(eng, actor, appeal_id, body.outcome, body.reason, body.facts)


@router.post("/benefit/appeals/{appeal_id}/approve", tags=["benefits"],
             summary="Approve the review (four eyes); a change re-computes the award; needs "
             "Idempotency-Key")
def approve_review(request: Request, appeal_id: PathId, idempotency_key: IdemKey = None,
                   actor: Actor = Depends(current_actor), eng=Depends(engine)):

    def do():
        benefit_access.require_staff(actor, "benefit.appeal.approve")
        return appeals.approve_review(eng, actor, appeal_id)
    return idempotency.run(request, actor.id, idempotency_key, {"appeal_id": appeal_id}, do)


@router.get("/benefit/persons/{person_id}/awards", tags=["benefits"],
            summary="A person's benefit awards (lines, suspensions) and pension")
def person_awards(person_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    benefit_access.require_person_awards(eng, actor, person_id)
    return {"awards": [awards.award_json(a) for a in awards.awards_of(eng, person_id)],
            "payments": bq.payments_of(eng, person_id)}
