"""Reports pages: the monthly statistical report (table, chart, XLSX and PDF), the fund
statement of a region × scheme (tied out to the ledger) with the budget and final accounts,
and the administration budget against the collection benchmark."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shebao.core import regions
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.money import to_fen
from shebao.core.schemes import SCHEMES
from shebao.db.uow import now
from shebao.reports import export, funds, monthly
from shebao.reports.model import LINES
from shebao.security import policy
from shebao.security.service import User

from ...admin_pdf import monthly_pdf
from ..deps import engine
from ..render import render
from .common import form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/reports", "Fund reports", 88, "reports.read")]}
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
    return render(request, "staff/reports_fund.html", {
        "user": user, "st": st, "final": final, "region": r, "scheme": scheme,
        "schemes": SCHEMES, "lines": [k for k, _, _ in LINES], "errors": errors or {},
        "manage": policy.has(user.actor(), "reports.manage")}, status=code)


@router.post("/staff/reports/fund/{what}")
async def fund_write(request: Request, what: str,
                     user: User = Depends(user_with("reports.manage")), eng=Depends(engine)):
    f = await form(request)
    r, scheme = f.get("region", ""), f.get("scheme", "")
    try:
        if what == "budget":
            year = f.get("year", "")
            lines = {k: to_fen(f[k]) for k, _, _ in LINES if f.get(k)}
            funds.set_budget(eng, user.actor(), r, scheme, int(year) if year.isdigit() else 0,
                             lines)
        elif what == "subsidy":
            funds.record_subsidy(eng, user.actor(), r, scheme, to_fen(f.get("amount", "")),
                                 dt.date.fromisoformat(f.get("received_on", "")),
                                 f.get("reference", ""))
        else:
            raise InputError(f"nothing to do at {what!r}", field="_form")
    except ValueError:
        return _fund(request, user, eng, r, scheme, errors={"_form": "dates are YYYY-MM-DD"},
                     code=422)
    except (InputError, PermissionDenied) as exc:
        return _fund(request, user, eng, r, scheme,
                     errors={getattr(exc, "field", None) or "_form": str(exc)},
                     code=403 if isinstance(exc, PermissionDenied) else 422)
    return redirect(request, f"/staff/reports/fund?region={r}&scheme={scheme}")


@router.get("/staff/reports/fund.xlsx")
def fund_xlsx(region: str = "", scheme: str = "pension", date_from: str = "",
              date_to: str = "", user: User = Depends(user_with("reports.read")),
              eng=Depends(engine)):
    r = _region(user, region)
    a, b = _dates(date_from, date_to, now().year)
    st = funds.statement(eng, user.actor(), r, scheme, a, b).as_json()
    return Response(export.statement_xlsx(st), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="fund-{r}-{scheme}-{a}-{b}.xlsx"'})
