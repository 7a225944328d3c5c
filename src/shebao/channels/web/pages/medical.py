"""Medical insurance pages (#16 point 6).

Citizen (``/me/medical``): the medical individual account (balance and every credit and debit
with where it came from), claims with their settlement split (fund / serious-illness layer /
account / self-pay) and the catalogue class of each bill line, off-site registrations with the
form to register off-site care, manual reimbursement claims (submitted online, a case due in
the catalogue's 30 working days), and — for a resident — the resident scheme enrolments and the
resident pension account.

Staff: ``/staff/medical`` the manual-claims queue of the clerk's region (overdue first),
``/staff/medical/claims/{case}`` a claim with its bill lines and the computed split, decide
(maker) and approve or send back (checker: never the maker, enforced by the service),
``/staff/persons/{id}/medical`` a person's medical record (audited read),
``/staff/medical/providers/{code}`` a provider's claims (persons masked).
"""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.medical import access as medical_access
from shebao.medical import manual, offsite
from shebao.medical.model import CATEGORIES
from shebao.residents import access as resident_access
from shebao.security import policy
from shebao.security.service import User

from ..deps import engine
from ..render import render
from .common import RecordId, citizen_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/medical", "Manual medical claims", 56, "medical.claim.work")],
       "citizen": [("/me/medical", "My medical insurance", 27, None)]}
LINES = 5            # bill lines on the online form
# (category, subtype) pairs of an off-site registration, as offered on the form
OFFSITE_CHOICES = [(c, s) for c, subs in CATEGORIES.items() for s in subs]


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def _message(exc: Exception) -> tuple[str, str]:
    """(field, message naming the bill line when there is one) of a refusal."""
    msg = getattr(exc, "reason", None) or str(exc)
    row = getattr(exc, "row", None)
    return (getattr(exc, "field", None) or "_form", f"#{row} {msg}" if row else msg)


# ------------------------------------------------------------------------------ citizen
def _record(eng, actor, person_id: int, purpose: str) -> dict:
    """What both the citizen's page and the staff view show of one person."""
    rec = medical_access.person_medical(eng, actor, person_id, purpose)
    manual_cases = case_queries.list_cases(eng, person_id=person_id, item=manual.ITEM,
                                           limit=100)
    claims_by_case = {c["case_id"]: c for c in rec["claims"] if c["case_id"]}
    return {"rec": rec, "manual": [(c, claims_by_case.get(c.id))
                                   for c in sorted(manual_cases, key=lambda c: -c.id)],
            "resident": resident_access.person_resident(eng, actor, person_id, purpose)}


def _mine(request, user: User, eng, *, errors=None, values=None, code=200):
    region = user.scope if user.scope and user.scope != "national" else None
    limit = None
    if region:
        it = catalogue.item(manual.ITEM, region, _today())
        limit = {"limit": it.limit, "unit": it.limit_unit}
    return render(request, "citizen/medical.html", {
        "user": user, **_record(eng, user.actor(), user.person_id, "citizen portal: medical"),
        "limit": limit, "lines": range(1, LINES + 1), "choices": OFFSITE_CHOICES,
        "errors": errors or {}, "values": values or {}, "today": _today(),
        "opened": request.query_params.get("opened"),
        "registered": request.query_params.get("registered")}, status=code)


@router.get("/me/medical")
def my_medical(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return _mine(request, user, eng)


def bill_from_form(f: dict, person_id: int) -> dict:
    """The online form's fields → the claim payload of ``manual.open_manual_claim``."""
    lines = [{"item_code": f.get(f"item_{i}", ""), "amount": f.get(f"amount_{i}", "")}
             for i in range(1, LINES + 1) if f.get(f"item_{i}") or f.get(f"amount_{i}")]
    return {"provider": f.get("provider", ""), "bill_no": f.get("bill_no", ""),
            "person_id": person_id, "kind": f.get("kind") or "inpatient",
            "admitted_on": f.get("admitted_on", ""),
            "discharged_on": f.get("discharged_on") or None,
            "treatment_region": f.get("treatment_region") or None,
            "emergency": f.get("emergency") == "1", "use_account": f.get("use_account") == "1",
            "lines": lines}


@router.post("/me/medical/manual-claims")
async def my_manual_claim(request: Request, user: User = Depends(citizen_user),
                          eng=Depends(engine)):
    f = await form(request)
    try:
        got = manual.open_manual_claim(eng, user.actor(), bill_from_form(f, user.person_id),
                                       channel="online")
    except (InputError, ConflictError, PermissionDenied) as exc:
        field, msg = _message(exc)
        return _mine(request, user, eng, errors={field: msg}, values=f,
                     code=409 if isinstance(exc, ConflictError) else 422)
    return redirect(request, f"/me/medical?opened={got['case_id']}#manual")


@router.post("/me/medical/offsite")
async def my_offsite(request: Request, user: User = Depends(citizen_user),
                     eng=Depends(engine)):
    f = await form(request)
    category, _, subtype = (f.get("category") or "").partition(":")
    try:
        try:
            start = dt.date.fromisoformat(f.get("valid_from") or "")
        except ValueError:
            raise InputError("a date YYYY-MM-DD", field="valid_from") from None
        got = offsite.register(eng, user.actor(), person_id=user.person_id,
                               treatment_region=f.get("treatment_region", ""),
                               category=category, subtype=subtype, valid_from=start,
                               channel="online")
    except (InputError, ConflictError, PermissionDenied) as exc:
        field, msg = _message(exc)
        return _mine(request, user, eng, errors={field: msg}, values=f, code=422)
    return redirect(request, f"/me/medical?registered={got['registration_id']}#offsite")


# ------------------------------------------------------------------------------ staff
@router.get("/staff/medical")
def queue(request: Request, status: str = "",
          user: User = Depends(user_with("medical.claim.work")), eng=Depends(engine)):
    rows = medical_access.manual_claim_queue(eng, user.actor(), _today(),
                                             status=status or None)
    return render(request, "staff/medical_claims.html", {
        "user": user, "rows": rows, "status": status, "today": _today()})


def _claim_page(request, user, eng, case_id, error=None, code=200):
    actor = user.actor()
    d = medical_access.manual_claim(eng, actor, case_id, "manual medical claim")
    c = d["case"]
    events = case_queries.events(eng, case_id)
    makers = [e["actor"] for e in events if e["action"] == "submit_decision"]
    own = c.status == "pending_check" and bool(makers) and makers[-1] == user.username
    return render(request, "staff/medical_claim.html", {
        "user": user, **d, "c": c, "events": events, "error": error, "own_submission": own,
        "can_decide": c.status in ("received", "in_progress") and d["claim"]["status"] ==
        "pending",
        "can_check": c.status == "pending_check" and not own
        and policy.has(actor, "medical.claim.approve"), "today": _today()}, status=code)


@router.get("/staff/medical/claims/{case_id}")
def claim_page(request: Request, case_id: RecordId,
               user: User = Depends(user_with("medical.claim.work")), eng=Depends(engine)):
    return _claim_page(request, user, eng, case_id)


@router.post("/staff/medical/claims/{case_id}/{action}")
async def claim_action(request: Request, case_id: RecordId, action: str,
                       user: User = Depends(user_with("medical.claim.work")),
                       eng=Depends(engine)):
    f = await form(request)
    actor = user.actor()
    try:
        medical_access.manual_claim(eng, actor, case_id, "manual medical claim work")
        if action == "decide":
            manual.propose(eng, actor, case_id, f.get("outcome", ""), f.get("reason") or None)
        elif action == "approve":
            policy.require(actor, "medical.claim.approve")
            manual.approve(eng, actor, case_id)
        elif action == "send-back":
            if not f.get("reason"):
                raise InputError("say what to rework", field="reason")
            manual.reject(eng, actor, case_id, f["reason"])
        else:
            raise InputError(f"unknown action {action}", field="action")
    except (InputError, ConflictError) as exc:
        field, msg = _message(exc)
        return _claim_page(request, user, eng, case_id,
                           error=f"{field}: {msg}" if field != "_form" else msg,
                           code=422 if isinstance(exc, InputError) else 409)
    return redirect(request, f"/staff/medical/claims/{case_id}?done={action}")


@router.get("/staff/persons/{person_id}/medical")
def person_medical(request: Request, person_id: RecordId,
                   user: User = Depends(user_with("medical.claim.read")), eng=Depends(engine)):
    why = (request.query_params.get("purpose") or "").strip()[:200] or \
        "back-office medical record"
    return render(request, "staff/person_medical.html", {
        "user": user, "person_id": person_id, "today": _today(),
        **_record(eng, user.actor(), person_id, why)})


@router.get("/staff/medical/providers/{code}")
def provider_claims(request: Request, code: str,
                    user: User = Depends(user_with("medical.claim.read")),
                    eng=Depends(engine)):
    d = medical_access.provider_claims_for_staff(eng, user.actor(), code[:32])
    return render(request, "staff/medical_provider.html", {"user": user, **d})


def person_section(eng, actor, person_id: int) -> dict | None:
    """A link from the staff person page to the person's medical record."""
    if not policy.has(actor, "medical.claim.read"):
        return None
    return {"template": "staff/_medical_link.html", "person_id": person_id}
