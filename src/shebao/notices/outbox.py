"""Enqueue a notice in the caller's transaction; read a recipient's notices.

The outbox pattern: the notice row commits or rolls back with the event that caused it, so a
decision is never announced without being made, nor made without being announced. The dedup
key makes enqueueing idempotent: a retried request or a re-run batch that enqueues the same
event again gets the existing notice back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, insert, select

from shebao.core import regions
from shebao.core.errors import InputError
from shebao.db.uow import now, reading, transaction

from .tables import notice

RECIPIENT_TYPES = ("person", "employer", "staff", "partner")


@dataclass(frozen=True)
class Notice:
    id: int
    created_at: object
    region: str
    recipient_type: str
    recipient_id: str
    template: str
    data: dict
    dedup_key: str
    status: str
    attempts: int
    channel: str | None
    delivered_at: object
    last_error: str | None


def _row(r) -> Notice:
    return Notice(r.id, r.created_at, r.region, r.recipient_type, r.recipient_id, r.template,
                  json.loads(r.data), r.dedup_key, r.status, r.attempts, r.channel,
                  r.delivered_at, r.last_error)


def enqueue(db, *, recipient_type: str, recipient_id, region: str, template: str,
            data: dict | None = None, key: str | None = None) -> int:
    """Write one pending notice; returns its id (the existing one when ``key`` was enqueued
    before). ``key`` defaults to template + recipient + the data, so identical calls are one."""
    if recipient_type not in RECIPIENT_TYPES:
        raise InputError(f"unknown recipient type {recipient_type!r}", field="recipient_type")
    region = regions.check_region(region)
    body = json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str)
    key = key or f"{template}:{recipient_type}:{recipient_id}:{body}"[:200]
    with transaction(db) as conn:
        found = conn.execute(select(notice.c.id).where(notice.c.dedup_key == key)).first()
        if found:
            return found.id
        at = now()
        return conn.execute(insert(notice).values(
            created_at=at, region=region, recipient_type=recipient_type,
            recipient_id=str(recipient_id), template=template, data=body, dedup_key=key,
            status="pending", attempts=0, next_attempt_at=at).returning(notice.c.id)
        ).scalar_one()


def for_recipient(db, recipient_type: str, recipient_id, *, limit: int = 50) -> list[Notice]:
    """The recipient's notices, newest first."""
    with reading(db) as conn:
        rows = conn.execute(select(notice).where(and_(
            notice.c.recipient_type == recipient_type,
            notice.c.recipient_id == str(recipient_id))).order_by(notice.c.id.desc())
            .limit(limit)).all()
    return [_row(r) for r in rows]
