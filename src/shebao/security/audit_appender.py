"""Group commit of the audit rows of reads: many requests' rows, one lock and one INSERT.

A read of personal data is audited before its answer leaves (``registry.access`` and the
other read paths call :func:`record_read`). Written inline (``audit.record`` in the read's own
transaction), each read holds its chain's lock from the append to its commit, so every read of
a district waits in one line — the citizen portal's limit under load. With an
:class:`Appender` installed on the engine (the web app does), a read in its own transaction
hands its row to the appender and waits until the row is committed: the appender's thread
takes every row queued meanwhile, and in ONE transaction locks each chain involved (in chain
order, like every other writer), reads its head, links the rows exactly as ``audit.record``
would, inserts them all in one INSERT (arrays, ``unnest``) and commits — one pipeline of
the driver, two round trips; then each waiting read goes on. Nothing is answered before its audit row is durable; a failed flush fails the reads
it carried (the caller's request fails — no read goes unaudited). ``audit verify`` sees the
same chains: the rows are the rows ``record`` writes, in one order per chain.

Several reads of one request share one read-only transaction through :func:`read_session`
(their rows queued together and waited for at its end). A read inside any other larger
transaction (one that may hold its chain's lock already, or wrote) is recorded inline in that
transaction, as before: the appender never waits on a lock its own
caller holds. Each worker process has its own appender; the chains' locks order them.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import weakref
from collections import defaultdict

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

from shebao.core.actor import Actor
from shebao.db.dialect import writes_concurrently
from shebao.db.uow import SHARED_READS, shared_reads

from . import audit

_INSTALLED: "weakref.WeakKeyDictionary[Engine, Appender]" = weakref.WeakKeyDictionary()
MAX_BATCH = 2000          # rows per flush (bounded statement; not law)


class _Pending:
    __slots__ = ("chain", "row", "at", "done", "error", "hash")

    def __init__(self, chain: str, row: tuple[dict, dt.datetime]):
        self.chain, (self.row, self.at) = chain, row
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.hash: str | None = None


class Appender:
    """One thread appending the queued audit rows of ``engine``'s reads (see the module). The
    thread starts with the first row and ends after ``IDLE`` seconds without one (closing its
    connection); it writes through its own one-connection pool, so it never waits for the
    pool that the reads it serves are holding, and keeps that connection while it runs (a
    failed flush closes it; the next flush opens a new one)."""

    IDLE = 2.0

    def __init__(self, engine: Engine):
        # autocommit: the flush sends its own BEGIN and COMMIT inside its pipeline
        self._own = create_engine(engine.url, pool_size=1, max_overflow=0, pool_pre_ping=True,
                                  isolation_level="AUTOCOMMIT")
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.flushes = 0
        self.rows = 0

    # ---- the callers' side
    def append(self, actor: Actor, action: str, subject_type: str, subject_id=None, *,
               fields: list[str] | None = None, purpose: str | None = None,
               detail: dict | None = None) -> str:
        """Queue one row and wait until it is committed; returns its hash."""
        return wait(self.submit(actor, action, subject_type, subject_id, fields=fields,
                                purpose=purpose, detail=detail))

    def submit(self, actor: Actor, action: str, subject_type: str, subject_id=None, *,
               fields: list[str] | None = None, purpose: str | None = None,
               detail: dict | None = None) -> _Pending:
        """Queue one row; ``wait`` on the result before answering."""
        p = prepare(actor, action, subject_type, subject_id, fields=fields, purpose=purpose,
                    detail=detail)
        self.enqueue([p])
        return p

    def enqueue(self, rows: list[_Pending]) -> None:
        """Queue rows made by :func:`prepare` (one lock, one wake-up for all of them);
        ``wait`` on each before answering."""
        with self._cond:
            if self._stopped:
                raise RuntimeError("the audit appender is stopped")
            self._queue.extend(rows)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-appender",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            t = self._thread
            self._cond.notify()
        if t is not None:
            t.join(timeout=10)
        self._own.dispose()

    # ---- the thread
    def _run(self) -> None:
        conn: Connection | None = None     # held while the thread runs: no checkout per flush
        try:
            while True:
                with self._cond:
                    if not self._queue and not self._stopped:
                        self._cond.wait(self.IDLE)
                    if not self._queue:    # idle (or stopped): end; the next row restarts
                        self._thread = None
                        return
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    if conn is None:
                        conn = self._own.connect()
                    self._flush(conn, batch)
                    self.flushes += 1
                    self.rows += len(batch)
                except BaseException as exc:  # noqa: BLE001 - handed to every waiting read
                    for p in batch:
                        p.error = exc
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                        conn = None
                    self._own.dispose()
                for p in batch:
                    p.done.set()
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            self._own.dispose()

    def _flush(self, conn: Connection, batch: list[_Pending]) -> None:
        """One transaction in two round trips (five through Core), through the driver
        (PostgreSQL only: the appender is installed nowhere else), in one pipeline: BEGIN,
        every chain's lock (in chain order) and head; then the rows linked exactly as
        ``audit.record`` links them, sent as ONE INSERT of arrays (``unnest``, in the order
        given: one statement for any number of rows, prepared once), and COMMIT. Its
        connection is in autocommit, so nothing but these BEGIN/COMMIT bound the
        transaction; a failure leaves it open, and the caller closes the connection (the
        server rolls it back)."""
        by_chain: dict[str, list[_Pending]] = defaultdict(list)
        for p in batch:
            by_chain[p.chain].append(p)
        chains = sorted(by_chain)
        cols: list[list] = [[] for _ in _COLUMNS]
        raw = conn.connection.driver_connection
        with raw.pipeline():
            raw.execute("BEGIN")
            heads = []
            for chain in chains:
                raw.execute(_LOCK_SQL, audit.chain_lock_key(chain))
                heads.append(raw.execute(_HEAD_SQL, (chain,)))
            for chain, head in zip(chains, heads):
                found = head.fetchone()            # the pipeline's first sync
                prev = found[0] if found else audit.genesis(chain)
                for p in by_chain[chain]:
                    p.hash = audit._digest(prev, p.row)
                    row = {**p.row, "at": p.at, "chain": chain, "prev_hash": prev,
                           "hash": p.hash}
                    for k, col in enumerate(_COLUMNS):
                        cols[k].append(row[col])
                    prev = p.hash
            raw.execute(_INSERT_SQL, cols)
            raw.execute("COMMIT")          # done (or raised) when the pipeline ends
        audit.count_appends(len(batch))


# built once: the lock, the chain's head (the hash its next row links to), the rows' INSERT
_COLUMNS = ("at", "actor", "role", "action", "subject_type", "subject_id", "fields",
            "purpose", "detail", "prev_hash", "hash", "chain")
_TYPES = ("timestamptz", "text", "text", "text", "text", "text", "text", "text", "text",
          "text", "text", "text")
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, %s)"
_HEAD_SQL = "SELECT hash FROM audit_log WHERE chain = %s ORDER BY id DESC LIMIT 1"
_INSERT_SQL = (
    f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM unnest("
    + ", ".join(f"%s::{t}[]" for t in _TYPES)
    + f") WITH ORDINALITY AS r({', '.join(_COLUMNS)}, n) ORDER BY n")


def wait(p: _Pending, timeout: float = 30.0) -> str:
    """Until ``p``'s row is committed (its hash), or its flush's error."""
    if not p.done.wait(timeout):
        raise TimeoutError("the audit row was not written in time")
    if p.error is not None:
        raise p.error
    return p.hash


_local = threading.local()


@contextlib.contextmanager
def deferred():
    """Within the block (this thread: one request), the reads routed to an appender keep their
    rows (made at the time of the read, not yet queued); leaving the block queues them all at
    once — one wake-up of the appender and one flush for the page's rows, where queueing each
    as it was read flushed the first alone (three flushes for the citizen page's five rows) —
    and waits until every one is committed (raising the first failure). A page that makes
    several audited reads wraps them in one block and answers after it: still no answer
    before its audit rows are durable (nor a refusal: an error leaving the block queues and
    waits too, then goes on as it was)."""
    outer = getattr(_local, "pending", None)
    _local.pending = mine = []
    try:
        yield
    except BaseException:
        _local.pending = outer
        with contextlib.suppress(Exception):   # a refusal too is answered after the rows
            _enqueue_and_wait(mine)            # of what was read
        raise
    _local.pending = outer
    _enqueue_and_wait(mine)


def _enqueue_and_wait(kept: list[tuple["Appender", _Pending]]) -> None:
    by_appender: dict[int, tuple[Appender, list[_Pending]]] = {}
    for app, p in kept:
        by_appender.setdefault(id(app), (app, []))[1].append(p)
    for app, rows in by_appender.values():
        app.enqueue(rows)
    for _, p in kept:
        wait(p)


@contextlib.contextmanager
def read_session(db):
    """Where one request makes several audited reads (a page, a record with its parts): yields
    the ``db`` they should be given. With an appender on the engine, a connection in one
    read-only transaction they all join (``db.uow.shared_reads``: one connection, one
    BEGIN/COMMIT), whose reads keep their audit rows; leaving the block queues them at once
    and waits until every row is committed (``deferred``), so still nothing is answered
    before its audit rows are durable. Without an appender (SQLite, ``SHEBAO_AUDIT_APPENDER=off``) the engine
    itself: each read in its own transaction, its row written inline, as before. A
    Connection is given back as it is (the caller's session or transaction)."""
    if isinstance(db, Engine) and _INSTALLED.get(db) is not None:
        with deferred():
            with shared_reads(db) as conn:
                yield conn
    else:
        yield db


def prepare(actor: Actor, action: str, subject_type: str, subject_id=None, *,
            fields: list[str] | None = None, purpose: str | None = None,
            detail: dict | None = None) -> _Pending:
    """A row for an appender, made now (its ``at``), not yet queued."""
    return _Pending(audit.chain_of(actor), _row(actor, action, subject_type, subject_id,
                                                fields, purpose, detail))


def _row(actor: Actor, action, subject_type, subject_id, fields, purpose, detail
         ) -> tuple[dict, dt.datetime]:
    at = dt.datetime.now(dt.timezone.utc)
    return {"at": audit._at_text(at), "actor": actor.id, "role": actor.role,
            "action": action, "subject_type": subject_type,
            "subject_id": None if subject_id is None else str(subject_id),
            "fields": ",".join(fields) if fields else None, "purpose": purpose,
            "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
            if detail is not None else None}, at


def install(engine: Engine) -> Appender | None:
    """Route the reads of ``engine`` through one appender (idempotent); returns it — or None
    where a waiting read would hold the database's one write lock (SQLite: reads stay
    inline)."""
    if not writes_concurrently(engine):
        return None
    app = _INSTALLED.get(engine)
    if app is None:
        app = _INSTALLED[engine] = Appender(engine)
    return app


def uninstall(engine: Engine) -> None:
    app = _INSTALLED.pop(engine, None)
    if app is not None:
        app.stop()


def installed(engine: Engine) -> Appender | None:
    return _INSTALLED.get(engine)


def record_read(bind, conn: Connection, actor: Actor, action: str, subject_type: str,
                subject_id=None, *, fields: list[str] | None = None,
                purpose: str | None = None, detail: dict | None = None) -> str | None:
    """Audit a read (the row's hash; None when queued inside ``deferred()``). ``bind`` is what
    the read function was given: an Engine means the read runs in its own transaction
    (``conn``'s, which wrote nothing and holds no chain lock), and a ``read_session``'s
    connection is read-only, so in both cases the row may go through the engine's appender;
    otherwise it is written inline in ``conn``'s transaction (``audit.record``)."""
    if isinstance(bind, Engine):
        app = _INSTALLED.get(bind)
    elif isinstance(bind, Connection) and bind.get_execution_options().get(SHARED_READS):
        app = _INSTALLED.get(bind.engine)       # a ``read_session``: it can write nothing
    else:
        app = None
    if app is None:
        return audit.record(conn, actor, action, subject_type, subject_id, fields=fields,
                            purpose=purpose, detail=detail)
    pending = getattr(_local, "pending", None)
    if pending is not None:            # inside ``deferred()``: queued and waited for at its end
        pending.append((app, prepare(actor, action, subject_type, subject_id, fields=fields,
                                     purpose=purpose, detail=detail)))
        return None
    return wait(app.submit(actor, action, subject_type, subject_id, fields=fields,
                           purpose=purpose, detail=detail))
