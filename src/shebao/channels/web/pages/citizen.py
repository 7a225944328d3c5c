"""Citizen portal: start page (my record), who has read my data and why, pension estimator
(the ``pension`` calculator). Contact details live with the registry pages."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.core.errors import InputError
from shebao.rules.calculators import calculate, registry
from shebao.security.service import User

from ..api.core import reads_of_person
from ..deps import engine
from ..render import render
from . import record
from .common import citizen_user, form

router = APIRouter(include_in_schema=False)
NAV = {"citizen": [("/me", "My record", 0, None), ("/me/estimate", "Pension estimate", 40, None),
                   ("/me/reads", "Who read my data", 60, None)]}

ESTIMATE_FIELDS = ("region", "retirement_date", "age_years", "avg_index", "contribution_months",
                   "account_balance")


def person_summary(eng, user: User):
    """The citizen's registry record and balances (see record.py)."""
    return record.citizen_summary(eng, user)


@router.get("/me")
def home(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return render(request, "citizen/home.html", {"user": user,
                                                 "summary": person_summary(eng, user)})


@router.get("/me/reads")
def reads(request: Request, cursor: str | None = None, user: User = Depends(citizen_user),
          eng=Depends(engine)):
    rows, nxt = reads_of_person(eng, user.person_id, 50, cursor)
    return render(request, "citizen/reads.html", {
        "user": user, "rows": rows, "next_url": f"/me/reads?cursor={nxt}" if nxt else None})


def estimate_defaults(eng, user: User) -> dict:
    """Pre-fill the estimator from the citizen's own record where the bureaus provide it."""
    values = {"region": user.scope if user.scope != "national" else "",
              "retirement_date": "", "age_years": "", "avg_index": "1.0",
              "contribution_months": "", "account_balance": ""}
    summary = person_summary(eng, user)
    if summary:
        values.update({k: v for k, v in summary.get("estimate", {}).items() if v not in (None, "")})
    return values


@router.get("/me/estimate")
def estimate_form(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return render(request, "citizen/estimate.html", {
        "user": user, "values": estimate_defaults(eng, user), "result": None,
        "available": "pension" in registry()})


@router.post("/me/estimate")
async def estimate(request: Request, user: User = Depends(citizen_user)):
    f = await form(request)
    values = {k: f.get(k, "") for k in ESTIMATE_FIELDS}
    req = {k: v for k, v in values.items() if v != ""}
    for k in ("age_years", "contribution_months"):
        if k in req and req[k].lstrip("-").isdigit():
            req[k] = int(req[k])
    errors, result = {}, None
    missing = [k for k in ESTIMATE_FIELDS if k not in req]
    if missing:
        errors = {k: "required" for k in missing}
    else:
        try:
            result = calculate("pension", req)
        except InputError as exc:
            errors[exc.field or "_form"] = exc.reason
    return render(request, "citizen/estimate.html", {
        "user": user, "values": values, "errors": errors, "result": result,
        "available": True}, status=422 if errors else 200)

