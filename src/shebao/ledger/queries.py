"""Reads of the ledger's tables for other packages: plain functions returning plain data."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text


# --- read by collection ---

def posted_by_source(conn, region: str, effective_date: dt.date,
                     sources) -> dict[tuple[str, str, str], int]:
    """(scheme, account kind, source) → the sum of the postings of ``region``'s accounts in
    entries of those ``sources`` effective on ``effective_date`` (debits positive)."""
    names = sorted(set(sources))
    marks = ", ".join(f":s{i}" for i in range(len(names)))
    rows = conn.execute(text(
        "SELECT a.scheme, a.kind, e.source, SUM(pst.amount) FROM ledger_posting pst "
        "JOIN ledger_entry e ON e.id = pst.entry_id "
        "JOIN ledger_account a ON a.id = pst.account_id "
        f"WHERE a.region = :r AND e.effective_date = :m AND e.source IN ({marks}) "
        "GROUP BY a.scheme, a.kind, e.source"),
        {"r": region, "m": effective_date, **{f"s{i}": s for i, s in enumerate(names)}}).all()
    return {(r[0], r[1], r[2]): int(r[3] or 0) for r in rows}
