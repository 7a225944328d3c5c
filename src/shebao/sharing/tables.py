"""Sharing tables (SQLAlchemy Core on the shared metadata). Schema: migration 0017_sharing_cards.

``partner``        a registered partner agency (tax, public security, civil affairs, health, a
                   bank, another region's installation): its code, kind, the region subtree of
                   our records it may see, client credentials (client_id; the secret only as an
                   argon2id hash), its Ed25519 public key (its JWS are verified with it), the
                   scopes it holds (comma-separated: ``search``, ``item:<data item>``,
                   ``notify:<event>``, ``subscribe:<event>``), its base URL for our messages;
                   for another installation, the regions it serves (``serves``, comma-separated:
                   where mobility's transfers to or from those regions go).
``partner_token``  bearer tokens issued to partners (SHA-256 digest only) with their expiry.
``partner_exchange``     every message in or out: partner, direction, kind, the partner's
                   reference id (unique per partner × direction: a repeat gets the stored answer),
                   purpose, legal basis, consent reference, status, hash of the request, the
                   signed request and the answer.
``partner_subscription``a partner's subscription to our events (death, birth, hukou move, …) in a
                   region subtree.
``partner_delivery``the outbox of event notices to subscribers: one row per subscription ×
                   event, with its own reference id, the signed payload, attempts and status.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table,
                        Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

partner = Table(
    "partner", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("region", String(8), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_hash", String(200), nullable=False),
    Column("public_key", String(64)),
    Column("scopes", Text, nullable=False),
    Column("base_url", String(200)),
    Column("serves", String(200)),                      # installation: regions it serves (0022)
    Column("status", String(10), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

partner_token = Table(
    "partner_token", metadata,
    Column("digest", String(64), primary_key=True),
    Column("partner_id", BigInteger, ForeignKey("partner.id"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

exchange = Table(
    "partner_exchange", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigInteger, ForeignKey("partner.id"), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("reference_id", String(64), nullable=False),
    Column("purpose", String(200)),
    Column("legal_basis", String(200)),
    Column("consent_ref", String(64)),
    Column("status", String(12), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("request", Text),
    Column("response", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("partner_id", "direction", "reference_id", name="uq_partner_exchange_reference"),
)
Index("ix_partner_exchange_kind", exchange.c.kind, exchange.c.id)

subscription = Table(
    "partner_subscription", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigInteger, ForeignKey("partner.id"), nullable=False),
    Column("event_type", String(20), nullable=False),
    Column("region", String(8), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)
Index("ix_partner_subscription_event", subscription.c.event_type, subscription.c.status)

delivery = Table(
    "partner_delivery", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", BigInteger, ForeignKey("partner_subscription.id")),
    Column("partner_id", BigInteger, ForeignKey("partner.id"), nullable=False),
    Column("event_type", String(20), nullable=False),
    Column("reference_id", String(64), nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_partner_delivery_due", delivery.c.status, delivery.c.next_attempt_at)
