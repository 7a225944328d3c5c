"""Database helpers of collection's batch paths (assessment, bills, bank import), beside
``shebao.db.bulk``: the cases where psycopg's per-row cost, not the server, set the pace.

``fetch_packed(conn, sql, params, ncols)`` returns what ``db.bulk.fetch_int_matrix``
returns — an int64 matrix (n, ncols) of a query whose columns are all integers, never NULL —
but on PostgreSQL the server packs the whole result into ONE ``bytea``::

    SELECT string_agg(int8send(c0) || … || int8send(cN), ''::bytea), count(*)
    FROM (<sql>) AS q(c0, …, cN)

fetched in binary and viewed in place by numpy: no protocol message and no Python call per
row. (A binary COPY sends one message per row, which psycopg hands to Python one at a time:
about 2 µs a row, 0.8 s for the 430,000 enrolment rows of a 100,000-person chunk.) A NULL in
any column is refused, as ``fetch_int_matrix`` does: ``int8send(NULL)`` would make the whole
row NULL and ``string_agg`` would skip it, so the bytes are checked against ``count(*)``.
Row order: not guaranteed (``string_agg`` keeps no ORDER BY of ``sql``): sort the matrix.
``bytea`` is limited to 1 GB (13 million rows of ten columns), far above a chunk. Other
databases: ``fetch_int_matrix``.

``new_ids(conn, table, n)``: ``n`` fresh primary keys of ``table``, ascending (its sequence
on PostgreSQL, read packed; after the largest id on SQLite, whose writers are serialised) —
so a batch can name the rows it is about to copy in.

``copy_text(conn, table, columns, data)``: ``db.bulk.insert_columns`` for rows with texts of
any length and NULLs, which that function writes through a per-value numpy string build; here
PostgreSQL gets one text-format COPY whose lines are joined column-wise in C (escaping only the
columns that need it). SQLite: ``insert_columns``.

``fetch_tuples(conn, sql, params)``: the rows of a query as plain tuples — on PostgreSQL
straight from the driver's cursor, without a SQLAlchemy Row per row.

``pg_settings(conn, name=value, …)``: planner/executor settings for the statements inside
the ``with`` on PostgreSQL (``set_config(…, true)``, the previous values restored after, so the
caller's transaction is left as it was); nothing on other databases.

``json_list(values)``: a list as ONE JSON text parameter — read by
``json_array_elements_text`` (PostgreSQL) or ``json_each`` (SQLite) — instead of an array
whose every element the driver would adapt in Python.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager

import numpy as np

from shebao.db.bulk import fetch_int_matrix, insert_columns

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def fetch_packed(conn, sql: str, params: dict, ncols: int) -> np.ndarray:
    if conn.dialect.name != "postgresql":
        return fetch_int_matrix(conn, sql, params, ncols)
    names = [f"c{i}" for i in range(ncols)]
    packed = " || ".join(f"int8send(c{i}::bigint)" for i in range(ncols))
    query = _PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
    stmt = (f"SELECT string_agg({packed}, ''::bytea), count(*) "
            f"FROM ({query}) AS q({', '.join(names)})")
    raw = conn.connection.driver_connection
    with raw.cursor(binary=True) as cur:
        cur.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})
        blob, n = cur.fetchone()
    if blob is None:
        blob = b""
    if len(blob) != n * ncols * 8:
        raise ValueError("the query has NULLs: fetch_packed needs integers in every column")
    return np.frombuffer(blob, dtype=">i8").astype(np.int64).reshape(n, ncols)


def fetch_tuples(conn, sql: str, params: dict) -> list[tuple]:
    if conn.dialect.name != "postgresql":
        from sqlalchemy import text

        return [tuple(r) for r in conn.execute(text(sql), params)]
    query = _PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(query, {k: v for k, v in params.items() if f":{k}" in sql})
        return cur.fetchall()


def new_ids(conn, table: str, n: int) -> np.ndarray:
    if n <= 0:
        return np.zeros(0, np.int64)
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                           {"t": table}).scalar_one()
        seq = seq.replace("'", "''")        # a constant: resolved once, not once per row
        ids = fetch_packed(conn, f"SELECT nextval('{seq}'::regclass) "
                                 "FROM generate_series(1, :n)", {"n": n}, 1)[:, 0]
        return np.sort(ids)
    top = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
    return np.arange(top + 1, top + n + 1, dtype=np.int64)


def json_list(values) -> str:
    return json.dumps(values.tolist() if isinstance(values, np.ndarray) else list(values),
                      ensure_ascii=False)


def json_rows_sql(conn, param: str = "vals") -> str:
    """A FROM item ``v(value, ord)`` over the JSON list parameter ``:param``: each element as
    text and its 1-based position."""
    if conn.dialect.name == "postgresql":
        return (f"json_array_elements_text(CAST(:{param} AS json)) WITH ORDINALITY "
                f"AS v(value, ord)")
    return f"(SELECT value, key + 1 AS ord FROM json_each(:{param})) AS v"


_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_ESC_RE = re.compile(r"[\\\t\n\r]")


def _text_column(kind: str, v, n: int) -> list[str]:
    if kind == "T":
        vals = [v] * n if isinstance(v, str) else [str(x) for x in v]
        joined = "".join(vals)
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            vals = [_ESC_RE.sub(lambda m: _ESC[m.group(0)], x) for x in vals]
        return vals
    if kind == "date":
        days = np.asarray(v, dtype=np.int64)
        return (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype(str).tolist()
    if np.isscalar(v):
        return [str(int(v))] * n
    return np.asarray(v, dtype=np.int64).astype(str).tolist()


def copy_text(conn, table: str, columns: list[tuple[str, str]], data: dict) -> int:
    """Insert columns (kinds ``i8`` integers, ``date`` int days since 1970-01-01, ``T`` text;
    a NULL mask under ``data[name + "?"]``, True = NULL); returns the number of rows."""
    n = max((len(data[name]) for name, _ in columns
             if not np.isscalar(data[name]) and not isinstance(data[name], str)), default=0)
    if n == 0:
        return 0
    if conn.dialect.name != "postgresql":
        kinds = {"i8": "i8", "date": "date", "T": "T"}
        return insert_columns(conn, table, [(name, kinds[k]) for name, k in columns], data)
    cols = []
    for name, kind in columns:
        vals = _text_column(kind, data[name], n)
        mask = data.get(name + "?")
        if mask is not None:
            vals = [r"\N" if m else x for x, m in zip(vals, np.asarray(mask).tolist())]
        cols.append(vals)
    payload = ("\n".join(map("\t".join, zip(*cols))) + "\n").encode("utf-8")
    names = ", ".join(name for name, _ in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
            cp.write(payload)
    return n


@contextmanager
def pg_settings(conn, **settings):
    if conn.dialect.name != "postgresql" or not settings:
        yield
        return
    raw = conn.connection.driver_connection
    names = list(settings)
    with raw.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))
        old = cur.fetchone()
        cur.execute("SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in names),
                    [str(settings[n]) for n in names])
    try:
        yield
    finally:
        with raw.cursor() as cur:
            cur.execute("SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in names),
                        list(old))
