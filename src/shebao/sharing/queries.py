"""Reads of the exchange record for the channels and the bureaus (an inbox of kept notices:
births, transfer messages)."""
from __future__ import annotations

import json

from sqlalchemy import select

from shebao.db.uow import reading
from shebao.security.lockout import utc

from .tables import exchange, partner, subscription


def exchanges(bind, *, kind: str | None = None, partner_code: str | None = None,
              direction: str | None = None, before: int | None = None,
              limit: int = 50) -> list[dict]:
    """Exchanges newest first (without the messages' bodies)."""
    stmt = select(exchange.c.id, partner.c.code.label("partner"), exchange.c.direction,
                  exchange.c.kind, exchange.c.reference_id, exchange.c.purpose,
                  exchange.c.legal_basis, exchange.c.consent_ref, exchange.c.status,
                  exchange.c.created_at).join(partner, partner.c.id == exchange.c.partner_id)
    if kind:
        stmt = stmt.where(exchange.c.kind == kind)
    if partner_code:
        stmt = stmt.where(partner.c.code == partner_code)
    if direction:
        stmt = stmt.where(exchange.c.direction == direction)
    if before is not None:
        stmt = stmt.where(exchange.c.id < before)
    with reading(bind) as conn:
        return [{**dict(r), "created_at": utc(r["created_at"])}
                for r in conn.execute(stmt.order_by(exchange.c.id.desc()).limit(limit))
                .mappings()]


def inbox(bind, kind: str, *, after: int | None = None, limit: int = 100) -> list[dict]:
    """Inbound notices of ``kind`` (``notify:transfer``, ``notify:birth``) with their signed
    message, oldest first from id ``after``: for the bureau that takes them up."""
    stmt = select(exchange.c.id, partner.c.code.label("partner"), exchange.c.reference_id,
                  exchange.c.request, exchange.c.created_at).join(
        partner, partner.c.id == exchange.c.partner_id).where(
        exchange.c.kind == kind, exchange.c.direction == "in")
    if after is not None:
        stmt = stmt.where(exchange.c.id > after)
    with reading(bind) as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(exchange.c.id).limit(limit))
                .mappings()]


def subscriptions(bind, partner_code: str | None = None) -> list[dict]:
    stmt = select(subscription, partner.c.code.label("partner")).join(
        partner, partner.c.id == subscription.c.partner_id)
    if partner_code:
        stmt = stmt.where(partner.c.code == partner_code)
    with reading(bind) as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(subscription.c.id)).mappings()]


def answer_of(bind, partner_code: str, reference_id: str, direction: str = "in") -> dict | None:
    """The stored answer of one exchange (its signed envelope)."""
    with reading(bind) as conn:
        raw = conn.execute(select(exchange.c.response).join(
            partner, partner.c.id == exchange.c.partner_id).where(
            partner.c.code == partner_code, exchange.c.reference_id == reference_id,
            exchange.c.direction == direction)).scalar()
    return json.loads(raw) if raw else None
