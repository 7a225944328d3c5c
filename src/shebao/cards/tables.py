"""Cards tables (SQLAlchemy Core on the shared metadata). Schema: migration 0017_sharing_cards.

``social_security_card``one row per physical social security card (社会保障卡) of a person, from its
                      application to its end: status ``applied`` (a case ``cards.application`` or
                      ``cards.replacement`` is open) → ``issued`` (card_no given, made) →
                      ``active`` (the holder activated it) → ``lost`` (reported lost: frozen, its
                      e-cards revoked) → ``replaced`` (the replacement was issued) | ``cancelled``.
                      At most one card per person is in force (applied, issued, active: a unique
                      partial index). The bank function: bank_name and bank_account of the card's
                      financial account, linked at bank_linked_at.
``ecard_credential``  every e-card QR credential issued (电子社保卡 二维码): its id (``jti``, in the
                      signed token), card, person, issue and expiry instants, and the revocation
                      (loss report, replacement) — verifiers ask for it or fetch the list.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, ForeignKey, Index, SmallInteger,
                        String, Table, text)

from shebao.db.engine import BigId, metadata

IN_FORCE = ("applied", "issued", "active")

card = Table(
    "social_security_card", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("status", String(10), nullable=False),
    Column("card_no", String(12), unique=True),
    Column("generation", SmallInteger, nullable=False),
    Column("case_id", BigInteger),
    Column("replaces_id", BigInteger, ForeignKey("social_security_card.id")),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("issued_on", Date),
    Column("activated_at", DateTime(timezone=True)),
    Column("lost_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("bank_name", String(64)),
    Column("bank_account", String(40)),
    Column("bank_linked_at", DateTime(timezone=True)),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ux_social_security_card_in_force", card.c.person_id, unique=True,
      sqlite_where=text("status IN ('applied','issued','active')"),
      postgresql_where=text("status IN ('applied','issued','active')"))

ecard_credential = Table(
    "ecard_credential", metadata,
    Column("jti", String(32), primary_key=True),
    Column("card_id", BigInteger, ForeignKey("social_security_card.id"), nullable=False),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", String(40)),
)
Index("ix_ecard_credential_card", ecard_credential.c.card_id)
Index("ix_ecard_credential_revoked", ecard_credential.c.revoked_at)
