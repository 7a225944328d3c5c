"""The notice outbox. Schema: migration 0012_cases_notices.

``notice``  one message to one recipient, written in the same transaction as its event:
            recipient_type person | employer | staff | partner, recipient_id (text: a person
            id, an employer id, a username), region (of the event, for scopes), template (a
            message id such as ``case.decided``), data (JSON text: only what the recipient may
            see, never another person's data), dedup_key (unique: the same event enqueued
            twice is one notice), status pending | sent | failed | cancelled, attempts,
            next_attempt_at (when a worker may try it), channel (how it went out), delivered_at,
            last_error.
"""
from __future__ import annotations

from sqlalchemy import (Column, DateTime, Index, Integer, String, Table, Text,
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

