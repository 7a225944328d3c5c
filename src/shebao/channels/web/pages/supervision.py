"""Supervision pages: the inspector's workbench (alerts, cases, blacklist, arrears cases) and
the supervisors' fund dashboard (early-warning indicators with a chart, the projection)."""
from __future__ import annotations

import base64
import datetime as dt

from fastapi import APIRouter, Depends, Request

from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import to_fen
from shebao.monitoring import chart, service as monitoring, warning
from shebao.security.service import User
from shebao.supervision import alerts, blacklist, enforcement, inspection, monitor

from ..deps import engine
from ..render import render
from .common import RecordId, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/supervision", "Supervision", 70, "supervision.alert.read"),
                 ("/staff/fund", "Fund monitoring", 75, "monitoring.read")]}
REFUSED = (InputError, ConflictError, PermissionDenied)


def _workbench(request, user, eng, error=None, code=200, done=None):
    actor = user.actor()
    return render(request, "staff/supervision.html", {
        "user": user, "error": error, "done": done,
        "alerts": alerts.list_alerts(eng, actor, limit=100),
        "summary": alerts.summary(eng, actor),
        "cases": inspection.list_cases(eng, actor),
        "blacklist": blacklist.entries(eng, actor, limit=50),
        "arrears": enforcement.list_cases(eng, actor, limit=50)}, status=code)


@router.get("/staff/supervision")
def workbench(request: Request, done: str = "",
              user: User = Depends(user_with("supervision.alert.read")), eng=Depends(engine)):
    return _workbench(request, user, eng, done=done[:40] or None)


@router.post("/staff/supervision/run")
async def run(request: Request, user: User = Depends(user_with("supervision.monitor.run")),
              eng=Depends(engine)):
    f = await form(request)
    try:
        monitor.run(eng, user.actor(), f.get("region") or user.scope)
    except REFUSED as exc:
        return _workbench(request, user, eng, getattr(exc, "reason", None) or str(exc),
                          403 if isinstance(exc, PermissionDenied) else 422)
    return redirect(request, "/staff/supervision?done=run")


@router.post("/staff/supervision/alerts/{alert_id}/{action}")
async def alert_action(request: Request, alert_id: RecordId, action: str,
                       user: User = Depends(user_with("supervision.case.work")),
                       eng=Depends(engine)):
    f = await form(request)
    try:
        if action == "dismiss":
            alerts.dismiss(eng, user.actor(), alert_id, f.get("reason", ""))
        elif action == "inspect":
            inspection.open_inspection(eng, user.actor(), alert_id=alert_id,
                                       assign_to=user.username)
        else:
            raise InputError(f"unknown action {action}", field="action")
    except REFUSED as exc:
        return _workbench(request, user, eng, getattr(exc, "reason", None) or str(exc),
                          403 if isinstance(exc, PermissionDenied) else 422)
    return redirect(request, f"/staff/supervision?done={action}")


@router.post("/staff/supervision/cases/{case_id}/approve")
def approve(request: Request, case_id: RecordId,
            user: User = Depends(user_with("supervision.decision.approve")), eng=Depends(engine)):
    try:
        inspection.approve(eng, user.actor(), case_id)
    except REFUSED as exc:
        return _workbench(request, user, eng, getattr(exc, "reason", None) or str(exc),
                          403 if isinstance(exc, PermissionDenied) else 409)
    return redirect(request, "/staff/supervision?done=approve")


@router.get("/staff/fund")
def fund(request: Request, region: str = "", as_of: str = "",
         user: User = Depends(user_with("monitoring.read")), eng=Depends(engine)):
    actor = user.actor()
    rows = warning.latest(eng, actor, limit=200)
    errors, proj, pchart = {}, None, None
    wchart = base64.b64encode(chart.warnings_png(rows)).decode() if rows else None
    if region:
        try:
            d = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
            ps = monitoring.project_region(eng, actor, region.strip(), d)
            proj = {p.scenario: monitoring.table(p) for p in ps}
            pchart = base64.b64encode(chart.projection_png(ps, region)).decode()
        except ValueError:
            errors["as_of"] = "a date YYYY-MM-DD"
        except REFUSED as exc:
            errors[getattr(exc, "field", None) or "region"] = getattr(exc, "reason", None) or str(exc)
    return render(request, "staff/fund.html", {
        "user": user, "rows": rows, "wchart": wchart, "proj": proj, "pchart": pchart,
        "errors": errors, "values": {"region": region, "as_of": as_of}},
        status=422 if errors else 200)


def person_section(eng, actor, person_id: int) -> dict | None:
    """The blacklist flag on the staff person page (collection and benefits desks): shown, not
    enforced — no right the law keeps is withheld because of it."""
    flag = blacklist.listed(eng, "person", [person_id]).get(int(person_id))
    return {"template": "staff/_blacklist_flag.html", "flag": flag} if flag else None


def employer_flag(eng, employer_id: int) -> dict | None:
    return blacklist.listed(eng, "employer", [employer_id]).get(int(employer_id))


# ---------------------------------------------------------------- one inspection case

def _case(request, user, eng, case_id, error=None, code=200, done=None):
    d = inspection.get(eng, user.actor(), case_id)
    return render(request, "staff/supervision_case.html", {
        "user": user, "c": d["case"], "i": d["inspection"], "events": d["events"],
        "documents": d["documents"], "error": error, "done": done}, status=code)


@router.get("/staff/supervision/cases/{case_id}")
def case_view(request: Request, case_id: RecordId, done: str = "",
              user: User = Depends(user_with("supervision.alert.read")), eng=Depends(engine)):
    try:
        return _case(request, user, eng, case_id, done=done[:40] or None)
    except InputError as exc:
        return render(request, "error.html", {"status": 404, "title": "Not found",
                                              "detail": exc.reason, "user": user}, status=404)


@router.post("/staff/supervision/cases/{case_id}/{action}")
async def case_action(request: Request, case_id: RecordId, action: str,
                      user: User = Depends(user_with("supervision.case.work")),
                      eng=Depends(engine)):
    data = await request.form()
    f = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.multi_items()}
    actor = user.actor()
    try:
        if action == "record":
            inspection.record(eng, actor, case_id, plan=f.get("plan") or None,
                              findings=f.get("findings") or None)
        elif action == "evidence":
            up = f.get("file")
            if not (up is not None and getattr(up, "filename", "")):
                raise InputError("choose a file", field="file")
            inspection.attach_evidence(eng, actor, case_id, filename=up.filename,
                                       content=await up.read(),
                                       content_type=up.content_type or "application/octet-stream")
        elif action == "decide":
            amount = f.get("amount") or ""
            due = f.get("due_since") or ""
            inspection.propose_decision(
                eng, actor, case_id, decision=f.get("decision", ""),
                amount_fen=to_fen(amount) if amount else 0,
                fine_multiple=f.get("fine_multiple") or None,
                due_since=dt.date.fromisoformat(due) if due else None,
                refer_to=f.get("refer_to") or None, reason=f.get("reason") or None)
        elif action == "reject":
            inspection.reject(eng, actor, case_id, f.get("reason", ""))
        elif action == "appeal":
            inspection.appeal(eng, actor, case_id, f.get("reason", ""))
        else:
            raise InputError(f"unknown action {action}", field="action")
    except ValueError as exc:
        return _case(request, user, eng, case_id, str(exc), 422)
    except REFUSED as exc:
        return _case(request, user, eng, case_id, getattr(exc, "reason", None) or str(exc),
                     403 if isinstance(exc, PermissionDenied) else 422)
    return redirect(request, f"/staff/supervision/cases/{case_id}?done={action}")
