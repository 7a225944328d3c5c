"""API of the supervision bureau and the monitoring platform, all in the caller's region scope:
monitoring runs and alerts, inspection cases (decisions checked by a second inspector, the
approval moves money: Idempotency-Key), the blacklist's due process, arrears enforcement, fund
early warning and the projection."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import BaseModel, Field

from shebao.cases.service import MAX_DOCUMENT_BYTES
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.monitoring import service as monitoring
from shebao.monitoring import warning
from shebao.supervision import alerts, blacklist, enforcement, inspection, monitor

from .. import idempotency, pagination
from ..deps import current_actor, engine
from ..pagination import Page
from .params import Cursor, Id, IdemKey, Limit, PathId

router = APIRouter()
Region = Annotated[str, Field(pattern=r"^(\d{6}|national)$")]
Yuan = Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
TAG = ["supervision"]


class AlertOut(BaseModel):
    id: int
    rule: str
    subject_type: str
    subject_id: int | None
    region: str
    score: int
    status: str
    times_seen: int
    evidence: dict[str, Any]
    basis: str
    case_id: int | None
    first_seen_at: str
    last_seen_at: str


class RunIn(BaseModel):
    region: Region = "national"
    as_of: dt.date | None = None
    rules: list[Annotated[str, Field(max_length=48)]] | None = Field(None, max_length=20)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class InspectionIn(BaseModel):
    alert_id: Id | None = None
    subject_type: Literal["person", "employer"] | None = None
    subject_id: Id | None = None
    region: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None
    complaint: str | None = Field(None, max_length=4000)


class DecisionIn(BaseModel):
    decision: Literal["recover", "back_assess", "fine", "refer", "none"]
    amount: Yuan | None = None
    fine_multiple: Annotated[str, Field(pattern=r"^[0-9](\.[0-9]{1,2})?$")] | None = None
    due_since: dt.date | None = None
    refer_to: str | None = Field(None, max_length=120)
    reason: str | None = Field(None, max_length=1000)


class ProposalIn(BaseModel):
    subject_type: Literal["person", "employer"]
    subject_id: Id
    region: Annotated[str, Field(pattern=r"^\d{6}$")]
    ground: str = Field(max_length=32)
    facts: dict[str, Annotated[str, Field(max_length=40)]] = Field(default_factory=dict,
                                                                   max_length=10)
    case_id: Id | None = None


def _alert(a: dict) -> dict:
    return {k: a[k] for k in AlertOut.model_fields}


@router.post("/supervision/monitor/runs", tags=TAG,
             summary="Run the monitoring rules over a region subtree (alerts deduplicated)")
def run_rules(body: RunIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return monitor.run(eng, actor, body.region, body.as_of, only=body.rules)


@router.get("/supervision/alerts", response_model=Page[AlertOut], tags=TAG,
            summary="Alerts in my region scope, newest first")
def list_alerts(status: Literal["open", "dismissed", "case", "closed"] | None = "open",
                rule: Annotated[str | None, Query(pattern=r"^[a-z_]{1,48}$")] = None,
                limit: Limit = 50,
                cursor: Cursor = None, actor: Actor = Depends(current_actor),
                eng=Depends(engine)):
    items = alerts.list_alerts(eng, actor, status=status, rule=rule, limit=limit,
                               after=pagination.decode(cursor))
    nxt = pagination.encode(items[-1]["id"]) if len(items) == limit else None
    return Page[AlertOut](items=[_alert(a) for a in items], next_cursor=nxt)


@router.get("/supervision/alerts/{alert_id}", response_model=AlertOut, tags=TAG,
            summary="One alert with its evidence (audited read)")
def get_alert(alert_id: PathId,
              actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return _alert(alerts.get_alert(eng, actor, alert_id))


@router.post("/supervision/alerts/{alert_id}/dismiss", tags=TAG,
             summary="Dismiss an open alert as a false positive, with the reason")
def dismiss(alert_id: PathId, body: ReasonIn,
            actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return alerts.dismiss(eng, actor, alert_id, body.reason)


@router.post("/supervision/inspections", status_code=201, tags=TAG,
             summary="Open an inspection case from an alert or a complaint")
def open_inspection(body: InspectionIn, actor: Actor = Depends(current_actor),
                    eng=Depends(engine)):
    cid = inspection.open_inspection(eng, actor, alert_id=body.alert_id,
                                     subject_type=body.subject_type, subject_id=body.subject_id,
                                     region=body.region, complaint=body.complaint)
    return inspection.get(eng, actor, cid)


@router.get("/supervision/inspections/{case_id}", tags=TAG,
            summary="An inspection case: case, detail, events, documents (audited read)")
def get_inspection(case_id: PathId,
                   actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return inspection.get(eng, actor, case_id)


@router.post("/supervision/inspections/{case_id}/decision", tags=TAG,
             summary="Propose the decision (maker); a second inspector approves it")
def propose(case_id: PathId, body: DecisionIn,
            actor: Actor = Depends(current_actor), eng=Depends(engine)):
    aid = inspection.propose_decision(
        eng, actor, case_id, decision=body.decision,
        amount_fen=to_fen(body.amount) if body.amount else 0, fine_multiple=body.fine_multiple,
        due_since=body.due_since, refer_to=body.refer_to, reason=body.reason)
    return {"case_id": case_id, "approval_id": aid}


class RecordIn(BaseModel):
    plan: str | None = Field(None, max_length=8000)
    findings: str | None = Field(None, max_length=8000)


@router.post("/supervision/inspections/{case_id}/record", tags=TAG,
             summary="Write the inspection plan or the findings")
def record(case_id: PathId, body: RecordIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    inspection.record(eng, actor, case_id, plan=body.plan, findings=body.findings)
    return {"case_id": case_id, "recorded": True}


@router.post("/supervision/inspections/{case_id}/documents", status_code=201, tags=TAG,
             summary="Attach a document of evidence (multipart field ``file``)")
async def attach(case_id: PathId, file: UploadFile, actor: Actor = Depends(current_actor),
                 eng=Depends(engine)):
    content = await file.read(MAX_DOCUMENT_BYTES + 1)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InputError("the document is too large", field="file")
    did = inspection.attach_evidence(eng, actor, case_id, filename=file.filename or "document",
                                     content=content,
                                     content_type=file.content_type or "application/octet-stream")
    return {"case_id": case_id, "document_id": did}


@router.post("/supervision/inspections/{case_id}/reject", tags=TAG,
             summary="Send the proposed decision back (checker)")
def reject(case_id: PathId, body: ReasonIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    inspection.reject(eng, actor, case_id, body.reason)
    return {"case_id": case_id, "rejected": True}


@router.post("/supervision/inspections/{case_id}/appeal", tags=TAG,
             summary="Reopen a decided case (appeal upheld, administrative review)")
def appeal(case_id: PathId, body: ReasonIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    inspection.appeal(eng, actor, case_id, body.reason)
    return {"case_id": case_id, "reopened": True}


@router.post("/supervision/inspections/{case_id}/approve", tags=TAG,
             summary="Approve the decision (checker, never the maker): posted through the "
             "ledger and notified; needs Idempotency-Key")
def approve(request: Request, case_id: PathId,
            idempotency_key: IdemKey = None, actor: Actor = Depends(current_actor),
            eng=Depends(engine)):
    return idempotency.run(request, actor.id, idempotency_key, {"case_id": case_id},
                           lambda: inspection.approve(eng, actor, case_id))


@router.get("/supervision/blacklist", tags=TAG, summary="Blacklist entries in my region scope")
def list_blacklist(status: Literal["proposed", "notified", "objected", "pending", "listed",
                                  "published", "rejected", "removed"] | None = None,
                   limit: Limit = 50, actor: Actor = Depends(current_actor),
                   eng=Depends(engine)):
    return {"items": blacklist.entries(eng, actor, status=status, limit=limit)}


@router.post("/supervision/blacklist", status_code=201, tags=TAG,
             summary="Propose a listing with its ground and facts")
def propose_listing(body: ProposalIn, actor: Actor = Depends(current_actor),
                    eng=Depends(engine)):
    return {"entry_id": blacklist.propose(eng, actor, subject_type=body.subject_type,
                                          subject_id=body.subject_id, region=body.region,
                                          ground=body.ground, facts=body.facts,
                                          case_id=body.case_id)}


@router.post("/supervision/blacklist/{entry_id}/{action}", tags=TAG,
             summary="notify | object | submit | approve | reject | decline | publish | remove")
def listing_step(entry_id: PathId,
                 action: Literal["notify", "object", "submit", "approve", "reject", "decline",
                                 "publish", "remove"],
                 body: ReasonIn | None = None, actor: Actor = Depends(current_actor),
                 eng=Depends(engine)):
    reason = body.reason if body else None
    if action in ("object", "reject", "decline", "remove") and not reason:
        raise InputError(f"{action} needs a reason", field="reason")
    fns = {"notify": lambda: blacklist.notify(eng, actor, entry_id),
           "object": lambda: blacklist.object_(eng, actor, entry_id, reason),
           "submit": lambda: {"approval_id": blacklist.submit(eng, actor, entry_id, reason)},
           "approve": lambda: blacklist.approve(eng, actor, entry_id),
           "reject": lambda: blacklist.reject(eng, actor, entry_id, reason),
           "decline": lambda: blacklist.decline(eng, actor, entry_id, reason),
           "publish": lambda: blacklist.publish(eng, actor, entry_id),
           "remove": lambda: blacklist.remove(eng, actor, entry_id, reason)}
    return fns[action]() or {"entry_id": entry_id, "done": action}


@router.get("/supervision/arrears", tags=TAG, summary="Arrears cases in my region scope")
def list_arrears(stage: Literal["opened", "notice", "escalated", "instalments", "enforcement",
                                "paid"] | None = None,
                 actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return {"items": enforcement.list_cases(eng, actor, stage=stage)}


@router.post("/supervision/arrears/open", tags=TAG,
             summary="Open cases from the latest arrears list of a region subtree")
def open_arrears(body: RunIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return {"opened": enforcement.open_from_arrears(eng, actor, body.region)}


class Instalment(BaseModel):
    due: dt.date
    amount: Yuan


class InstalmentsIn(BaseModel):
    instalments: list[Instalment] = Field(min_length=1, max_length=60)


@router.post("/supervision/arrears/{case_id}/instalments", tags=TAG,
             summary="An instalment agreement: instalments summing exactly to the debt")
def instalments(case_id: PathId, body: InstalmentsIn, actor: Actor = Depends(current_actor),
                eng=Depends(engine)):
    enforcement.agree_instalments(eng, actor, case_id,
                                  [(i.due, to_fen(i.amount)) for i in body.instalments])
    return {"case_id": case_id, "stage": "instalments"}


@router.post("/supervision/arrears/{case_id}/{action}", tags=TAG,
             summary="notice | escalate | enforce | settle")
def arrears_step(case_id: PathId,
                 action: Literal["notice", "escalate", "enforce", "settle"],
                 actor: Actor = Depends(current_actor), eng=Depends(engine)):
    fn = {"notice": enforcement.notice, "escalate": enforcement.escalate,
          "enforce": enforcement.enforce, "settle": enforcement.settle}[action]
    return fn(eng, actor, case_id) or {"case_id": case_id, "done": action}


@router.get("/monitoring/warnings", tags=["monitoring"],
            summary="Fund early-warning indicators in my region scope, newest first")
def warnings(level: Literal["ok", "watch", "alert", "n/a"] | None = None, limit: Limit = 100,
             actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return {"items": warning.latest(eng, actor, level=level, limit=limit)}


class WarningIn(BaseModel):
    region: Annotated[str, Field(pattern=r"^\d{6}$")]
    as_of: dt.date
    funds: list[Literal["pension", "medical", "unemployment", "injury"]] | None = None


@router.post("/monitoring/warnings", tags=["monitoring"],
             summary="Compute the fund early-warning indicators of a region")
def compute_warnings(body: WarningIn, actor: Actor = Depends(current_actor),
                     eng=Depends(engine)):
    rows = warning.compute(eng, actor, body.region, body.as_of,
                           tuple(body.funds) if body.funds else warning.FUNDS)
    return {"items": [{k: v for k, v in r.items() if k != "figures"} for r in rows]}


@router.get("/monitoring/projection", tags=["monitoring"],
            summary="30-year projection of a region's employee pension fund, per scenario")
def projection(region: Annotated[str, Query(pattern=r"^\d{6}$")], as_of: dt.date,
               scenario: Annotated[list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]] | None,
                                   Query(max_length=10)] = None,
               actor: Actor = Depends(current_actor), eng=Depends(engine)):
    ps = monitoring.project_region(eng, actor, region, as_of, scenario)
    return {p.scenario: {"assumptions": p.assumptions, "rows": monitoring.table(p)} for p in ps}
