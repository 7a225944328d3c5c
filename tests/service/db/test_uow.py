"""db.uow: one transaction semantics for every service — own, or join inside a SAVEPOINT so
that a refused request leaves nothing even when the caller goes on with its transaction."""
import datetime as dt

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from shebao.core.errors import InputError
from shebao.db.uow import now, reading, shared_reads, single_read, transaction
from shebao.registry.tables import import_run


def _run(conn, name):
    conn.execute(import_run.insert().values(kind="persons", file_name=name, file_sha256="0" * 64,
                                            dry_run=False, actor="t", started_at=now()))


def _names(engine):
    with engine.connect() as c:
        return sorted(c.execute(select(import_run.c.file_name)).scalars())


def test_joined_refusal_leaves_nothing_and_the_caller_goes_on(engine):
    with engine.connect() as conn:
        with conn.begin():
            _run(conn, "before")
            with pytest.raises(InputError):
                with transaction(conn) as c:
                    assert c is conn
                    _run(c, "refused")
                    raise InputError("refused after writing", field="x")
            # the caller's transaction is still usable and does not see the refused row
            assert conn.execute(select(func.count()).select_from(import_run).where(
                import_run.c.file_name == "refused")).scalar_one() == 0
            with transaction(conn) as c:
                _run(c, "after")
    assert _names(engine) == ["after", "before"]


def test_joined_success_is_committed_by_the_caller_only(engine):
    with engine.connect() as conn:
        tx = conn.begin()
        with transaction(conn) as c:
            _run(c, "joined")
        tx.rollback()                      # the caller decides
    assert _names(engine) == []


def test_owned_transactions_commit_or_roll_back(engine):
    with transaction(engine) as c:
        _run(c, "engine")
    with pytest.raises(RuntimeError):
        with transaction(engine) as c:
            _run(c, "lost")
            raise RuntimeError("boom")
    with engine.connect() as conn:         # an idle connection: owned as well
        with transaction(conn) as c:
            _run(c, "idle")
        assert not conn.in_transaction()
    assert _names(engine) == ["engine", "idle"]


def test_reading_and_bad_arguments(engine):
    with reading(engine) as c:
        assert c.execute(text("SELECT 1")).scalar_one() == 1
    with engine.connect() as conn, reading(conn) as c:
        assert c is conn
    for helper in (transaction, reading):
        with pytest.raises(TypeError, match="Engine or Connection"):
            with helper("sqlite://"):
                pass


def test_shared_reads_are_joined_as_they_are_and_can_write_nothing_on_postgresql(engine):
    savepoints = []
    event.listen(engine, "savepoint", lambda conn, name: savepoints.append(name))
    with shared_reads(engine) as conn:
        assert conn.in_transaction()
        with transaction(conn) as c, reading(conn) as r:
            assert c is conn and r is conn
            assert c.execute(text("SELECT 1")).scalar_one() == 1
    assert savepoints == []                    # joined as they are: no SAVEPOINT each
    if engine.dialect.name == "postgresql":    # BEGIN READ ONLY: a write is refused
        with pytest.raises(DBAPIError, match="read-only"):
            with shared_reads(engine) as conn, transaction(conn) as c:
                _run(c, "refused")
        assert _names(engine) == []
    with engine.connect() as c:                # the pool's connection is writable again
        c.execute(text("SELECT 1"))
    with transaction(engine) as c:
        _run(c, "after")
    assert _names(engine) == ["after"]


def test_a_single_read_opens_no_transaction_on_postgresql(engine):
    """One statement is its own transaction: no BEGIN before it, nothing to roll back after
    (the session check of every request); the pooled connection is transactional again."""
    with single_read(engine) as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        if engine.dialect.name == "postgresql":
            from psycopg.pq import TransactionStatus
            assert conn.connection.driver_connection.info.transaction_status == \
                TransactionStatus.IDLE
    with engine.connect() as c:      # the next checkout of that connection is not autocommit
        c.execute(text("SELECT 1"))
        if engine.dialect.name == "postgresql":
            assert c.connection.driver_connection.info.transaction_status != \
                TransactionStatus.IDLE
            assert not c.connection.driver_connection.autocommit


def test_now_is_aware_utc():
    t = now()
    assert t.tzinfo is not None and t.utcoffset() == dt.timedelta(0)
