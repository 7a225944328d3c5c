"""Organisation pages: the service catalogue with on-time rates per item and outlet and the
overdue list (staff); the organisation (tree to the grid, outlets, staff) with the
administrator's forms; staffing from workload; outsourcing (providers, contracts, measured
performance, exit); the citizen's catalogue, cases and satisfaction ratings (好差评)."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core import regions
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import to_fen
from shebao.db.uow import now
from shebao.org import outsourcing, queries, service, staffing
from shebao.security import policy
from shebao.security.service import User

from ..deps import engine
from ..render import render
from .common import RecordId, citizen_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/catalogue", "Service catalogue", 80, "org.read"),
                 ("/staff/org", "Organisation", 82, "org.read")],
       "citizen": [("/me/services", "Services", 30, None)]}
ERRORS = (InputError, ConflictError, PermissionDenied)
PERIOD_DAYS = 90


def _today() -> dt.date:
    return (now() + dt.timedelta(hours=8)).date()   # China Standard Time, as the cases use


def _period(date_from: str, date_to: str) -> tuple[dt.date, dt.date]:
    try:
        b = dt.date.fromisoformat(date_to) if date_to else _today()
        a = dt.date.fromisoformat(date_from) if date_from else b - dt.timedelta(days=PERIOD_DAYS)
    except ValueError:
        raise InputError("dates are YYYY-MM-DD", field="date_from") from None
    return a, b


def _region(user: User, region: str) -> str:
    r = region or (user.scope if user.scope != regions.NATIONAL else "")
    if not r:
        raise InputError("choose a region", field="region")
    return r


def _fail(exc) -> tuple[dict, int]:
    code = 403 if isinstance(exc, PermissionDenied) else 409 if isinstance(exc, ConflictError) \
        else 422
    return {getattr(exc, "field", None) or "_form": str(exc)}, code


# ---------------------------------------------------------------- catalogue (staff)
@router.get("/staff/catalogue")
def staff_catalogue(request: Request, region: str = "", date_from: str = "", date_to: str = "",
                    user: User = Depends(user_with("org.read")), eng=Depends(engine)):
    r = _region(user, region)
    policy.require_region(user.actor(), r)
    a, b = _period(date_from, date_to)
    today = _today()
    items = catalogue.items(r, today)
    names = {i.code: i for i in items}
    rates = case_queries.on_time(eng, a, b, region=r, today=today)
    return render(request, "staff/catalogue.html", {
        "user": user, "region": r, "items": items, "names": names, "rates": rates,
        "overdue": case_queries.overdue(eng, today, region=r, limit=200),
        "date_from": a, "date_to": b, "today": today})


# ---------------------------------------------------------------- organisation
@router.get("/staff/org")
def org_home(request: Request, region: str = "", user: User = Depends(user_with("org.read")),
             eng=Depends(engine)):
    return _org(request, user, eng, region)


def _org(request, user, eng, region="", errors=None, values=None, code=200):
    r = _region(user, region)
    policy.require_region(user.actor(), r)
    today = _today()
    mine = queries.outlet_of(eng, user.username, today)
    return render(request, "staff/org.html", {
        "user": user, "region": r, "tree": queries.hierarchy(eng, r),
        "outlets": queries.outlets(eng, r),
        "staff": queries.assignments(eng, on=today, scope=r), "mine": mine,
        "manage": policy.has(user.actor(), "org.manage"), "errors": errors or {},
        "values": values or {}, "kinds": ("counter", "kiosk", "bank_agent", "village_agent"),
        "classes": ("administrative", "professional", "operational")}, status=code)


@router.post("/staff/org/{what}")
async def org_add(request: Request, what: str, user: User = Depends(user_with("org.manage")),
                  eng=Depends(engine)):
    f = await form(request)
    actor = user.actor()
    try:
        if what == "units":
            hh = f.get("households", "")
            service.add_unit(eng, actor, f.get("code", ""), f.get("name", ""),
                             households=int(hh) if hh.isdigit() else None)
        elif what == "outlets":
            service.add_outlet(eng, actor, f.get("code", ""), f.get("name", ""),
                               f.get("kind", ""), f.get("region", ""),
                               unit_code=f.get("unit_code") or None)
        elif what == "assign":
            fte = f.get("fte_pct", "100")
            service.assign(eng, actor, f.get("username", ""), f.get("outlet", ""),
                           f.get("staff_class", ""), valid_from=_today(),
                           is_head=f.get("is_head") == "on",
                           fte_pct=int(fte) if fte.isdigit() else -1)
        else:
            raise InputError(f"nothing to add at {what!r}", field="_form")
    except ERRORS as exc:
        errors, code = _fail(exc)
        return _org(request, user, eng, "", errors, f, code)
    return redirect(request, "/staff/org")


@router.get("/staff/org/staffing")
def staffing_page(request: Request, region: str = "", date_from: str = "", date_to: str = "",
                  user: User = Depends(user_with("org.read")), eng=Depends(engine)):
    r = _region(user, region)
    a, b = _period(date_from, date_to)
    rep = staffing.staffing_report(eng, user.actor(), r, a, b)
    return render(request, "staff/org_staffing.html", {"user": user, "rep": rep})


# ---------------------------------------------------------------- outsourcing
@router.get("/staff/org/outsourcing")
def outsourcing_page(request: Request, user: User = Depends(user_with("org.read")),
                     eng=Depends(engine)):
    return _outsourcing(request, user, eng)


def _outsourcing(request, user, eng, errors=None, values=None, code=200):
    scope = user.scope
    b = _today()
    a = b - dt.timedelta(days=PERIOD_DAYS)
    contracts = queries.contracts(eng, scope=scope)
    for c in contracts:
        c["performance"] = outsourcing.performance(eng, user.actor(), c["id"], a, b)
    return render(request, "staff/org_outsourcing.html", {
        "user": user, "providers": queries.providers(eng, scope), "contracts": contracts,
        "items": catalogue.items(scope if scope != regions.NATIONAL else "310000", b),
        "manage": policy.has(user.actor(), "org.manage"), "errors": errors or {},
        "values": values or {}, "date_from": a, "date_to": b}, status=code)


@router.post("/staff/org/outsourcing/{what}")
async def outsourcing_add(request: Request, what: str,
                          user: User = Depends(user_with("org.manage")), eng=Depends(engine)):
    f = await form(request)
    actor = user.actor()
    try:
        if what == "providers":
            outsourcing.add_provider(eng, actor, f.get("code", ""), f.get("name", ""),
                                     f.get("region", ""))
        elif what == "contracts":
            pid = f.get("provider_id", "")
            outsourcing.add_contract(
                eng, actor, int(pid) if pid.isdigit() else 0, f.get("item", ""),
                f.get("region", ""), valid_from=dt.date.fromisoformat(f.get("valid_from", "")),
                valid_to=dt.date.fromisoformat(f.get("valid_to", "")),
                price_fen=to_fen(f.get("price", "")),
                access_criteria=f.get("access_criteria", "").splitlines(),
                target_on_time_pct=int(f.get("target_on_time_pct", "0") or 0),
                target_rating_x100=to_fen(f.get("target_rating", "0") or "0"))
        elif what.isdigit():
            outsourcing.end_contract(eng, actor, int(what), _today(), f.get("reason", ""))
        else:
            raise InputError(f"nothing to do at {what!r}", field="_form")
    except ValueError:
        return _outsourcing(request, user, eng, {"_form": "dates are YYYY-MM-DD"}, f, 422)
    except ERRORS as exc:
        errors, code = _fail(exc)
        return _outsourcing(request, user, eng, errors, f, code)
    return redirect(request, "/staff/org/outsourcing")


# ---------------------------------------------------------------- citizens
@router.get("/me/services")
def citizen_services(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return _citizen(request, user, eng)


def _citizen(request, user, eng, error=None, code=200, flash=None):
    region = user.scope if user.scope != regions.NATIONAL else "310000"
    items = [i for i in catalogue.items(region, _today()) if i.subject == "person"]
    mine = case_queries.list_cases(eng, person_id=user.person_id, limit=50)
    rated = {c.id: case_queries.rating(eng, c.id) for c in mine}
    return render(request, "citizen/services.html", {
        "user": user, "items": items, "names": {i.code: i for i in catalogue.items(
            region, _today())}, "cases": mine, "rated": rated, "error": error,
        "flash": flash}, status=code)


@router.post("/me/services/cases/{case_id}/rating")
async def rate(request: Request, case_id: RecordId, user: User = Depends(citizen_user),
               eng=Depends(engine)):
    f = await form(request)
    score = f.get("score", "")
    try:
        cases.rate(eng, user.actor(), case_id, int(score) if score.isdigit() else 0,
                   f.get("comment") or None)
    except ERRORS as exc:
        _, code = _fail(exc)
        return _citizen(request, user, eng, str(exc), code)
    return redirect(request, "/me/services")
