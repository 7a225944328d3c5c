"""A text COPY for collection's batch writes whose rows hold texts of any length and NULLs
(the bank import's receipts and allocations). The other helpers of the batch paths (packed
integer reads, id blocks, JSON list parameters, driver tuples, local settings) are in
``shebao.db.bulk``.

``copy_text(conn, table, columns, data)`` does what ``db.bulk.insert_columns`` does for such
rows, which that function writes through a per-value numpy string build: here PostgreSQL gets
one text-format COPY whose lines are joined column-wise in C, and only the text columns that
hold a backslash, tab, newline or carriage return are escaped. SQLite: ``insert_columns``.
"""
from __future__ import annotations

import re

import numpy as np

from shebao.db.bulk import insert_columns

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
        return insert_columns(conn, table, columns, data)
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
