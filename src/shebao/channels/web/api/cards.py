"""API: social security cards and the e-card.

Citizens: ``/me/card`` (their card; apply, replacement, activate, report lost, bank link) and
``POST /me/ecard`` (a fresh signed QR credential). Staff: ``/cards`` (applications to issue),
``/cards/{id}/issue``, ``/cards/ecard/verify`` (a counter checks a credential). Anyone:
``/cards/ecard/keys`` (the public key, for offline verifiers) and
``/cards/ecard/revocations`` (revoked credentials not yet expired).
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shebao.cards import access, ecard, queries
from shebao.cards import service as cards
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.security.lockout import utc

from .. import pagination
from ..deps import current_actor, engine
from ..pagination import Page
from ..signing_keys import ecard_key
from .params import Cursor, Limit, PathId

router = APIRouter(tags=["cards"])
Since = Annotated[str | None, Query(
    pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$",
    description="only revocations after this instant (ISO 8601)")]


class CardOut(BaseModel):
    id: int
    status: str
    card_no: str | None
    generation: int
    region: str
    case_id: int | None
    applied_at: dt.datetime
    issued_on: dt.date | None
    activated_at: dt.datetime | None
    lost_at: dt.datetime | None
    bank_name: str | None
    bank_account: str | None = Field(None, description="masked")


class CardBrief(CardOut):
    holder: str
    citizen_id: str


class ReplacementIn(BaseModel):
    reason: Literal["lost", "damaged"]


class BankIn(BaseModel):
    bank_name: str = Field(min_length=1, max_length=64)
    bank_account: str = Field(min_length=12, max_length=40)


class Credential(BaseModel):
    token: str
    jti: str
    card_no: str
    expires_at: dt.datetime


class VerifyIn(BaseModel):
    token: str = Field(min_length=1, max_length=4000)
    purpose: str = Field(min_length=1, max_length=200)


class Holder(BaseModel):
    name: str
    citizen_id: str = Field(description="masked")
    card_no: str
    region: str
    expires_at: dt.datetime


class Verified(BaseModel):
    valid: bool
    reason: str | None = Field(None, description="malformed, signature, expired, not_yet_valid, "
                                                 "revoked or card_not_active")
    holder: Holder | None


class Revoked(BaseModel):
    jti: str
    revoked_at: dt.datetime
    reason: str | None
    expires_at: dt.datetime


def _card(row: dict | None) -> CardOut | None:
    if row is None:
        return None
    return CardOut(**{k: (utc(v) if isinstance(v, dt.datetime) else v) for k, v in row.items()
                      if k in CardOut.model_fields})


def _citizen(actor: Actor) -> int:
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("this is the citizen's own card")
    return actor.person_id


def _mine(eng, actor: Actor) -> dict:
    c = access.my_card(eng, actor)
    if c is None:
        raise InputError("you have no card yet: apply for one", field="card")
    return c


@router.get("/me/card", response_model=CardOut | None, summary="My card (or null)")
def my_card(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return _card(access.my_card(eng, actor))


@router.post("/me/card/application", response_model=CardOut, status_code=201,
             summary="Apply for a card (opens a case cards.application)")
def apply(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    cards.apply(eng, actor, _citizen(actor), channel="online")
    return _card(access.my_card(eng, actor))


@router.post("/me/card/replacement", response_model=CardOut, status_code=201,
             summary="Apply for a replacement (lost: after the loss report; damaged)")
def replacement(body: ReplacementIn, actor: Actor = Depends(current_actor),
                eng=Depends(engine)):
    cards.apply_replacement(eng, actor, _citizen(actor), reason=body.reason, channel="online")
    return _card(access.my_card(eng, actor))


@router.post("/me/card/activate", response_model=CardOut, summary="Activate my issued card")
def activate(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    cards.activate(eng, actor, _mine(eng, actor)["id"])
    return _card(access.my_card(eng, actor))


@router.post("/me/card/loss", response_model=CardOut,
             summary="Report my card lost: frozen at once, e-card credentials revoked")
def loss(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    c = _mine(eng, actor)
    cards.report_loss(eng, actor, c["id"])
    return _card(access.my_card(eng, actor))


@router.post("/me/card/bank", response_model=CardOut, summary="Link the card's bank function")
def bank(body: BankIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    cards.link_bank(eng, actor, _mine(eng, actor)["id"], bank_name=body.bank_name,
                    bank_account=body.bank_account)
    return _card(access.my_card(eng, actor))


@router.post("/me/ecard", response_model=Credential,
             summary="A fresh e-card credential (the QR's content), valid a short while")
def my_ecard(request: Request, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    return ecard.issue_credential(eng, actor, ecard_key(request))


@router.get("/cards", response_model=Page[CardBrief],
            summary="Cards of one status in my region scope (staff), by id")
def list_cards(status: Literal["applied", "issued", "active", "lost", "replaced"] = "applied",
               limit: Limit = 50, cursor: Cursor = None,
               actor: Actor = Depends(current_actor), eng=Depends(engine)):
    rows = access.list_cards(eng, actor, status, limit=limit + 1,
                             after=pagination.decode(cursor))
    items, nxt = pagination.page(rows, limit, lambda r: r["id"])
    return Page[CardBrief](items=[CardBrief(**_card(r).model_dump(), holder=r["holder"],
                                            citizen_id=r["citizen_id"]) for r in items],
                           next_cursor=nxt)


@router.post("/cards/{card_id}/issue", response_model=CardOut,
             summary="Issue (make) an applied card: its number; the case is decided")
def issue(card_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    cards.issue(eng, actor, card_id)
    return _card(queries.card_row(eng, card_id))


@router.post("/cards/ecard/verify", response_model=Verified,
             summary="Verify an e-card credential at a counter (audited with the purpose)")
def verify(request: Request, body: VerifyIn, actor: Actor = Depends(current_actor),
           eng=Depends(engine)):
    return ecard.verify(eng, actor, [ecard_key(request).public], body.token,
                        purpose=body.purpose)


@router.get("/cards/ecard/keys", summary="The e-card public key (JWKS) for offline verifiers")
def keys(request: Request) -> dict:
    return ecard.public_keys(ecard_key(request))


@router.get("/cards/ecard/revocations", response_model=list[Revoked],
            summary="Revoked e-card credentials that have not expired (for offline verifiers)")
def revocations(since: Since = None, eng=Depends(engine)):
    after = None
    if since:
        try:
            after = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise InputError("an ISO date-time, e.g. 2026-12-04T10:00:00Z", field="since")
        if after.tzinfo is None:
            after = after.replace(tzinfo=dt.timezone.utc)
    return [{**r, "revoked_at": utc(r["revoked_at"]), "expires_at": utc(r["expires_at"])}
            for r in ecard.revocations(eng, since=after)]
