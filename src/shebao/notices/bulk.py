"""Enqueue many notices in one statement: one per row of a derived table another package hands
out (its own SQL about its own tables), for yearly statements and other mass events.

    n = bulk.enqueue_from(conn, derived_sql, params, recipient_type="person",
                          template="contribution.statement", key_prefix="statement:2025:",
                          data={"year": 2025}, int_columns=["months"])

The derived table has the columns ``recipient_id`` and ``region`` and the integer columns
named in ``int_columns``; each row becomes a pending notice whose data is ``data`` plus those
integers, and whose dedup key is ``key_prefix`` + the recipient id, so running the same mass
event again adds nothing (``NOT EXISTS`` on the unique key). One ``INSERT … SELECT``: no loop
over people. Runs in the caller's transaction.
"""
from __future__ import annotations

import json
import re

from sqlalchemy import text

from shebao.core.errors import InputError
from shebao.db.uow import now

from .outbox import RECIPIENT_TYPES

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def enqueue_from(conn, derived_sql: str, params: dict, *, recipient_type: str, template: str,
                 key_prefix: str, data: dict | None = None,
                 int_columns: list[str] | tuple[str, ...] = ()) -> int:
    """Insert one pending notice per row of ``derived_sql``; returns how many were added."""
    if recipient_type not in RECIPIENT_TYPES:
        raise InputError(f"unknown recipient type {recipient_type!r}", field="recipient_type")
    for c in int_columns:
        if not _NAME.match(c):
            raise InputError(f"not a column name: {c!r}", field="int_columns")
    head = json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str)[:-1]
    parts = [":_head"]
    for i, c in enumerate(int_columns):
        sep = ", " if (data or i) else ""
        parts.append(f"'{sep}\"{c}\": ' || CAST(d.{c} AS VARCHAR(20))")
    parts.append("'}'")
    rid = "CAST(d.recipient_id AS VARCHAR(64))"
    sql = (
        "INSERT INTO notice (created_at, region, recipient_type, recipient_id, template, data, "
        "dedup_key, status, attempts, next_attempt_at) "
        f"SELECT :_at, d.region, :_rtype, {rid}, :_template, {' || '.join(parts)}, "
        f":_prefix || {rid}, 'pending', 0, :_at FROM ({derived_sql}) d "
        f"WHERE NOT EXISTS (SELECT 1 FROM notice n WHERE n.dedup_key = :_prefix || {rid})")
    at = now()
    res = conn.execute(text(sql), {**params, "_at": at, "_rtype": recipient_type,
                                   "_template": template, "_prefix": key_prefix,
                                   "_head": head})
    return res.rowcount


def enqueue_rows(conn, rows: list[dict]) -> int:
    """Many notices as one batch (``executemany``): each row has ``recipient_type``,
    ``recipient_id``, ``region``, ``template``, ``data`` (dict) and ``key``; a key enqueued
    before is skipped (``NOT EXISTS``). For a mass event computed in Python (a run's result);
    returns how many were added."""
    if not rows:
        return 0
    for r in rows:
        if r["recipient_type"] not in RECIPIENT_TYPES:
            raise InputError(f"unknown recipient type {r['recipient_type']!r}",
                             field="recipient_type")
    at = now()
    params = [{"at": at, "region": r["region"], "rtype": r["recipient_type"],
               "rid": str(r["recipient_id"]), "template": r["template"],
               "data": json.dumps(r.get("data") or {}, sort_keys=True, ensure_ascii=False,
                                  default=str), "key": r["key"][:200]} for r in rows]
    res = conn.execute(text(
        "INSERT INTO notice (created_at, region, recipient_type, recipient_id, template, data, "
        "dedup_key, status, attempts, next_attempt_at) SELECT :at, :region, :rtype, :rid, "
        ":template, :data, CAST(:key AS VARCHAR(200)), 'pending', 0, :at WHERE NOT EXISTS "
        "(SELECT 1 FROM notice n WHERE n.dedup_key = CAST(:key AS VARCHAR(200)))"), params)
    return res.rowcount if res.rowcount is not None and res.rowcount >= 0 else len(rows)
