"""The read audit appender: many readers' rows group-committed, linked exactly as inline rows
(``audit verify`` holds), each reader answered only once its row is committed; a read inside
a larger transaction stays inline; a failed flush fails its readers."""
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from shebao.core.actor import Actor
from shebao.db.uow import SHARED_READS, transaction
from shebao.security import audit, audit_appender
from shebao.security.tables import audit_log


def _count(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(audit_log)).scalar_one()


def _read(engine, actor, pid, action="registry.person.read"):
    with engine.begin() as conn:               # a read in its own transaction
        return audit_appender.record_read(engine, conn, actor, action, "person", pid,
                                          fields=["*"], purpose="test")


@pytest.fixture
def appender(engine):
    app = audit_appender.install(engine)
    yield app
    audit_appender.uninstall(engine)


def test_concurrent_reads_and_writes_keep_every_chain_valid(engine, appender):
    readers = [Actor(id=f"citizen-{i}", role="citizen", scope=("310104", "310105")[i % 2],
                     person_id=i + 1) for i in range(24)]
    clerk = Actor(id="clerk", role="collection_clerk", scope="310104")
    hashes, errors = [], []

    def work(a):
        try:
            for k in range(5):
                hashes.append(_read(engine, a, a.person_id))
                if k == 2:       # an inline write on the same chain, interleaved
                    with engine.begin() as conn:
                        audit.record(conn, clerk, "registry.person.change", "person", 1)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(a,)) for a in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(engine) == 24 * 5 + 24
    with engine.connect() as c:
        res = audit.verify(c)
        stored = set(c.execute(select(audit_log.c.hash).where(
            audit_log.c.action == "registry.person.read")).scalars())
    assert res.ok, res.reason
    assert set(hashes) == stored and len(stored) == 120
    if appender is not None:                   # PostgreSQL: grouped
        assert appender.rows == 120 and appender.flushes <= 120


def test_a_read_inside_a_larger_transaction_is_written_in_it(engine, appender):
    actor = Actor(id="c1", role="citizen", scope="310104", person_id=1)
    with engine.connect() as conn:
        with conn.begin() as tx:
            audit_appender.record_read(conn, conn, actor, "registry.person.read", "person", 1)
            tx.rollback()                      # inline: gone with its transaction
    assert _count(engine) == 0
    _read(engine, actor, 1)
    assert _count(engine) == 1


def test_a_failed_flush_fails_its_reader_and_the_next_read_is_written(engine, appender):
    actor = Actor(id="c1", role="citizen", scope="310104", person_id=1)
    with pytest.raises(Exception) as info:
        _read(engine, actor, 1, action=None)    # action is NOT NULL: the INSERT fails
    assert "null" in str(info.value).lower()
    assert _count(engine) == 0
    _read(engine, actor, 2)
    with engine.connect() as c:
        assert c.execute(text("SELECT subject_id FROM audit_log")).scalars().all() == ["2"]
        assert audit.verify(c).ok


def test_a_read_session_answers_after_all_its_rows_are_committed(engine, appender):
    """A page's reads in one read session: on PostgreSQL one read-only transaction, every row
    through the appender and committed when the block is left; on SQLite the engine itself
    (each read inline in its own transaction). Either way: every read audited, chains valid."""
    actor = Actor(id="c1", role="citizen", scope="310104", person_id=1)
    with audit_appender.read_session(engine) as db:
        for pid in (1, 2, 3):
            with transaction(db) as conn:
                audit_appender.record_read(db, conn, actor, "registry.person.read", "person",
                                           pid, fields=["*"], purpose="page")
        if appender is not None:
            assert db is not engine and db.get_execution_options().get(SHARED_READS)
            with pytest.raises(DBAPIError, match="read-only"):   # it can write nothing
                audit.record(db, actor, "registry.person.change", "person", 1)
        else:
            assert db is engine
    assert _count(engine) == 3                 # all committed before the block returned
    with engine.connect() as c:
        assert sorted(c.execute(text("SELECT subject_id FROM audit_log")).scalars()) == \
            ["1", "2", "3"]
        assert audit.verify(c).ok
    if appender is not None:
        assert appender.rows == 3


def test_a_read_sessions_rows_are_one_flush(engine, appender):
    """The rows of a page's reads are queued together when its read session ends: one flush,
    however long the page takes between its reads (queued one by one, the appender flushed
    the first alone while the page went on reading)."""
    import time
    actor = Actor(id="c1", role="citizen", scope="310104", person_id=1)
    before = (appender.flushes, appender.rows) if appender is not None else None
    with audit_appender.read_session(engine) as db:
        for pid in (1, 2, 3):
            with transaction(db) as conn:
                audit_appender.record_read(db, conn, actor, "registry.person.read", "person",
                                           pid, fields=["*"], purpose="page")
            time.sleep(0.05)
        assert _count(engine) == (0 if appender is not None else 3)  # SQLite: inline
    assert _count(engine) == 3
    if appender is not None:
        assert (appender.flushes - before[0], appender.rows - before[1]) == (1, 3)
    with engine.connect() as c:
        assert audit.verify(c).ok


def test_a_refused_read_in_a_session_still_leaves_the_earlier_rows(engine, appender):
    actor = Actor(id="c1", role="citizen", scope="310104", person_id=1)
    with pytest.raises(PermissionError):
        with audit_appender.read_session(engine) as db:
            with transaction(db) as conn:
                audit_appender.record_read(db, conn, actor, "registry.person.read", "person",
                                           1, fields=["*"], purpose="page")
            raise PermissionError("the next read is refused")
    if appender is not None:   # queued rows are written: the data read before was seen
        assert _count(engine) == 1
    with engine.connect() as c:
        assert audit.verify(c).ok


def test_a_flush_is_one_pipeline_whatever_its_rows_and_chains(engine, appender, tmp_path):
    """One pipeline: BEGIN, the locks and heads (one wait for the heads), the rows (one INSERT
    of arrays, in order) and COMMIT (one sync) — for 7 rows on two chains, where Core took a
    round trip per statement; the rows linked as ``audit.record`` links them."""
    if engine.dialect.name != "postgresql":    # no appender there: its reads stay inline
        assert appender is None
        return
    actors = [Actor(id=f"citizen-{i}", role="citizen", scope=("310104", "310105")[i % 2],
                    person_id=i + 1) for i in range(7)]
    with engine.begin() as conn:              # an existing head on one of the chains
        audit.record(conn, actors[0], "registry.person.change", "person", 1)
    batch = [audit_appender._Pending(audit.chain_of(a), audit_appender._row(
        a, "registry.person.read", "person", a.person_id, ["*"], "test", None)) for a in actors]
    trace = tmp_path / "trace"
    with appender._own.connect() as conn, open(trace, "w") as f:
        pgconn = conn.connection.driver_connection.pgconn
        pgconn.trace(f.fileno())
        appender._flush(conn, batch)
        pgconn.untrace()
    lines = trace.read_text().splitlines()
    assert sum("\tF\t" in ln and "\tSync" in ln for ln in lines) == 1
    assert sum("\tB\t" in ln and "ReadyForQuery" in ln for ln in lines) == 1
    assert sum("\tF\t" in ln and "\tExecute" in ln for ln in lines) == 2 + 2 * 2 + 1
    with engine.connect() as c:
        res = audit.verify(c)
        stored = list(c.execute(select(audit_log.c.hash).where(
            audit_log.c.action == "registry.person.read").order_by(audit_log.c.id)).scalars())
    assert res.ok, res.reason
    by_chain = [p.hash for p in batch if p.chain == batch[0].chain] + \
        [p.hash for p in batch if p.chain != batch[0].chain]
    assert sorted(stored) == sorted(by_chain) and len(stored) == 7
