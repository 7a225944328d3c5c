"""Pages of the social security card: the citizen's card and e-card (a QR code of a signed,
short-lived credential), and the back office's card applications and e-card check."""
from __future__ import annotations

import segno
from fastapi import APIRouter, Depends, Request

from shebao.cards import access, ecard
from shebao.cards import service as cards
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.security.lockout import utc
from shebao.security.service import User

from ..deps import engine
from ..render import render
from ..signing_keys import ecard_key
from .common import RecordId, citizen_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"citizen": [("/me/card", "Social security card", 50, None)],
       "staff": [("/staff/cards", "Card applications", 45, "card.work"),
                 ("/staff/cards/verify", "Check an e-card", 46, "card.verify")]}

STATUS = {"applied": "Applied for, being made", "issued": "Made, not yet activated",
          "active": "In use", "lost": "Reported lost (frozen)",
          "replaced": "Replaced by a new card", "cancelled": "Cancelled"}
REASONS = {"malformed": "Not an e-card code", "signature": "Not signed by this bureau",
           "expired": "The code has expired: ask for a fresh one",
           "not_yet_valid": "The code is not valid yet", "revoked": "The card was reported lost",
           "card_not_active": "The card is not in use"}
PURPOSES = ("identity check at the counter", "medical settlement", "benefit claim")
ERRORS = (InputError, InvariantError, ConflictError, PermissionDenied)


def _err(exc) -> dict:
    return {getattr(exc, "field", None) or "_form": getattr(exc, "reason", None) or str(exc)}


def _card_page(request: Request, user: User, eng, errors=None, status=200):
    c = access.my_card(eng, user.actor())
    return render(request, "citizen/card.html", {
        "user": user, "card": c, "status_label": STATUS.get(c["status"]) if c else None,
        "errors": errors or {}, "values": {}}, status=status)


@router.get("/me/card")
def my_card(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return _card_page(request, user, eng)


@router.post("/me/card/{action}")
async def card_action(request: Request, action: str, user: User = Depends(citizen_user),
                      eng=Depends(engine)):
    f = await form(request)
    actor, pid = user.actor(), user.person_id
    try:
        c = access.my_card(eng, actor)
        if action == "apply":
            cards.apply(eng, actor, pid, channel="online")
        elif action == "replace":
            cards.apply_replacement(eng, actor, pid, reason=f.get("reason", ""), channel="online")
        elif c is None:
            raise InputError("you have no card yet: apply for one", field="_form")
        elif action == "activate":
            cards.activate(eng, actor, c["id"])
        elif action == "loss":
            cards.report_loss(eng, actor, c["id"])
        elif action == "bank":
            cards.link_bank(eng, actor, c["id"], bank_name=f.get("bank_name", ""),
                            bank_account=f.get("bank_account", ""))
        else:
            raise InputError("unknown action", field="_form")
    except ERRORS as exc:
        return _card_page(request, user, eng, _err(exc), status=422)
    return redirect(request, "/me/card")


@router.get("/me/ecard")
def my_ecard(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    try:
        cred = ecard.issue_credential(eng, user.actor(), ecard_key(request))
    except ERRORS as exc:
        return _card_page(request, user, eng, _err(exc), status=422)
    qr = segno.make(cred["token"], error="m").svg_data_uri(scale=3, border=4)
    return render(request, "citizen/ecard.html", {
        "user": user, "cred": cred, "qr": qr, "expires_at": utc(cred["expires_at"])})


# ----------------------------------------------------------------------- back office
@router.get("/staff/cards")
def applications_page(request: Request, user: User = Depends(user_with("card.work")),
                      eng=Depends(engine)):
    return applications(request, user, eng)


def applications(request: Request, user: User, eng, flash: str | None = None, errors=None,
                 status: int = 200):
    rows = access.list_cards(eng, user.actor(), "applied", limit=100)
    return render(request, "staff/cards.html", {"user": user, "rows": rows, "flash": flash,
                                                "errors": errors or {}}, status=status)


@router.post("/staff/cards/{card_id}/issue")
async def issue(request: Request, card_id: RecordId, user: User = Depends(user_with("card.work")),
                eng=Depends(engine)):
    try:
        card_no = cards.issue(eng, user.actor(), card_id)
    except ERRORS as exc:
        return applications(request, user, eng, errors=_err(exc), status=422)
    return applications(request, user, eng, flash=card_no)


@router.get("/staff/cards/verify")
def verify_form(request: Request, user: User = Depends(user_with("card.verify"))):
    return render(request, "staff/ecard_verify.html", {"user": user, "result": None,
                                                       "purposes": PURPOSES, "values": {}})


@router.post("/staff/cards/verify")
async def verify(request: Request, user: User = Depends(user_with("card.verify")),
                 eng=Depends(engine)):
    f = await form(request)
    values = {"token": f.get("token", ""), "purpose": f.get("purpose", "")}
    try:
        result = ecard.verify(eng, user.actor(), [ecard_key(request).public], values["token"],
                              purpose=values["purpose"])
    except ERRORS as exc:
        return render(request, "staff/ecard_verify.html", {
            "user": user, "result": None, "purposes": PURPOSES, "values": values,
            "errors": _err(exc)}, status=422)
    return render(request, "staff/ecard_verify.html", {
        "user": user, "result": result, "reason_label": REASONS.get(result["reason"] or ""),
        "purposes": PURPOSES, "values": {"purpose": values["purpose"]}})
