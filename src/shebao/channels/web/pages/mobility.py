"""Mobility pages: the citizen starts a transfer online and follows its steps (and certifies
being alive); the clerks of both ends see the steps their region must take, due first, and
take them; a transfer's page shows every step with its statutory due date."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.sharing.mobility_link import COURIER
from shebao.mobility import access, certification, queries, transfers
from shebao.security import policy
from shebao.security.service import User

from ..deps import engine
from ..render import render
from .common import RecordId, citizen_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"citizen": [("/me/transfers", "My transfers", 45, None)],
       "staff": [("/staff/transfers", "Relation transfers", 65, "mobility.transfer.work")]}
KINDS = ("pension", "medical")


def _msg(exc) -> str:
    return getattr(exc, "reason", None) or str(exc)


# ------------------------------------------------------------------------------ citizen
@router.get("/me/transfers")
def my_transfers(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return _mine(request, user, eng)


def _mine(request, user, eng, errors=None, values=None, code=200, flash=None):
    rows = queries.transfers_of(eng, user.actor(), user.person_id)
    cert = queries.certification(eng, user.person_id)
    return render(request, "citizen/transfers.html", {
        "user": user, "rows": rows, "kinds": KINDS, "errors": errors or {},
        "values": values or {"kind": "pension", "to_region": ""}, "cert": cert,
        "flash": flash or request.query_params.get("done")}, status=code)


@router.post("/me/transfers")
async def start_transfer(request: Request, user: User = Depends(citizen_user),
                         eng=Depends(engine)):
    f = await form(request)
    values = {"kind": f.get("kind", "pension"), "to_region": f.get("to_region", "")}
    if values["kind"] not in KINDS:
        return _mine(request, user, eng, {"kind": "choose a kind"}, values, 422)
    if not (values["to_region"].isdigit() and len(values["to_region"]) == 6):
        return _mine(request, user, eng, {"to_region": "a six-digit region code"}, values, 422)
    try:
        transfers.apply(eng, user.actor(), kind=values["kind"], person_id=user.person_id,
                        to_region=values["to_region"], channel="online", courier=COURIER)
    except (InputError, ConflictError, PermissionDenied) as exc:
        return _mine(request, user, eng, {getattr(exc, "field", None) or "to_region": _msg(exc)},
                     values, 403 if isinstance(exc, PermissionDenied) else 422)
    except Exception as exc:      # the unique live-transfer index: one at a time per kind
        if "uq_mobility_transfer_live" in str(exc) or "UNIQUE" in str(exc):
            return _mine(request, user, eng, {"kind": "a transfer of this kind is under way"},
                         values, 409)
        raise
    return redirect(request, "/me/transfers?done=applied")


@router.post("/me/transfers/{transfer_id}/withdraw")
async def withdraw_mine(request: Request, transfer_id: RecordId,
                        user: User = Depends(citizen_user), eng=Depends(engine)):
    try:
        transfers.withdraw(eng, user.actor(), transfer_id, "withdrawn by the applicant",
                           courier=COURIER)
    except (ConflictError, PermissionDenied, InputError) as exc:
        return _mine(request, user, eng, {"_form": _msg(exc)}, None, 409)
    return redirect(request, "/me/transfers?done=withdrawn")


@router.post("/me/certification")
async def certify_me(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    try:
        certification.certify(eng, user.actor(), user.person_id, None, "portal")
    except (ConflictError, InputError, PermissionDenied) as exc:
        return _mine(request, user, eng, {"_form": _msg(exc)}, None, 409)
    return redirect(request, "/me/transfers?done=certified")


# -------------------------------------------------------------------------------- staff
@router.get("/staff/transfers")
def queue(request: Request, user: User = Depends(user_with("mobility.transfer.work")),
          eng=Depends(engine)):
    return render(request, "staff/transfers.html", {
        "user": user, "rows": queries.work_queue(eng, user.actor(), limit=200)})


@router.get("/staff/transfers/{transfer_id}")
def transfer_view(request: Request, transfer_id: RecordId,
                  user: User = Depends(user_with("mobility.transfer.read")), eng=Depends(engine)):
    return _transfer(request, user, eng, transfer_id)


def _transfer(request, user, eng, tid, error=None, code=200):
    t = access.access_transfer(eng, user.actor(), tid, "back-office transfer view")
    actor = user.actor()
    open_step = next((s for s in t["steps"] if s["done_on"] is None), None)
    mine = open_step is not None and policy.in_region(actor, open_step["region"])
    return render(request, "staff/transfer.html", {
        "user": user, "t": t, "open_step": open_step, "mine": mine,
        "prepared": t["approval_id"] is not None, "error": error,
        "flash": request.query_params.get("done")}, status=code)


ACTIONS = {
    "letter": lambda eng, a, tid, f: transfers.send_contact_letter(eng, a, tid, courier=COURIER),
    "prepare-out": lambda eng, a, tid, f: transfers.request_transfer_out(
        eng, a, tid, months=int(f["months"]) if f.get("months", "").isdigit() else None),
    "approve-out": lambda eng, a, tid, f: transfers.approve_transfer_out(eng, a, tid,
                                                                        courier=COURIER),
    "record-in": lambda eng, a, tid, f: transfers.record_in(eng, a, tid, courier=COURIER),
    "refuse": lambda eng, a, tid, f: transfers.refuse(eng, a, tid, f.get("reason", ""),
                                                      courier=COURIER),
}


@router.post("/staff/transfers/{transfer_id}/{action}")
async def transfer_action(request: Request, transfer_id: RecordId, action: str,
                          user: User = Depends(user_with("mobility.transfer.work")),
                          eng=Depends(engine)):
    f = await form(request)
    if action not in ACTIONS:
        return _transfer(request, user, eng, transfer_id, f"unknown action {action}", 404)
    try:
        ACTIONS[action](eng, user.actor(), transfer_id, f)
    except (InputError, ConflictError, PermissionDenied) as exc:
        return _transfer(request, user, eng, transfer_id, _msg(exc),
                         403 if isinstance(exc, PermissionDenied) else 409)
    return redirect(request, f"/staff/transfers/{transfer_id}?done={action}")
