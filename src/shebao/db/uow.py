"""The one unit of work: how every service gets its connection and transaction.

A service takes ``db`` — an Engine or a Connection — and writes inside ``transaction(db)``:

- **Engine**: the service owns the transaction: begins, commits on success, rolls back on
  an error.
- **Connection not in a transaction**: the same, on the caller's connection.
- **Connection already in a transaction** (the caller composes several services): the work
  joins it inside a SAVEPOINT. A refused request (an exception leaving the ``with``) rolls
  back to the savepoint, so it leaves nothing behind even when the caller catches the error
  and goes on; on success the caller commits everything at once.

``reading(db)`` is the read-only counterpart: a connection without a transaction of its own
(the caller's, or a fresh one from the Engine). ``now()`` is the one clock of the services
(timezone-aware UTC).
"""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Iterator

from sqlalchemy.engine import Connection, Engine


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC (what every ``*_at`` column stores)."""
    return dt.datetime.now(dt.timezone.utc)


@contextlib.contextmanager
def transaction(db) -> Iterator[Connection]:
    """A connection in a transaction: own it (Engine / idle Connection) or join the caller's
    inside a SAVEPOINT so that a refusal rolls back only this request."""
    if isinstance(db, Engine):
        with db.begin() as conn:
            yield conn
    elif isinstance(db, Connection):
        if db.in_transaction():
            with db.begin_nested():
                yield db
        else:
            with db.begin():
                yield db
    else:
        raise TypeError(f"db must be a SQLAlchemy Engine or Connection, got {type(db).__name__}")


@contextlib.contextmanager
def reading(db) -> Iterator[Connection]:
    """A connection to read with: the caller's Connection as it is, or a new one from an
    Engine (closed afterwards)."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            yield conn
    elif isinstance(db, Connection):
        yield db
    else:
        raise TypeError(f"db must be a SQLAlchemy Engine or Connection, got {type(db).__name__}")


__all__ = ["now", "transaction", "reading"]
