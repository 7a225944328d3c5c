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
import re

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


def _pg_text_copy(conn, table, columns, cols, data, n):
    """COPY in text format, for the rare bulk insert with NULLs (fixture generation)."""
    parts = []
    for name, kind in columns:
        py = _py_column(kind, cols[name], None)
        if kind == "T":
            py = [v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                  .replace("\r", "\\r") for v in py]
        vals = np.array(py, dtype=object).astype(str)
        mask = data.get(name + "?")
        if mask is not None:
            vals = np.where(np.asarray(mask), "\\N", vals)
        parts.append(vals)
    body = parts[0]
    for p in parts[1:]:
        body = np.char.add(np.char.add(body, "\t"), p)
    payload = ("\n".join(body.tolist()) + "\n").encode("utf-8")
    names = ", ".join(name for name, _ in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
            cp.write(payload)
    return n


def fetch_int_matrix(conn, sql: str, params: dict, ncols: int) -> np.ndarray:
    """Run a query whose columns are all integers (no NULLs) into an int64 matrix (n, ncols).

    PostgreSQL: ``COPY (query) TO STDOUT (FORMAT BINARY)`` with every column cast to bigint, so
    each row is a fixed-width record that numpy reads in place — no Python object per value
    (a million rows of ten columns: about a second instead of ten). SQLite: the driver's
    tuples flattened straight into numpy. ``sql`` uses ``:name`` parameters."""
    if conn.dialect.name == "postgresql":
        return _pg_copy_ints(conn, sql, params, ncols)
    import itertools

    from sqlalchemy import text

    rows = conn.execute(text(sql), params).all()
    return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                       count=len(rows) * ncols).reshape(len(rows), ncols)


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _pg_copy_ints(conn, sql: str, params: dict, ncols: int) -> np.ndarray:
    cols = ", ".join(f"c{i}::bigint" for i in range(ncols))
    names = ", ".join(f"c{i}" for i in range(ncols))
    query = _PARAM.sub(lambda m: f"%({m.group(1)})s",
                       sql.replace("%", "%%"))
    stmt = f"COPY (SELECT {cols} FROM ({query}) AS q({names})) TO STDOUT (FORMAT BINARY)"
    raw = conn.connection.driver_connection
    buf = bytearray()
    with raw.cursor() as cur:
        with cur.copy(stmt, {k: v for k, v in params.items() if f":{k}" in sql}) as cp:
            for block in cp:
                buf += block
    # header: 11-byte signature, 4-byte flags, 4-byte extension length (+ extension)
    ext = int.from_bytes(buf[15:19], "big")
    body = memoryview(buf)[19 + ext:len(buf) - 2]          # minus the -1 trailer
    rec = np.dtype([("nf", ">i2")] + [(f"x{i}", [("l", ">i4"), ("v", ">i8")])
                                     for i in range(ncols)])
    arr = np.frombuffer(body, dtype=rec)
    out = np.empty((len(arr), ncols), dtype=np.int64)
    for i in range(ncols):
        if len(arr) and np.any(arr[f"x{i}"]["l"] != 8):
            raise ValueError(f"column {i} of the query has NULLs: fetch_int_matrix needs integers")
        out[:, i] = arr[f"x{i}"]["v"]
    return out


def date_days(values) -> np.ndarray:
    """Dates (date objects or ISO strings, as the two drivers return them) → int days."""
    arr = np.array([str(v) for v in values], dtype="datetime64[D]")
    return arr.astype(np.int64)
