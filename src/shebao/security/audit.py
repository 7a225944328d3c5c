"""The audit log: every write and every read of personal data, append-only and hash-chained.

Each row stores ``hash = sha256(prev_hash | canonical row)``; editing or deleting any row
breaks the chain from that row on, which :func:`verify` reports (``shebao audit verify``).
The database refuses UPDATE and DELETE on the table (triggers in migration 0001). Appends
are serialised (advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) so the chain is linear.

Personal data never goes into ``detail`` in clear: callers pass masked values.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from shebao.core.actor import Actor

from .tables import audit_log

GENESIS = "0" * 64
_LOCK_KEY = 0x5EBA0A0D  # advisory lock id for the audit chain


def _canonical(row: dict) -> str:
    keys = ("at", "actor", "role", "action", "subject_type", "subject_id", "fields", "purpose",
            "detail")
    return json.dumps({k: row.get(k) for k in keys}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def _digest(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + "|" + _canonical(row)).encode("utf-8")).hexdigest()


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lock_chain(conn: Connection) -> None:
    """Take the audit chain's lock for the rest of the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers). Services that take other locks call this
    first, so every writer acquires locks in the same order and none can deadlock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def record(conn: Connection, actor: Actor, action: str, subject_type: str,
           subject_id: object = None, *, fields: list[str] | None = None,
           purpose: str | None = None, detail: dict | None = None) -> str:
    """Append one audit row inside the caller's transaction; returns its hash."""
    lock_chain(conn)
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
                        ).scalar_one_or_none() or GENESIS
    at = dt.datetime.now(dt.timezone.utc)
    row = {
        "at": _at_text(at), "actor": actor.id, "role": actor.role, "action": action,
        "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id),
        "fields": ",".join(fields) if fields else None, "purpose": purpose,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
        if detail is not None else None,
    }
    h = _digest(prev, row)
    conn.execute(audit_log.insert().values(**{**row, "at": at}, prev_hash=prev, hash=h))
    return h


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None


def verify(conn: Connection) -> VerifyResult:
    """Walk the chain in id order; the first row whose links or hash do not hold is named."""
    prev = GENESIS
    n = 0
    for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
        n += 1
        if r["prev_hash"] != prev:
            return VerifyResult(False, n, r["id"],
                                "prev_hash does not match the previous row (a row was removed "
                                "or reordered before it)")
        row = dict(r)
        at = row["at"]
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        row["at"] = _at_text(at)
        if _digest(prev, row) != r["hash"]:
            return VerifyResult(False, n, r["id"], "row content does not match its hash (edited)")
        prev = r["hash"]
    return VerifyResult(True, n)


# ---------------------------------------------------------------- bulk append (batch paths)

def record_many(conn: Connection, actor: Actor, action: str, subject_type: str,
                entries: list[tuple[object, list[str] | None, dict | None]], *,
                purpose: str | None = None) -> int:
    """Append one audit row per ``(subject_id, fields, detail)`` entry inside the caller's
    transaction, chained exactly as :func:`record` chains them, in one lock and one
    multi-row INSERT (a bulk import audits every person it changed). Returns the count."""
    if not entries:
        return 0
    lock_chain(conn)
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
                        ).scalar_one_or_none() or GENESIS
    at = dt.datetime.now(dt.timezone.utc)
    at_text = _at_text(at)
    rows = []
    for subject_id, fields, detail in entries:
        row = {"at": at_text, "actor": actor.id, "role": actor.role, "action": action,
               "subject_type": subject_type,
               "subject_id": None if subject_id is None else str(subject_id),
               "fields": ",".join(fields) if fields else None, "purpose": purpose,
               "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
               if detail is not None else None}
        h = _digest(prev, row)
        rows.append({**row, "at": at, "prev_hash": prev, "hash": h})
        prev = h
    conn.execute(audit_log.insert(), rows)
    return len(rows)
