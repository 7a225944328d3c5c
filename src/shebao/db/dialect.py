"""The only place that knows which database it is talking to: use cases ask for what they
need (a row lock, a comparison no index should answer) and these helpers do it the way the
database at hand does it."""
from __future__ import annotations


def _postgres(conn) -> bool:
    return conn.dialect.name == "postgresql"


def for_update(conn, stmt):
    """``stmt`` locking the rows it reads until the transaction ends (``FOR UPDATE``) where
    the database has row locks; unchanged on SQLite."""
    return stmt.with_for_update() if _postgres(conn) else stmt


def unindexed(column: str) -> str:
    """SQL of ``column`` that no index answers (``column || ''``), for a condition that must
    only filter the rows another, more selective index found: SQLite has no statistics and
    would otherwise pick the index on ``column``; PostgreSQL plans it the same either way."""
    return f"{column} || ''"
