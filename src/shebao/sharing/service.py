"""What a partner asks of us: one signed DCI envelope in, one signed envelope out.

    receive(db, partner, key, envelope, us=) -> answer envelope

The envelope's JWS must verify with the partner's registered public key and name the partner
as sender. The message's ``reference_id`` makes it idempotent: the same reference with the
same content gets the stored answer again (nothing done twice); with other content, a
conflict. Each exchange is stored (request signature, answer) and audited with its purpose and
legal basis; a refused one is audited too (:func:`refused`).

Actions: ``search`` (``handlers.search``), ``subscribe``/``unsubscribe``, ``notify`` (inbound
events: a death stops the benefits, tax wage data becomes a base declaration, a hukou move
changes the registry, a birth registers the child; transfer messages are kept for mobility).
"""
from __future__ import annotations

import json

from sqlalchemy import insert, select

from shebao.core.errors import ConflictError, InputError, PermissionDenied, ShebaoError
from shebao.db import dialect
from shebao.db.uow import now, transaction
from shebao.security import audit, signing

from . import handlers, model
from .partners import Partner
from .tables import exchange

_LOCK_NS = 0x5A4E1


def verify_envelope(p: Partner, envelope: dict) -> tuple[dict, dict]:
    """(header, message) of an envelope signed by partner ``p``; refuses otherwise."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("signature"), str):
        raise InputError("an envelope with header, message and signature", field="signature")
    if p.public_key is None:
        raise PermissionDenied(f"partner {p.code} has no registered public key")
    try:
        payload = signing.verify(envelope["signature"], p.public_key)
    except signing.BadSignature as exc:
        raise PermissionDenied(f"the signature does not verify: {exc}") from exc
    head, msg = payload.get("header"), payload.get("message")
    if not isinstance(head, dict) or not isinstance(msg, dict):
        raise InputError("the signed payload has no header and message", field="signature")
    for part in ("header", "message"):
        if part in envelope and envelope[part] is not None \
                and model.canonical(envelope[part]) != model.canonical(payload[part]):
            raise InputError(f"the {part} differs from the signed one", field=part)
    if head.get("sender_id") != p.code:
        raise PermissionDenied("the sender_id is not the authenticated partner")
    if head.get("action") not in model.ACTIONS:
        raise InputError(f"action: one of {', '.join(model.ACTIONS)}", field="header.action")
    return head, msg


def envelope(key: signing.SigningKey, action: str, sender: str, receiver: str,
             message: dict) -> dict:
    head = model.header(action, sender, receiver)
    return {"header": head, "message": message,
            "signature": key.sign({"header": head, "message": message}, typ="dci+jws")}


def receive(db, p: Partner, key: signing.SigningKey, env: dict, *, us: str,
            expect: str | None = None) -> dict:
    head, msg = verify_envelope(p, env)
    action = head["action"]
    if expect and action != expect:
        raise InputError(f"this endpoint takes action {expect}", field="header.action")
    ref = model.reference_id(msg)
    rhash = model.request_hash({"action": action, "message": msg})
    with transaction(db) as conn:
        dialect.xact_lock(conn, _LOCK_NS, f"{p.id}:{ref}")
        prev = conn.execute(select(exchange.c.request_hash, exchange.c.response).where(
            exchange.c.partner_id == p.id, exchange.c.direction == "in",
            exchange.c.reference_id == ref)).first()
        if prev is not None:
            if prev.request_hash != rhash:
                raise ConflictError(f"reference_id {ref} was used for another message")
            return json.loads(prev.response)
        out = handlers.HANDLERS[action](conn, p, msg)
        answer = envelope(key, f"on-{action}", us, p.code, out.message)
        conn.execute(insert(exchange).values(
            partner_id=p.id, direction="in", kind=out.kind, reference_id=ref,
            purpose=out.purpose, legal_basis=out.legal_basis, consent_ref=out.consent_ref,
            status="succ", request_hash=rhash, request=env["signature"],
            response=model.canonical(answer), created_at=now()))
        if not out.audited:
            audit.record(conn, p.actor(), f"sharing.{action}", "partner", p.id,
                         purpose=out.purpose or action,
                         detail={"reference_id": ref, "kind": out.kind,
                                 "legal_basis": out.legal_basis, **out.detail})
        return answer


def refused(db, p: Partner | None, action: str, exc: ShebaoError) -> None:
    """Audit a refused exchange (its own transaction: the refused one left nothing)."""
    if p is None:
        return
    with transaction(db) as conn:
        audit.record(conn, p.actor(), f"sharing.{action}.refused", "partner", p.id,
                     purpose="refused", detail={"error": str(exc)[:300]})
