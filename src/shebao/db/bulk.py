"""Bulk writes and reads for the batch paths: numpy columns in, rows out, no per-row Python
calls to the database. PostgreSQL: ``COPY … FROM STDIN (FORMAT BINARY)`` assembled by numpy
from fixed-width fields; SQLite: one ``executemany``.

Column kinds: ``i8``/``i4``/``i2`` integers, ``date`` (numpy int days since 1970-01-01, or a
``datetime.date`` broadcast), ``ts`` (a ``datetime`` broadcast), ``S`` ASCII/UTF-8 text whose
values all have the same byte length (region codes, e2e ids, or one constant), ``T`` any text
(PostgreSQL then uses a text-format COPY). A nullable
column is given with a boolean mask under ``data[name + "?"]`` (True = NULL).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Iterable, Sequence

import numpy as np


EPOCH_1970 = dt.date(1970, 1, 1)
PG_EPOCH_SHIFT = (dt.date(2000, 1, 1) - EPOCH_1970).days   # PostgreSQL dates count from 2000
PG_TS_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
_SIZE = {"i8": 8, "i4": 4, "i2": 2, "date": 4, "ts": 8}
_FMT = {"i8": ">i8", "i4": ">i4", "i2": ">i2", "date": ">i4", "ts": ">i8"}


def day_number(d: dt.date) -> int:
    return (d - EPOCH_1970).days


def _as_array(kind: str, v, n: int) -> np.ndarray:
    if kind == "ts":
        us = int((v - PG_TS_EPOCH).total_seconds() * 1_000_000)
        return np.full(n, us, dtype=np.int64)
    if kind == "date":
        if isinstance(v, dt.date):
            return np.full(n, day_number(v), dtype=np.int64)
        return np.asarray(v, dtype=np.int64)
    if kind == "T":
        if isinstance(v, str):
            return np.full(n, v, dtype=object)
        return np.asarray(v, dtype=object)
    if kind == "S":
        if isinstance(v, (str, bytes)):
            b = v.encode() if isinstance(v, str) else v
            return np.full(n, b, dtype=f"S{max(len(b), 1)}")
        a = np.asarray(v)
        if a.dtype.kind == "U":
            a = np.char.encode(a, "utf-8")
        if len(a) and np.any(np.char.str_len(a) != a.dtype.itemsize):
            raise ValueError("text column values must all have the same length")
        return a
    if np.isscalar(v):
        return np.full(n, v, dtype=np.int64)
    return np.asarray(v, dtype=np.int64)


def insert_columns(conn, table: str, columns: list[tuple[str, str]], data: dict) -> int:
    """Insert ``len`` rows given as columns; returns the number of rows."""
    n = max((len(v) for v in data.values() if not np.isscalar(v)
             and not isinstance(v, (dt.date, str, bytes))), default=0)
    if n == 0:
        return 0
    cols = {name: _as_array(kind, data[name], n) for name, kind in columns}
    names = ", ".join(name for name, _ in columns)
    if conn.dialect.name == "postgresql":
        if any(name + "?" in data or kind == "T" for name, kind in columns):
            return _pg_text_copy(conn, table, columns, cols, data, n)
        fields = [("nf", ">i2")]
        for name, kind in columns:
            fmt = _FMT.get(kind) or cols[name].dtype.str
            fields += [(f"l_{name}", ">i4"), (f"v_{name}", fmt)]
        rec = np.empty(n, dtype=np.dtype(fields))
        rec["nf"] = len(columns)
        for name, kind in columns:
            rec[f"l_{name}"] = _SIZE.get(kind) or cols[name].dtype.itemsize
            rec[f"v_{name}"] = cols[name] - PG_EPOCH_SHIFT if kind == "date" else cols[name]
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
                step = 1 << 16
                for i in range(0, n, step):
                    cp.write(rec[i:i + step].tobytes())
                cp.write(b"\xff\xff")
        return n
    py = [_py_column(kind, cols[name], data.get(name + "?")) for name, kind in columns]
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(zip(*py)))
    return n


def _py_column(kind, a, null_mask):
    if kind == "date":
        vals = (np.datetime64("1970-01-01") + a.astype("timedelta64[D]")).astype(str).tolist()
    elif kind == "ts":
        vals = [(PG_TS_EPOCH + dt.timedelta(microseconds=int(a[0]))).isoformat()] * len(a)
    elif kind == "S":
        vals = np.char.decode(a, "utf-8").tolist()
    elif kind == "T":
        vals = [None if v is None else str(v) for v in a.tolist()]
    else:
        vals = a.tolist()
    if null_mask is not None:
        vals = [None if m else v for v, m in zip(vals, np.asarray(null_mask).tolist())]
    return vals


_SQL_TYPE = {"i8": "BIGINT", "i4": "INTEGER", "i2": "SMALLINT", "date": "DATE",
             "ts": "TIMESTAMP WITH TIME ZONE", "S": "TEXT", "T": "TEXT"}


def stage(conn, name: str, columns: list[tuple[str, str]], data: dict) -> int:
    """Fill the temporary table ``name`` of this transaction with ``data`` (the columns of
    ``insert_columns``), emptying it first; it is created on first use (PostgreSQL: dropped
    at commit). Returns the number of rows. For set-based statements that join a batch —
    ids, amounts, keys — to real tables in one ``INSERT … SELECT`` or ``UPDATE … FROM``."""
    cols = ", ".join(f"{c} {_SQL_TYPE[k]}{'' if c + '?' in data else ' NOT NULL'}"
                     for c, k in columns)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols}) ON COMMIT DROP")
        conn.exec_driver_sql(f"TRUNCATE {name}")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols})")
        conn.exec_driver_sql(f"DELETE FROM {name}")
    return insert_columns(conn, name, columns, data)


CHUNK_ROWS = 50_000


def insert_rows(conn, table, rows: Sequence[dict], columns: Sequence[str] | None = None
                ) -> int:
    """Insert many rows given as dicts (all with the same keys) into the SQLAlchemy ``table``,
    in the caller's transaction: a text COPY on PostgreSQL (the driver adapts each value);
    on SQLite the DBAPI's executemany with values converted once by each column's own bind
    processor (what SQLAlchemy would do per row, without its per-row bookkeeping)."""
    if not rows:
        return 0
    columns = list(columns or rows[0].keys())
    quoted = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as cp:
                for r in rows:
                    cp.write_row(tuple(r.get(c) for c in columns))
        return len(rows)
    dialect = conn.dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in columns)})'
    cur = conn.connection.driver_connection.cursor()
    try:
        for i in range(0, len(rows), CHUNK_ROWS):
            cur.executemany(sql, [tuple(v if (p is None or v is None) else p(v)
                                        for v, p in zip((r.get(c) for c in columns), procs))
                                  for r in rows[i:i + CHUNK_ROWS]])
    finally:
        cur.close()
    return len(rows)


IN_LIST_SIZE = 900   # bound values per IN list: under SQLite's historical 999-variable limit


def in_batches(values) -> Iterable[list]:
    """``values`` in lists of at most ``IN_LIST_SIZE``, for ``col.in_(batch)`` queries over
    an unbounded set of keys (the one place that knows the limit)."""
    values = list(values)
    for i in range(0, len(values), IN_LIST_SIZE):
        yield values[i:i + IN_LIST_SIZE]


def fetch_rows_by_keys(conn, table, key: str, keys: Iterable[str]) -> dict[str, dict]:
    """Rows of ``table`` whose text column ``key`` is in ``keys``, as key → row dict: one
    array parameter per 20,000 keys on PostgreSQL, IN lists (``in_batches``) on SQLite."""
    from sqlalchemy import String, any_, bindparam, select

    keys = list(dict.fromkeys(k for k in keys if k))
    out: dict[str, dict] = {}
    col = table.c[key]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        for i in range(0, len(keys), 20_000):
            q = select(table).where(col == any_(bindparam("keys", type_=ARRAY(String))))
            for r in conn.execute(q, {"keys": keys[i:i + 20_000]}).mappings():
                out[r[key]] = dict(r)
        return out
    for batch in in_batches(keys):
        for r in conn.execute(select(table).where(col.in_(batch))).mappings():
            out[r[key]] = dict(r)
    return out


_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(v: str) -> str:
    """COPY text escaping: the backslash first, then tab, newline, carriage return."""
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") \
        .replace("\r", "\\r")


def _pg_text_copy(conn, table, columns, cols, data, n):
    """COPY in text format, for rows with texts of any length or NULLs: each column becomes a
    list of strings (integers and dates converted by numpy; only text columns holding a
    backslash, tab, newline or carriage return are escaped) and the lines are joined
    column-wise in C — no per-value Python string build."""
    parts = []
    for name, kind in columns:
        if kind in ("i8", "i4", "i2"):
            vals = cols[name].astype(str).tolist()
        elif kind == "date":
            vals = (np.datetime64("1970-01-01") + cols[name].astype("timedelta64[D]")
                    ).astype(str).tolist()
        else:
            vals = [str(v) for v in _py_column(kind, cols[name], None)]
            if kind == "T":
                joined = "".join(vals)                # one str search per character
                if any(ch in joined for ch in _ESC):
                    vals = [_escape(v) for v in vals]
        mask = data.get(name + "?")
        if mask is not None:
            vals = [r"\N" if m else v for v, m in zip(vals, np.asarray(mask).tolist())]
        parts.append(vals)
    payload = ("\n".join(map("\t".join, zip(*parts))) + "\n").encode("utf-8")
    names = ", ".join(name for name, _ in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
            cp.write(payload)
    return n


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _driver_sql(sql: str, params: dict) -> tuple[str, dict]:
    """``:name`` parameters → psycopg's ``%(name)s`` (``::type`` casts left alone), and only
    the parameters the statement names."""
    return (_PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%")),
            {k: v for k, v in params.items() if f":{k}" in sql})


def fetch_int_matrix(conn, sql: str, params: dict, ncols: int, *,
                     order_by: str | None = None) -> np.ndarray:
    """Run a query whose columns are all integers (no NULLs) into an int64 matrix (n, ncols).

    PostgreSQL: the server packs the whole result into ONE ``bytea``
    (``string_agg(int8send(c0) || … || int8send(cN))``) which numpy views in place — no
    protocol message and no Python call per row (a binary COPY still hands psycopg one message
    per row, ~2 µs each). ``string_agg`` keeps no ORDER BY of ``sql``: give ``order_by``
    (columns ``c0``, ``c1``… of the result) or sort the matrix. A NULL is refused (its row
    would vanish from the aggregate: the bytes are checked against ``count(*)``); ``bytea`` is
    limited to 1 GB, far above a chunk. SQLite: the driver's tuples flattened into numpy.
    ``sql`` uses ``:name`` parameters."""
    if conn.dialect.name != "postgresql":
        import itertools

        from sqlalchemy import text

        rows = conn.execute(text(sql), params).all()
        return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                           count=len(rows) * ncols).reshape(len(rows), ncols)
    names = ", ".join(f"c{i}" for i in range(ncols))
    packed = " || ".join(f"int8send(c{i}::bigint)" for i in range(ncols))
    order = f" ORDER BY {order_by}" if order_by else ""
    query, bound = _driver_sql(sql, params)
    stmt = f"SELECT string_agg({packed}, ''::bytea{order}), count(*) FROM ({query}) AS q({names})"
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        cur.execute(stmt, bound)
        blob, n = cur.fetchone()
    blob = blob or b""
    if len(blob) != n * ncols * 8:
        raise ValueError("the query has NULLs: fetch_int_matrix needs integers in every column")
    return np.frombuffer(blob, dtype=">i8").astype(np.int64).reshape(n, ncols)


def fetch_ints_and_text(conn, sql: str, params: dict, ncols: int
                        ) -> tuple[np.ndarray, list[str]]:
    """``fetch_int_matrix`` of a query whose first ``ncols`` columns are integers and whose
    last is a non-NULL text: (the int64 matrix, the texts in the same row order). PostgreSQL:
    one pass — the integers packed as above and the texts as one ``json_agg`` beside them
    (two aggregates of one scan see the rows in the same order)."""
    if conn.dialect.name != "postgresql":
        from sqlalchemy import text

        rows = conn.execute(text(sql), params).all()
        m = np.array([r[:ncols] for r in rows], dtype=np.int64).reshape(len(rows), ncols)
        return m, [r[ncols] for r in rows]
    names = ", ".join([f"c{i}" for i in range(ncols)] + ["t"])
    packed = " || ".join(f"int8send(c{i}::bigint)" for i in range(ncols))
    query, bound = _driver_sql(sql, params)
    stmt = (f"SELECT string_agg({packed}, ''::bytea), count(*), json_agg(t)::text "
            f"FROM ({query}) AS q({names})")
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        cur.execute(stmt, bound)
        blob, n, texts = cur.fetchone()
    blob = blob or b""
    texts = json.loads(texts) if texts else []
    if len(blob) != n * ncols * 8 or len(texts) != n or None in texts:
        raise ValueError("the query has NULLs: fetch_ints_and_text needs values in every column")
    return np.frombuffer(blob, dtype=">i8").astype(np.int64).reshape(n, ncols), texts


def copy_out_ints(conn, sql: str, params: dict, ncols: int) -> np.ndarray:
    """PostgreSQL: ``COPY (sql) TO STDOUT (FORMAT BINARY)`` into an int64 matrix, parsed in
    place by numpy. For a statement ``fetch_int_matrix`` cannot wrap in a sub-select — one
    with a data-modifying WITH (``INSERT …``) whose written rows are the ones returned; its
    output columns must already be non-NULL bigints."""
    stmt, bound = _driver_sql(sql, params)
    buf = bytearray()
    with conn.connection.driver_connection.cursor() as cur:
        with cur.copy(f"COPY ({stmt}) TO STDOUT (FORMAT BINARY)", bound) as cp:
            for block in cp:
                buf += block
    # header: 11-byte signature, 4-byte flags, 4-byte extension length (+ extension); then
    # fixed-width records (field count, then length + value per field); a -1 trailer
    ext = int.from_bytes(buf[15:19], "big")
    body = memoryview(buf)[19 + ext:len(buf) - 2]
    rec = np.dtype([("nf", ">i2")] + [(f"x{i}", [("l", ">i4"), ("v", ">i8")])
                                     for i in range(ncols)])
    arr = np.frombuffer(body, dtype=rec)
    out = np.empty((len(arr), ncols), dtype=np.int64)
    for i in range(ncols):
        if len(arr) and np.any(arr[f"x{i}"]["l"] != 8):
            raise ValueError(f"column {i} is not a non-NULL bigint")
        out[:, i] = arr[f"x{i}"]["v"]
    return out


def insert_and_read_ints(conn, rows_sql: str, insert_sql: str | tuple[str, ...],
                         ints_sql: str, params: dict, ncols: int, *, types=()) -> np.ndarray:
    """Write the rows a query computes and read integers of the same rows, as one unit.

    ``rows_sql`` is the query, visible to the others as ``c``; ``insert_sql`` is an
    ``INSERT … SELECT … FROM c`` (or several, each into its own table, from the same rows);
    ``ints_sql`` selects ``ncols`` non-NULL bigints ``FROM c``.
    PostgreSQL: one statement (``WITH c AS MATERIALIZED (…), ins0 AS (INSERT …), … SELECT …``,
    read by binary COPY), so the integers describe exactly the rows inserted and the query
    runs once. SQLite: the query again per INSERT (the integers first, then the INSERTs when
    there are any) inside the caller's write transaction, which no other writer can enter.
    ``types``: ``bindparam``s whose type the driver must be told (dates and timestamps on
    SQLite)."""
    inserts = (insert_sql,) if isinstance(insert_sql, str) else tuple(insert_sql)
    if conn.dialect.name == "postgresql":
        ins = ", ".join(f"ins{i} AS ({s})" for i, s in enumerate(inserts))
        return copy_out_ints(conn, f"WITH c AS MATERIALIZED ({rows_sql}), {ins} {ints_sql}",
                             params, ncols)
    from sqlalchemy import text

    m = fetch_int_matrix(conn, f"WITH c AS ({rows_sql}) {ints_sql}", params, ncols)
    if len(m):
        for s in inserts:
            conn.execute(text(f"WITH c AS ({rows_sql}) {s}").bindparams(*types), params)
    return m


def fetch_tuples(conn, sql: str, params: dict) -> list[tuple]:
    """The rows of a query as plain tuples — on PostgreSQL straight from the driver's cursor,
    without a SQLAlchemy Row per row."""
    if conn.dialect.name != "postgresql":
        from sqlalchemy import text

        return [tuple(r) for r in conn.execute(text(sql), params)]
    query, bound = _driver_sql(sql, params)
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(query, bound)
        return cur.fetchall()


def new_ids(conn, table: str, n: int) -> np.ndarray:
    """``n`` fresh primary keys of ``table``, ascending — its sequence on PostgreSQL, after
    the largest id on SQLite (whose writers are serialised) — so that a batch can name the
    rows it is about to copy in."""
    if n <= 0:
        return np.zeros(0, np.int64)
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                           {"t": table}).scalar_one()
        seq = seq.replace("'", "''")        # a constant: resolved once, not once per row
        ids = fetch_int_matrix(conn, f"SELECT nextval('{seq}'::regclass) "
                                     "FROM generate_series(1, :n)", {"n": n}, 1)[:, 0]
        return np.sort(ids)
    top = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
    return np.arange(top + 1, top + n + 1, dtype=np.int64)


def json_list(values) -> str:
    """A list as ONE JSON text parameter (read by ``json_rows_sql``) instead of an array whose
    every element the driver would adapt in Python."""
    return json.dumps(values.tolist() if isinstance(values, np.ndarray) else list(values),
                      ensure_ascii=False)


def json_rows_sql(conn, param: str = "vals") -> str:
    """A FROM item ``v(value, ord)`` over the JSON list parameter ``:param``: each element as
    text and its 1-based position."""
    if conn.dialect.name == "postgresql":
        return (f"json_array_elements_text(CAST(:{param} AS json)) WITH ORDINALITY "
                f"AS v(value, ord)")
    return f"(SELECT value, key + 1 AS ord FROM json_each(:{param})) AS v"


def json_ids_sql(conn, param: str = "vals") -> str:
    """A FROM item ``v(id)`` over the JSON list of integer ids ``:param`` (``json_list``): a
    batch of keys joined to a big table as one parameter, without an IN list."""
    return f"(SELECT CAST(value AS BIGINT) AS id FROM {json_rows_sql(conn, param)}) v"


def date_days(values) -> np.ndarray:
    """Dates (date objects or ISO strings, as the two drivers return them) → int days."""
    arr = np.array([str(v) for v in values], dtype="datetime64[D]")
    return arr.astype(np.int64)
