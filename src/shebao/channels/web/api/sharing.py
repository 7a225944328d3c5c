"""API: the information-sharing platform (``/api/v1/sharing``).

Partners: ``POST /sharing/token`` (client-credentials grant) → bearer token; then signed DCI
envelopes to ``/sharing/search``, ``/sharing/subscribe``, ``/sharing/unsubscribe``,
``/sharing/notify`` (answers signed with our key, ``GET /sharing/keys``), and
``/sharing/ecard/verify`` for partners holding ``ecard.verify``.
Staff: ``/sharing/partners`` (administrators register partners; the secret is shown once),
``/sharing/exchanges`` (the exchange record, administrators and inspectors).
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from shebao.cards import ecard
from shebao.core.actor import Actor
from shebao.core.errors import ShebaoError
from shebao.db.uow import now
from shebao.security import policy
from shebao.sharing import model, partners, queries, service

from .. import pagination
from ..deps import bearer, current_actor, engine
from ..pagination import Page
from ..signing_keys import ecard_key, installation, sharing_key
from .params import Cursor, Limit

router = APIRouter(prefix="/sharing", tags=["sharing"])


class TokenIn(BaseModel):
    grant_type: Literal["client_credentials"] = "client_credentials"
    client_id: str = Field(min_length=1, max_length=64)
    client_secret: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class Envelope(BaseModel):
    header: dict | None = None
    message: dict | None = None
    signature: str = Field(min_length=1, max_length=200_000)


class PartnerIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(max_length=20)
    region: str = Field(pattern=r"^(\d{6}|national)$")
    scopes: list[str] = Field(max_length=30)
    public_key: str | None = Field(None, max_length=64)
    base_url: str | None = Field(None, max_length=200)


class PartnerOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    region: str
    scopes: list[str]
    public_key: str | None
    base_url: str | None
    status: str


class Registered(BaseModel):
    partner: PartnerOut
    client_id: str
    client_secret: str = Field(description="shown once; stored only as an argon2id hash")


class ExchangeOut(BaseModel):
    id: int
    partner: str
    direction: str
    kind: str
    reference_id: str
    purpose: str | None
    legal_basis: str | None
    consent_ref: str | None
    status: str
    created_at: str


class VerifyIn(BaseModel):
    token: str = Field(min_length=1, max_length=4000)
    purpose: str = Field(min_length=1, max_length=200)


def current_partner(request: Request,
                    creds: HTTPAuthorizationCredentials | None = Depends(bearer)
                    ) -> partners.Partner:
    return partners.authenticate(request.app.state.engine, creds.credentials if creds else None)


def _out(p: partners.Partner) -> PartnerOut:
    return PartnerOut(id=p.id, code=p.code, name=p.name, kind=p.kind, region=p.region,
                      scopes=sorted(p.scopes), public_key=p.public_key.x if p.public_key else None,
                      base_url=p.base_url, status=p.status)


@router.post("/token", response_model=TokenOut,
             summary="Client-credentials grant: a partner's bearer token")
def token(body: TokenIn, eng=Depends(engine)):
    tok, expires = partners.issue_token(eng, body.client_id, body.client_secret)
    return TokenOut(access_token=tok, expires_in=int((expires - now()).total_seconds()))


@router.get("/keys", summary="Our public keys (JWKS): answers and messages are signed with them")
def keys(request: Request) -> dict:
    return {"keys": [sharing_key(request).public.jwk()]}


def _receive(request: Request, p, body: Envelope, action: str) -> dict:
    eng = request.app.state.engine
    try:
        return service.receive(eng, p, sharing_key(request), body.model_dump(),
                               us=installation(request), expect=action)
    except ShebaoError as exc:
        service.refused(eng, p, action, exc)
        raise


@router.post("/search", summary="Search persons by ID or demographics (signed DCI envelope; "
             "purpose and legal basis or consent required; paginated)")
def search(request: Request, body: Envelope, p=Depends(current_partner)) -> dict:
    return _receive(request, p, body, "search")


@router.post("/subscribe", summary="Subscribe to our events (deaths, hukou moves)")
def subscribe(request: Request, body: Envelope, p=Depends(current_partner)) -> dict:
    return _receive(request, p, body, "subscribe")


@router.post("/unsubscribe", summary="End a subscription")
def unsubscribe(request: Request, body: Envelope, p=Depends(current_partner)) -> dict:
    return _receive(request, p, body, "unsubscribe")


@router.post("/notify", summary="Report events: deaths (benefits stop), tax wage data (base "
             "declarations), hukou moves, births, transfer messages")
def notify(request: Request, body: Envelope, p=Depends(current_partner)) -> dict:
    return _receive(request, p, body, "notify")


@router.post("/ecard/verify", summary="Verify an e-card credential (partners with ecard.verify)")
def ecard_verify(request: Request, body: VerifyIn, p=Depends(current_partner)) -> dict:
    try:
        model.require_scope(p.scopes, "ecard.verify")
    except ShebaoError as exc:
        service.refused(request.app.state.engine, p, "ecard.verify", exc)
        raise
    return ecard.verify(request.app.state.engine, p.actor(), [ecard_key(request).public],
                        body.token, purpose=f"{p.code}: {body.purpose}"[:200])


@router.post("/partners", response_model=Registered, status_code=201,
             summary="Register a partner agency (administrators); the secret is shown once")
def register(body: PartnerIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    pid, cid, secret = partners.register(eng, actor, **body.model_dump())
    return Registered(partner=_out(partners.by_code(eng, body.code)), client_id=cid,
                      client_secret=secret)


@router.get("/partners", response_model=list[PartnerOut], summary="Registered partners")
def list_partners(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    policy.require(actor, "sharing.read")
    return [_out(p) for p in partners.partners(eng)]


@router.get("/exchanges", response_model=Page[ExchangeOut],
            summary="The exchange record, newest first (administrators, inspectors)")
def exchanges(partner: str | None = Query(None, max_length=40),
              kind: str | None = Query(None, max_length=30), limit: Limit = 50,
              cursor: Cursor = None, actor: Actor = Depends(current_actor),
              eng=Depends(engine)):
    policy.require(actor, "sharing.read")
    rows = queries.exchanges(eng, kind=kind, partner_code=partner,
                             before=pagination.decode(cursor), limit=limit + 1)
    items, nxt = pagination.page(rows, limit, lambda r: r["id"])
    return Page[ExchangeOut](items=[ExchangeOut(**{**r, "created_at": r["created_at"]
                                                   .isoformat()}) for r in items],
                             next_cursor=nxt)
