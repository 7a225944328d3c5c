"""The yearly resident enrolment campaign for clerks (#16 point 1, ``/staff/residents``): the
campaigns of a region with their window, contribution, subsidy and sign-up counts, and the
universal-registration work sheet — people, uninsured for pension / medical / both and signed
up for the campaign year, by region and age group; a collection clerk opens next year's
campaign (window and amounts from the parameters in force)."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from shebao.core.errors import ConflictError, InputError
from shebao.residents import campaign
from shebao.security.service import User

from ..deps import engine
from ..render import render
from .common import form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/residents", "Resident enrolment campaign", 58, "residents.read")]}


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def _page(request, user, eng, region: str, year: int, on: dt.date, error=None, code=200):
    rows = campaign.registration_table(eng, user.actor(), region, on, year) if region else []
    totals = {k: sum(r[k] for r in rows) for k in
              ("people", "no_pension", "no_medical", "uninsured", "enrolled")}
    return render(request, "staff/residents.html", {
        "user": user, "region": region, "year": year, "on": on, "rows": rows,
        "totals": totals, "error": error,
        "campaigns": campaign.campaign_list(eng, user.actor(), region) if region else []},
        status=code)


def _params(user, region: str, year: str, on: str) -> tuple[str, int, dt.date]:
    region = (region or (user.scope if user.scope != "national" else "")).strip()
    try:
        day = dt.date.fromisoformat(on) if on else _today()
    except ValueError:
        raise InputError("a date YYYY-MM-DD", field="on") from None
    if year and not (year.isdigit() and len(year) == 4):
        raise InputError("a year such as 2026", field="year")
    return region, int(year) if year else day.year + 1, day


@router.get("/staff/residents")
def residents(request: Request, region: str = "", year: str = "", on: str = "",
              user: User = Depends(user_with("residents.read")), eng=Depends(engine)):
    return _page(request, user, eng, *_params(user, region, year, on))


@router.post("/staff/residents/campaigns")
async def open_campaign(request: Request, user: User = Depends(user_with("residents.campaign")),
                        eng=Depends(engine)):
    f = await form(request)
    region, year, on = _params(user, f.get("region", ""), f.get("year", ""), "")
    try:
        campaign.open_campaign(eng, user.actor(), region, year)
    except (InputError, ConflictError) as exc:
        return _page(request, user, eng, region, year, on,
                     error=getattr(exc, "reason", None) or str(exc),
                     code=422 if isinstance(exc, InputError) else 409)
    return redirect(request, f"/staff/residents?region={region}&year={year}")
