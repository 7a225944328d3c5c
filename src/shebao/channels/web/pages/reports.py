"""Reports pages: the monthly statistical report (table, chart, XLSX and PDF), the fund
statement of a region × scheme (tied out to the ledger) with the budget and final accounts,
and the administration budget against the collection benchmark. Subsidies, budgets and the
adoption of final accounts are proposed on the fund page and take effect when a second
administrator approves them on the proposals page (``reports.decisions``)."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shebao.core import regions
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.core.money import to_fen
from shebao.core.schemes import SCHEMES
from shebao.db.uow import now
from shebao.reports import decisions, export, funds, monthly
from shebao.reports.model import LINE_TITLE, LINES
from shebao.security import policy
from shebao.security.service import User

from ...admin_pdf import monthly_pdf
from ..deps import engine
from ..render import render
from .common import RecordId, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/reports", "Fund reports", 88, "reports.read"),
                 ("/staff/reports/proposals", "Fund decisions to check", 89, "reports.approve")]}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(month: str) -> str:
    if month:
        monthly.month_bounds(month)
        return month
    t = now().date().replace(day=1) - dt.timedelta(days=1)
    return f"{t.year:04d}-{t.month:02d}"


def _region(user: User, region: str) -> str:
    return region or user.scope


@router.get("/staff/reports")
def reports_home(request: Request, region: str = "", month: str = "",
                 user: User = Depends(user_with("reports.read")), eng=Depends(engine)):
    r, m = _region(user, region), _month(month)
    rep = monthly.monthly_report(eng, user.actor(), r, m)
    year = int(m[:4])
    admin = monthly.administration_budget(eng, user.actor(), r, year) \
        if r != regions.NATIONAL else None
    return render(request, "staff/reports.html", {
        "user": user, "rep": rep, "region": r, "month": m, "admin": admin,
        "schemes": SCHEMES, "year": year})


@router.get("/staff/reports/chart.png")
def chart(region: str = "", month: str = "", user: User = Depends(user_with("reports.read")),
          eng=Depends(engine)):
    r, m = _region(user, region), _month(month)
    png = export.series_png(monthly.series(eng, user.actor(), r, m), f"{r} 基金收支 {m}")
    return Response(png, media_type="image/png")


@router.get("/staff/reports/monthly.{fmt}")
def monthly_export(fmt: str, region: str = "", month: str = "",
                   user: User = Depends(user_with("reports.read")), eng=Depends(engine)):
    r, m = _region(user, region), _month(month)
    rep = monthly.monthly_report(eng, user.actor(), r, m)
    if fmt == "xlsx":
        body, mt = export.monthly_xlsx(rep), XLSX
    elif fmt == "pdf":
        body, mt = monthly_pdf(rep), "application/pdf"
    else:
        raise InputError("export as xlsx or pdf", field="format")
    return Response(body, media_type=mt, headers={
        "Content-Disposition": f'attachment; filename="monthly-{r}-{m}.{fmt}"'})


def _dates(date_from: str, date_to: str, year: int) -> tuple[dt.date, dt.date]:
    try:
        a = dt.date.fromisoformat(date_from) if date_from else dt.date(year, 1, 1)
        b = dt.date.fromisoformat(date_to) if date_to else dt.date(year, 12, 31)
    except ValueError:
        raise InputError("dates are YYYY-MM-DD", field="date_from") from None
    return a, b


@router.get("/staff/reports/fund")
def fund(request: Request, region: str = "", scheme: str = "pension", date_from: str = "",
         date_to: str = "", user: User = Depends(user_with("reports.read")),
         eng=Depends(engine)):
    return _fund(request, user, eng, region, scheme, date_from, date_to)


def _fund(request, user, eng, region, scheme, date_from="", date_to="", errors=None, code=200):
    r = _region(user, region)
    a, b = _dates(date_from, date_to, now().year)
    st = funds.statement(eng, user.actor(), r, scheme, a, b).as_json()
    final = funds.final_accounts(eng, user.actor(), r, scheme, a.year) if st["ties_out"] \
        else None
    pending = [p for p in decisions.proposals(eng, user.actor(), region=r)
               if p["scheme"] == scheme] if r != regions.NATIONAL else []
    return render(request, "staff/reports_fund.html", {
        "user": user, "st": st, "final": final, "region": r, "scheme": scheme,
        "schemes": SCHEMES, "lines": [k for k, _, _ in LINES], "errors": errors or {},
        "pending": pending, "adopted": decisions.adopted_final_accounts(eng, r, scheme, a.year)
        if r != regions.NATIONAL else None,
        "manage": policy.has(user.actor(), "reports.manage")}, status=code)


@router.post("/staff/reports/fund/{what}")
async def fund_write(request: Request, what: str,
                     user: User = Depends(user_with("reports.manage")), eng=Depends(engine)):
    """Propose a budget, a fiscal subsidy or the adoption of the year's final accounts; each
    waits for another administrator's approval."""
    f = await form(request)
    r, scheme = f.get("region", ""), f.get("scheme", "")
    year = f.get("year", "")
    year_n = int(year) if year.isdigit() and len(year) == 4 else 0
    try:
        if what == "budget":
            lines = {k: to_fen(f[k]) for k, _, _ in LINES if f.get(k)}
            decisions.propose_budget(eng, user.actor(), r, scheme, year_n, lines)
        elif what == "subsidy":
            decisions.propose_subsidy(eng, user.actor(), r, scheme, to_fen(f.get("amount", "")),
                                      dt.date.fromisoformat(f.get("received_on", "")),
                                      f.get("reference", ""))
        elif what == "final":
            decisions.propose_final_accounts(eng, user.actor(), r, scheme, year_n)
        else:
            raise InputError(f"nothing to do at {what!r}", field="_form")
    except ValueError:
        return _fund(request, user, eng, r, scheme, errors={"_form": "dates are YYYY-MM-DD"},
                     code=422)
    except (InputError, PermissionDenied, ConflictError, InvariantError) as exc:
        return _fund(request, user, eng, r, scheme,
                     errors={getattr(exc, "field", None) or "_form": str(exc)},
                     code=_status(exc))
    return redirect(request, f"/staff/reports/fund?region={r}&scheme={scheme}")


def _status(exc) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 409 if isinstance(
        exc, (ConflictError, InvariantError)) else 422


@router.get("/staff/reports/proposals")
def proposals_page(request: Request, region: str = "",
                   user: User = Depends(user_with("reports.read")), eng=Depends(engine)):
    return _proposals(request, user, eng, region)


def _proposals(request, user, eng, region="", errors=None, code=200):
    r = _region(user, region)
    return render(request, "staff/reports_proposals.html", {
        "user": user, "region": r, "errors": errors or {}, "titles": LINE_TITLE,
        "pending": decisions.proposals(eng, user.actor(), region=r),
        "decided": sorted((p for s in ("approved", "rejected") for p in decisions.proposals(
            eng, user.actor(), region=r, status=s, limit=50, newest_first=True)),
            key=lambda p: -p["id"])[:50],
        "approve": policy.has(user.actor(), "reports.approve")}, status=code)


@router.post("/staff/reports/proposals/{proposal_id}/{verdict}")
async def proposal_decide(request: Request, proposal_id: RecordId, verdict: str,
                          user: User = Depends(user_with("reports.approve")),
                          eng=Depends(engine)):
    """The second administrator approves (posts, adopts) or refuses with a reason."""
    f = await form(request)
    try:
        if verdict == "approve":
            decisions.approve(eng, user.actor(), proposal_id)
        elif verdict == "reject":
            decisions.reject(eng, user.actor(), proposal_id, f.get("reason", ""))
        else:
            raise InputError("approve or reject", field="_form")
    except (InputError, PermissionDenied, ConflictError, InvariantError) as exc:
        return _proposals(request, user, eng, f.get("region", ""),
                          errors={getattr(exc, "field", None) or "_form": str(exc)},
                          code=_status(exc))
    return redirect(request, "/staff/reports/proposals")


@router.get("/staff/reports/fund.xlsx")
def fund_xlsx(region: str = "", scheme: str = "pension", date_from: str = "",
              date_to: str = "", user: User = Depends(user_with("reports.read")),
              eng=Depends(engine)):
    r = _region(user, region)
    a, b = _dates(date_from, date_to, now().year)
    st = funds.statement(eng, user.actor(), r, scheme, a, b).as_json()
    return Response(export.statement_xlsx(st), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="fund-{r}-{scheme}-{a}-{b}.xlsx"'})
