"""The notice outbox. Schema: migration 0012_cases_notices.

``notice``  one message to one recipient, written in the same transaction as its event:
            recipient_type person | employer | staff | partner, recipient_id (text: a person
            id, an employer id, a username), region (of the event, for scopes), template (a
            message id such as ``case.decided``), data (JSON text: only what the recipient may
            see, never another person's data), dedup_key (unique: the same event enqueued
            twice is one notice), status pending | sent | failed | cancelled, attempts,
            next_attempt_at (when a worker may try it), channel (how it went out), delivered_at,
            last_error.
``notice_preference``  (#17 delivery, migration 0018) a recipient's channels in order,
            language, addresses and quiet hours.
``notice_attempt``  (#17 delivery) one row per delivery attempt: sent | failed | dead |
            deferred, channel, error.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, DateTime, ForeignKey, Index, Integer, String,
                        Table, Text,
                        UniqueConstraint)

from shebao.db.engine import BigId, metadata

notice = Table(
    "notice", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("region", String(6), nullable=False),
    Column("recipient_type", String(10), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("template", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("dedup_key", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(16)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", String(500)),
    UniqueConstraint("dedup_key", name="uq_notice_dedup_key"),
)
Index("ix_notice_due", notice.c.status, notice.c.next_attempt_at)
Index("ix_notice_recipient", notice.c.recipient_type, notice.c.recipient_id, notice.c.id)

# ---------------------------------------------------------------- delivery (#17, migration 0018)
# How a recipient wants to be told: channels in order of preference (comma list of
# email | sms | wechat; empty = the portal only), the language, the addresses, and quiet hours
# (local HH:MM; no push while inside them, the notice waits for their end).
notice_preference = Table(
    "notice_preference", metadata,
    Column("recipient_type", String(16), primary_key=True),
    Column("recipient_id", String(64), primary_key=True),
    Column("channels", String(64), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("email", String(254)),
    Column("phone", String(32)),
    Column("wechat", String(64)),
    Column("quiet_start", String(5)),
    Column("quiet_end", String(5)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

# One row per delivery attempt: sent | failed | dead | deferred (quiet hours).
notice_attempt = Table(
    "notice_attempt", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("notice_id", BigInteger, ForeignKey("notice.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", String(300)),
    Index("ix_notice_attempt_notice", "notice_id"),
)
