"""Benefit casework pages.

Staff (``/staff/benefits``): the benefit cases of the clerk's region (by status, or overdue
against their statutory time limit — the supervisor's list), a case page per case type with
the facts form of its kind, compute (maker), submit, approve or send back (checker, never the
maker), the decision notice as PDF (Chinese, English), appeals to review.

Citizen (``/me/benefits``): apply online for unemployment benefit, follow every benefit case
(status, due date, history, decision and its notice, appeal), and see the awards, the pension
and the payments made.
"""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shebao.benefits import access as benefit_access
from shebao.benefits import appeals, awards, casework
from shebao.benefits import queries as bq
from shebao.benefits.claims import ITEM_OF_KIND
from shebao.benefits.notices import decision_notice
from shebao.cases import access as case_access
from shebao.cases import queries as case_queries
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.rules import load_rules
from shebao.security import policy
from shebao.security.service import User

from ...decision_pdf import notice_pdf
from ..deps import current_user, engine
from ..render import render
from .common import RecordId, citizen_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/benefits", "Benefit cases", 55, "benefit.case.work")],
       "citizen": [("/me/benefits", "My benefits", 25, None)]}

# the facts a clerk enters per case type: (name, type) — date | bool | int | fen | text
FIELDS = {
    "unemployment": [("registered_on", "date"), ("involuntary", "bool"),
                     ("seeking_work", "bool"), ("employment_id", "int")],
    "injury_recognition": [("accident_date", "date"), ("applied_on", "date"),
                           ("applicant", "text"), ("work_related", "bool")],
    "injury_appraisal": [("concluded_on", "date"), ("grade", "int"), ("nursing_level", "int"),
                         ("own_wage_fen", "int")],
    "injury_costs": [("recognition_case_id", "int"), ("treated_on", "date"),
                     ("catalogue_fen", "int"), ("outside_fen", "int"), ("hospital_days", "int"),
                     ("device_type", "text"), ("device_cost_fen", "int"), ("care_level", "int"),
                     ("care_confirmed_on", "date"), ("payee", "text"), ("employer_id", "int")],
    "injury_death": [("death_date", "date"), ("deceased_person_id", "int"),
                     ("own_wage_fen", "int")],
    "maternity": [("birth_date", "date"), ("employer_avg_wage_fen", "int"),
                  ("difficult_birth", "bool"), ("extra_babies", "int"),
                  ("miscarriage_months", "int"), ("payee", "text"), ("employer_id", "int"),
                  ("prenatal_checks", "bool"), ("delivery_type", "text"),
                  ("medical_payee", "text"), ("provider_id", "int")],
    "survivors": [("deceased_person_id", "int")],
}


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def parse_facts(kind: str, f: dict) -> dict:
    out = {}
    for name, typ in FIELDS.get(kind, []):
        v = f.get(f"f_{name}")
        if typ == "bool":
            if f"f_{name}" in f or f.get(f"has_{name}"):
                out[name] = v in ("1", "on", "true", "yes")
            continue
        if v in (None, ""):
            continue
        if typ == "int":
            if not str(v).isdigit() or len(str(v)) > 15:
                raise InputError("a whole number", field=name)
            out[name] = int(v)
        elif typ == "date":
            try:
                out[name] = dt.date.fromisoformat(str(v)).isoformat()
            except ValueError:
                raise InputError("a date YYYY-MM-DD", field=name) from None
        else:
            out[name] = str(v)[:100]
    return _items(out)


# the form's one bill and one device are the first item of the claim's lists
_ITEMS = {"treatments": {"treated_on": "treated_on", "catalogue_fen": "catalogue_fen",
                         "outside_fen": "outside_fen"},
          "devices": {"device_type": "type", "device_cost_fen": "cost_fen"}}


def _items(facts: dict) -> dict:
    for name, keys in _ITEMS.items():
        item = {k: facts.pop(f) for f, k in keys.items() if f in facts}
        if item:
            facts[name] = [item]
    return facts


def form_facts(facts: dict) -> dict:
    """The claim's facts as the form shows them (the first bill and device)."""
    out = dict(facts)
    for name, keys in _ITEMS.items():
        first = (out.pop(name, None) or [{}])[0]
        if isinstance(first, dict):
            out.update({f: first.get(k) for f, k in keys.items() if first.get(k) is not None})
    return out


def _claim(eng, cid):
    try:
        return casework.claim(eng, cid)
    except InputError:
        return None


# ------------------------------------------------------------------------------ staff
@router.get("/staff/benefits")
def staff_list(request: Request, status: str = "", overdue: bool = False,
               user: User = Depends(user_with("benefit.case.work")), eng=Depends(engine)):
    region = user.actor().scope
    if overdue:
        rows = [c for c in case_queries.overdue(eng, _today(), region=region)
                if c.item.startswith("benefit.")]
    else:
        rows = case_queries.list_cases(eng, region=region, item_prefix="benefit.",
                                       status=status or None, limit=200)
    return render(request, "staff/benefit_cases.html", {
        "user": user, "cases": rows, "status": status, "overdue": overdue, "today": _today()})


@router.get("/staff/benefits/{case_id}")
def staff_case(request: Request, case_id: RecordId,
               user: User = Depends(user_with("benefit.case.work")), eng=Depends(engine)):
    return _staff_case(request, user, eng, case_id)


def _staff_case(request, user, eng, case_id, error=None, code=200):
    actor = user.actor()
    c = case_access.access_case(eng, actor, case_id, "back-office benefit case")
    cl = _claim(eng, case_id)
    kind = cl["kind"] if cl else {v: k for k, v in ITEM_OF_KIND.items()}.get(c.item)
    events = case_queries.events(eng, case_id)
    makers = [e["actor"] for e in events if e["action"] == "submit_decision"]
    own = c.status == "pending_check" and makers and makers[-1] == user.username
    return render(request, "staff/benefit_case.html", {
        "user": user, "c": c, "claim": cl, "kind": kind, "fields": FIELDS.get(kind, []),
        "facts": form_facts((cl or {}).get("facts") or {}), "comp": (cl or {}).get("computation"),
        "events": events, "error": error, "own_submission": own,
        "can_work": c.status in ("received", "in_progress") and kind is not None,
        "can_check": c.status == "pending_check" and not own
        and policy.has(actor, "benefit.decision.approve"),
        "is_appeal": c.item == appeals.ITEM}, status=code)


@router.post("/staff/benefits/{case_id}/{action}")
async def staff_action(request: Request, case_id: RecordId, action: str,
                       user: User = Depends(user_with("benefit.case.work")),
                       eng=Depends(engine)):
    f = await form(request)
    actor = user.actor()
    try:
        case_access.access_case(eng, actor, case_id, "benefit case work")
        cl = _claim(eng, case_id)
        c = case_queries.get(eng, case_id)
        if action == "compute":
            kind = cl["kind"] if cl else {v: k for k, v in ITEM_OF_KIND.items()}.get(c.item)
            casework.compute(eng, actor, case_id, parse_facts(kind, f))
        elif action == "submit":
            casework.submit(eng, actor, case_id)
        elif action == "approve":
            benefit_access.require_staff(actor, "benefit.decision.approve")
            if c.item == appeals.ITEM:
                appeals.approve_review(eng, actor, case_id)
            else:
                casework.approve(eng, actor, case_id)
        elif action == "send-back":
            casework.send_back(eng, actor, case_id, f.get("reason", ""))
        elif action == "review":
            benefit_access.require_staff(actor, "benefit.appeal.review")
            appeals.review(eng, actor, case_id, f.get("outcome", ""), f.get("reason", ""))
        else:
            raise InputError(f"unknown action {action}", field="action")
    except (InputError, ConflictError) as exc:
        msg = getattr(exc, "reason", None) or str(exc)
        field = getattr(exc, "field", None)
        return _staff_case(request, user, eng, case_id,
                           error=f"{field}: {msg}" if field else msg,
                           code=422 if isinstance(exc, InputError) else 409)
    return redirect(request, f"/staff/benefits/{case_id}?done={action}")


def _notice(eng, actor, case_id: int, lang: str) -> Response:
    c = case_access.access_case(eng, actor, case_id, "decision notice")
    if c.decided_on is None:
        raise InputError("the case is not decided yet", field="case_id")
    pdf = notice_pdf(decision_notice(c, _claim(eng, case_id), lang, load_rules()))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="decision-{case_id}-{lang}.pdf"'})


@router.get("/benefits/{case_id}/notice-{lang}.pdf")
def notice_pdf_page(case_id: RecordId, lang: str, user: User = Depends(current_user),
                    eng=Depends(engine)):
    if lang not in ("zh", "en"):
        raise InputError("lang is zh or en", field="lang")
    return _notice(eng, user.actor(), case_id, lang)


# ------------------------------------------------------------------------------ citizen
def _mine(request, user, eng, errors=None, code=200, opened=None):
    actor = user.actor()
    benefit_access.require_person_awards(eng, actor, user.person_id)
    rows = case_queries.list_cases(eng, person_id=user.person_id, item_prefix="benefit.",
                                   limit=100)
    return render(request, "citizen/benefits.html", {
        "user": user, "cases": sorted(rows, key=lambda c: c.id, reverse=True),
        "awards": awards.awards_of(eng, user.person_id),
        "pension": bq.person_benefits(eng, actor, user.person_id),
        "payments": bq.payments_of(eng, user.person_id), "errors": errors or {},
        "opened": opened, "today": _today()}, status=code)


@router.get("/me/benefits")
def my_benefits(request: Request, opened: int | None = None,
                user: User = Depends(citizen_user), eng=Depends(engine)):
    return _mine(request, user, eng, opened=opened)


@router.post("/me/benefits/apply/unemployment")
async def apply_unemployment(request: Request, user: User = Depends(citizen_user),
                             eng=Depends(engine)):
    f = await form(request)
    try:
        facts = parse_facts("unemployment", {**f, "has_involuntary": "1",
                                             "has_seeking_work": "1"})
        if "registered_on" not in facts:
            raise InputError("the date you registered as unemployed", field="registered_on")
        cid = casework.apply(eng, user.actor(), kind="unemployment",
                             person_id=user.person_id, region=user.scope, facts=facts,
                             channel="online")
    except (InputError, ConflictError, PermissionDenied) as exc:
        return _mine(request, user, eng, code=422, errors={
            getattr(exc, "field", None) or "_form": getattr(exc, "reason", None) or str(exc)})
    return redirect(request, f"/me/benefits/{cid}")


@router.get("/me/benefits/{case_id}")
def my_case(request: Request, case_id: RecordId, user: User = Depends(citizen_user),
            eng=Depends(engine), error: str | None = None):
    c = case_access.access_case(eng, user.actor(), case_id, "citizen portal: my case")
    cl = _claim(eng, case_id)
    return render(request, "citizen/benefit_case.html", {
        "user": user, "c": c, "comp": (cl or {}).get("computation"),
        "events": case_queries.events(eng, case_id), "error": error,
        "can_appeal": c.status in ("decided", "closed") and c.item != appeals.ITEM})


@router.post("/me/benefits/{case_id}/appeal")
async def my_appeal(request: Request, case_id: RecordId, user: User = Depends(citizen_user),
                    eng=Depends(engine)):
    f = await form(request)
    try:
        case_access.access_case(eng, user.actor(), case_id, "citizen portal: appeal")
        aid = appeals.file_appeal(eng, user.actor(), case_id, f.get("grounds", ""))
    except (InputError, ConflictError) as exc:
        return my_case(request, case_id, user, eng,
                       error=getattr(exc, "reason", None) or str(exc))
    return redirect(request, f"/me/benefits/{aid}")
