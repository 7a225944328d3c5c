"""The only place that knows which database it is talking to.

Use cases say what they need — a lock, a row lock, a plan for a known workload, a bulk
strategy — and these helpers do it the way the database at hand does it. PostgreSQL is
production; SQLite is the embedded database (demo, county scale, tests), whose writers are
already serialised by ``BEGIN IMMEDIATE`` (see ``engine.make_engine``), so locks are no-ops
there and planner settings do not apply.

Planner settings are transaction-local (``set_config(…, true)``) and put back when the
``with`` ends; on an error the caller's transaction or savepoint rolls them back with the
work.
"""
from __future__ import annotations

import zlib
from contextlib import contextmanager

from sqlalchemy import text, tuple_


def _postgres(conn) -> bool:
    return conn.dialect.name == "postgresql"


# --------------------------------------------------------------------------- capabilities
def copies_in_bulk(conn) -> bool:
    """True where batch paths load rows by COPY into temporary stage tables and write them
    with one ``INSERT … SELECT`` per target, relying on statement-level triggers with
    transition tables (PostgreSQL); False where rows go in by ``executemany`` and row triggers
    (SQLite)."""
    return _postgres(conn)


def packs_results(conn) -> bool:
    """True where a whole integer result can come back as one packed value (``string_agg``
    of ``int8send``: PostgreSQL); ``bulk.fetch_int_matrix`` uses it."""
    return _postgres(conn)


def writes_concurrently(conn) -> bool:
    """True where two transactions may write at once (row and advisory locks: PostgreSQL), so a
    transaction may wait on another connection's write; False where a write transaction holds
    the database's one write lock from BEGIN (SQLite, ``BEGIN IMMEDIATE``)."""
    return _postgres(conn)


# --------------------------------------------------------------------------- locks
def _int32(n: int) -> int:
    return n - (1 << 32) if n >= (1 << 31) else n


# built once (a lock is taken on every audited write: no statement or cache key to rebuild)
_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:ns, :k)")
_TRY_XACT_LOCK = text("SELECT pg_try_advisory_xact_lock(:ns, :k)")


def xact_lock(conn, namespace: int, name: str) -> None:
    """Take the lock ``name`` of ``namespace`` (a constant per owner) for the rest of the
    transaction; blocks while another transaction holds it. PostgreSQL: an advisory lock on
    (namespace, a 32-bit hash of the name); two names that hash alike only share a lock (more
    waiting, never less safety). SQLite needs none: every write transaction starts with
    ``BEGIN IMMEDIATE``, so it is the only writer."""
    if _postgres(conn):
        ns, k = xact_lock_key(namespace, name)
        conn.execute(_XACT_LOCK, {"ns": ns, "k": k})


def xact_lock_key(namespace: int, name: str) -> tuple[int, int]:
    """The two int4 arguments of the PostgreSQL advisory lock ``xact_lock`` takes for
    ``name`` (for a caller that sends ``pg_advisory_xact_lock(%s, %s)`` itself)."""
    return _int32(namespace), _int32(zlib.crc32(name.encode("utf-8")))


def try_xact_lock(conn, namespace: int, name: str) -> bool:
    """``xact_lock`` without waiting: True when taken (held for the rest of the transaction),
    False at once when another transaction holds it. SQLite: True (the write transaction
    already excludes every other writer)."""
    if not _postgres(conn):
        return True
    return bool(conn.execute(_TRY_XACT_LOCK,
                             {"ns": _int32(namespace),
                              "k": _int32(zlib.crc32(name.encode("utf-8")))}).scalar())

def for_update(conn, stmt):
    """``stmt`` locking the rows it reads until the transaction ends (``FOR UPDATE``) where
    the database has row locks; unchanged on SQLite."""
    return stmt.with_for_update() if _postgres(conn) else stmt


def for_update_skip_locked(conn, stmt):
    """``stmt`` locking the rows it reads and passing over rows another transaction has
    locked (``FOR UPDATE SKIP LOCKED``): concurrent workers claiming from one queue table
    each take different rows without waiting. SQLite: unchanged (its single writer already
    excludes the others)."""
    return stmt.with_for_update(skip_locked=True) if _postgres(conn) else stmt


# --------------------------------------------------------------------------- planner
@contextmanager
def pg_settings(conn, **settings):
    """Planner/executor settings for the statements inside the ``with`` on PostgreSQL; nothing
    elsewhere. Prefer the workload-named helpers below."""
    if not _postgres(conn) or not settings:
        yield
        return
    raw = conn.connection.driver_connection
    names = list(settings)
    with raw.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))
        old = cur.fetchone()
        cur.execute("SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in names),
                    [str(settings[n]) for n in names])
    yield
    with raw.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in names),
                    list(old))


def for_index_probes(conn):
    """Statements that join a small stage to a big table row by row through an index (the
    ledger's posting and account-opening statements): no hash or merge join, which would read
    the whole big table for every batch, and no JIT for statements that run once."""
    return pg_settings(conn, enable_hashjoin="off", enable_mergejoin="off", jit="off")


def for_short_queries(conn):
    """Many short statements: compiling them (JIT) costs more than running them."""
    return pg_settings(conn, jit="off")


def for_single_pass_aggregate(conn):
    """One large aggregate over a chunk, kept in memory in one process: enough ``work_mem``
    for its hash, no parallel workers, no JIT."""
    return pg_settings(conn, work_mem="64MB", max_parallel_workers_per_gather=0, jit="off")


def for_chunk_sort(conn):
    """One statement that sorts a whole keyset chunk (an ``INSERT … SELECT … ORDER BY`` of
    50,000 wide rows): enough ``work_mem`` to sort it in memory instead of spilling it to
    temporary files, no JIT."""
    return pg_settings(conn, work_mem="64MB", jit="off")


def without_fk_triggers(conn) -> None:
    """For the rest of the transaction, skip foreign-key and other replica-disabled triggers
    (PostgreSQL ``session_replication_role = replica``): only for bulk fixture loads whose
    ids are consistent by construction. SQLite: nothing."""
    if _postgres(conn):
        conn.execute(text("SET LOCAL session_replication_role = replica"))


def refresh_statistics_if_grown(conn, table: str, created: int, *, at_least: int = 10_000
                                ) -> None:
    """After inserting ``created`` rows into ``table`` in this transaction, refresh its
    planner statistics when they grew it by a fifth or more (PostgreSQL ``ANALYZE``, which
    sees the transaction's own rows), so later joins on it are planned for its real size."""
    if not _postgres(conn) or created < at_least:
        return
    est = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                       {"t": table}).scalar()
    if est is None or est < 0 or created * 5 >= est:
        conn.exec_driver_sql(f'ANALYZE "{table}"')


def after_explicit_ids(conn, tables: list[str]) -> None:
    """After a bulk load that chose its own ids: move each table's id sequence past the
    largest id and refresh the planner statistics (PostgreSQL). SQLite's rowids need neither."""
    if not _postgres(conn):
        return
    for t in tables:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                          f"(SELECT max(id) FROM {t}))"))
        conn.exec_driver_sql(f'ANALYZE "{t}"')


def index_hint(conn, index: str) -> str:
    """SQLite's ``INDEXED BY`` clause (to follow a table name) for a query its planner would
    otherwise answer by a scan; PostgreSQL plans it from statistics: empty."""
    return "" if _postgres(conn) else f" INDEXED BY {index}"


# --------------------------------------------------------------------------- SQL spelling
def month_of(conn, column: str) -> str:
    """SQL expression: the month number (1–12, integer) of the date column ``column``."""
    if _postgres(conn):
        return f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%m', {column}) AS INTEGER)"


def days_since_epoch(conn, column: str) -> str:
    """SQL expression: the date column ``column`` as whole days since 1970-01-01 (an integer
    a packed integer read can carry and numpy can sort)."""
    if _postgres(conn):
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

def pairs_in(conn, col_a, col_b, pairs):
    """Condition: ``(col_a, col_b)`` is one of ``pairs`` (a row-value IN where the database
    has one; OR of ANDs on SQLite)."""
    if _postgres(conn):
        return tuple_(col_a, col_b).in_(pairs)
    from sqlalchemy import and_, or_

    return or_(*[and_(col_a == a, col_b == b) for a, b in pairs])


def bind_value(conn, column, value):
    """``value`` as the driver receives it for ``column`` (its type's bind processor): for
    driver-level statements that bypass SQLAlchemy's per-row conversion."""
    proc = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return value if (proc is None or value is None) else proc(value)


def unindexed(column: str) -> str:
    """SQL of ``column`` that no index answers (``column || ''``), for a condition that must
    only filter the rows another, more selective index found: SQLite has no statistics and
    would otherwise pick the index on ``column``; PostgreSQL plans it the same either way."""
    return f"{column} || ''"


__all__ = ["copies_in_bulk", "packs_results", "xact_lock", "try_xact_lock", "for_update", "for_update_skip_locked",
           "pg_settings", "for_index_probes", "for_short_queries", "for_single_pass_aggregate",
           "without_fk_triggers", "refresh_statistics_if_grown", "index_hint", "month_of",
           "days_since_epoch", "pairs_in", "bind_value", "unindexed"]
