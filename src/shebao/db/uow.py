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

``single_read(engine)``: a connection for one statement, in autocommit on PostgreSQL (no
BEGIN/ROLLBACK round trips around it).

``shared_reads(engine)``: one READ ONLY transaction (PostgreSQL enforces it) that several
reads join as they are — ``transaction`` hands them the connection without a SAVEPOINT each,
since a transaction that can write nothing leaves nothing for one to undo. A page that makes
several reads pays one connection and one BEGIN/COMMIT instead of one per read; the audit
rows of those reads are written elsewhere (``security.audit_appender.read_session``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Iterator

from sqlalchemy.engine import Connection, Engine


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC (what every ``*_at`` column stores)."""
    return dt.datetime.now(dt.timezone.utc)


SHARED_READS = "shebao_shared_reads"   # execution option of a ``shared_reads`` connection


@contextlib.contextmanager
def transaction(db) -> Iterator[Connection]:
    """A connection in a transaction: own it (Engine / idle Connection) or join the caller's
    inside a SAVEPOINT so that a refusal rolls back only this request."""
    if isinstance(db, Engine):
        with db.begin() as conn:
            yield conn
    elif isinstance(db, Connection):
        if db.in_transaction():
            if db.get_execution_options().get(SHARED_READS):
                yield db                    # read only: nothing for a savepoint to undo
                return
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


@contextlib.contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of ONE statement (a statement always sees one snapshot): on
    PostgreSQL in autocommit, so the statement is its own transaction — no BEGIN before it and
    no ROLLBACK when the connection goes back to the pool (three round trips become one; the
    session check of every request uses it). Elsewhere a plain connection."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@contextlib.contextmanager
def shared_reads(engine: Engine) -> Iterator[Connection]:
    """A connection in one read-only transaction for several reads (see the module): they
    join it as they are; any write in it is refused (PostgreSQL: ``BEGIN READ ONLY``)."""
    with engine.connect() as conn:
        options = {SHARED_READS: True}
        if conn.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        conn.execution_options(**options)
        with conn.begin():
            yield conn


__all__ = ["now", "transaction", "reading", "single_read", "shared_reads", "SHARED_READS"]
