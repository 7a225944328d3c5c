"""Named transaction locks: held until the caller's transaction ends.

PostgreSQL: an advisory lock on (namespace, a 32-bit hash of the name); two names that hash
alike only share a lock (more waiting, never less safety). SQLite needs none: every write
transaction starts with BEGIN IMMEDIATE (``engine.make_engine``), so it is the only writer.
"""
from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.engine import Connection


def _int32(n: int) -> int:
    return n - (1 << 32) if n >= (1 << 31) else n


def xact_lock(conn: Connection, namespace: int, name: str) -> None:
    """Take the lock ``name`` of ``namespace`` (a constant per owner) for the rest of the
    transaction; blocks while another transaction holds it."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                     {"ns": _int32(namespace), "k": _int32(zlib.crc32(name.encode("utf-8")))})
