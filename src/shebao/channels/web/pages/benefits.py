"""Benefits pages: pension cases to compute, submit, approve or reject; payroll runs to submit
and approve; a person's pension on their page."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.benefits import access, payroll
from shebao.benefits import determination as det
from shebao.benefits import queries as bq
from shebao.benefits.model import CASE_STATUSES
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.security import policy
from shebao.security.service import User

from .. import pagination
from ..deps import engine
from ..render import render
from .common import RecordId, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/pension", "Pension cases", 50, "pension.read"),
                 ("/staff/payroll", "Payroll", 60, "payroll.read")]}


@router.get("/staff/pension")
def cases(request: Request, status: str = "", cursor: str | None = None,
          user: User = Depends(user_with("pension.read")), eng=Depends(engine)):
    return _cases(request, user, eng, status, cursor, {}, {})


def _cases(request, user, eng, status, cursor, errors, values, code=200):
    st = status if status in CASE_STATUSES else None
    items, nxt = bq.cases(eng, user.actor(), status=st, limit=50,
                          after=pagination.decode(cursor))
    return render(request, "staff/pension.html", {
        "user": user, "cases": items, "status": st or "", "statuses": CASE_STATUSES,
        "errors": errors, "values": values,
        "next_url": f"/staff/pension?status={st or ''}&cursor={pagination.encode(nxt)}"
        if nxt else None}, status=code)


@router.post("/staff/pension")
async def open_case(request: Request, user: User = Depends(user_with("pension.compute")),
                    eng=Depends(engine)):
    f = await form(request)
    values = {"person_id": f.get("person_id", "")}
    if not values["person_id"].isdigit() or len(values["person_id"]) > 18:
        return _cases(request, user, eng, "", None, {"person_id": "a person number"}, values,
                      422)
    try:
        cid = det.open_case_for(eng, user.actor(), int(values["person_id"]))
    except (InputError, ConflictError, PermissionDenied) as exc:
        return _cases(request, user, eng, "", None,
                      {"person_id": getattr(exc, "reason", None) or str(exc)}, values,
                      403 if isinstance(exc, PermissionDenied) else 422)
    return redirect(request, f"/staff/pension/{cid}")


@router.get("/staff/pension/{case_id}")
def case_view(request: Request, case_id: RecordId, user: User = Depends(user_with("pension.read")),
              eng=Depends(engine)):
    return _case(request, user, eng, case_id)


def _case(request, user, eng, case_id, error=None, code=200, flash=None, field_error=None):
    c = bq.case(eng, user.actor(), case_id, purpose="back-office case view")
    actor = user.actor()
    can_submit = c["status"] == "computed" and policy.has(actor, "pension.compute")
    can_check = (c["status"] == "submitted" and policy.has(actor, "pension.approve")
                 and (c["approval"] or {}).get("maker") != user.username)
    return render(request, "staff/pension_case.html", {
        "user": user, "c": c, "can_submit": can_submit, "can_check": can_check,
        "own_submission": c["status"] == "submitted"
        and (c["approval"] or {}).get("maker") == user.username,
        "error": error, "flash": flash,
        "errors": {"reason": field_error} if field_error else {}},
        status=code)


@router.post("/staff/pension/{case_id}/{action}")
async def case_action(request: Request, case_id: RecordId, action: str,
                      user: User = Depends(user_with("pension.read")), eng=Depends(engine)):
    f = await form(request)
    actor = user.actor()
    try:
        if action == "submit":
            access.require_staff(actor, "pension.compute")
            det.submit_case(eng, actor, case_id)
        elif action == "approve":
            access.require_staff(actor, "pension.approve")
            det.approve_case(eng, actor, case_id)
        elif action == "reject":
            access.require_staff(actor, "pension.approve")
            det.reject_case(eng, actor, case_id, reason=f.get("reason", ""))
        elif action == "recompute":
            det.recompute_case(eng, actor, case_id)
        else:
            raise InputError(f"unknown action {action}", field="action")
    except (InputError, ConflictError) as exc:
        msg = getattr(exc, "reason", None) or str(exc)
        if getattr(exc, "field", None) == "reason":
            return _case(request, user, eng, case_id, field_error=msg, code=422)
        return _case(request, user, eng, case_id, error=msg,
                     code=422 if isinstance(exc, InputError) else 409)
    return redirect(request, f"/staff/pension/{case_id}?done={action}")


@router.get("/staff/payroll")
def runs(request: Request, user: User = Depends(user_with("payroll.read")),
         eng=Depends(engine)):
    return _runs(request, user, eng)


def _runs(request, user, eng, error=None, code=200):
    items, _ = bq.runs(eng, user.actor(), limit=100, after=None)
    return render(request, "staff/payroll.html", {"user": user, "runs": items, "error": error},
                  status=code)


@router.post("/staff/payroll/{run_id}/{action}")
def run_action(request: Request, run_id: RecordId, action: str,
               user: User = Depends(user_with("payroll.read")), eng=Depends(engine)):
    try:
        if action == "submit":
            access.require_staff(user.actor(), "payroll.prepare")
            payroll.submit(eng, user.actor(), run_id)
        elif action == "approve":
            access.require_staff(user.actor(), "payroll.approve")
            payroll.approve(eng, user.actor(), run_id)
        else:
            raise InputError(f"unknown action {action}", field="action")
    except (InputError, ConflictError) as exc:
        return _runs(request, user, eng, getattr(exc, "reason", None) or str(exc), 422)
    return redirect(request, "/staff/payroll")


def person_section(eng, actor, person_id: int) -> dict | None:
    if not policy.has(actor, "pension.read"):
        return None
    return {"template": "staff/_pension.html", **bq.person_benefits(eng, actor, person_id)}
