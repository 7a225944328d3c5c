"""Reads of the ledger's tables for other packages: plain functions returning plain data, and
the derived tables other packages' set-based statements may join (the ledger owns their SQL).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from shebao.db.dialect import unindexed

from .tables import ledger_account, ledger_posting


# --- read by benefits ---
def account_ids(conn, codes) -> dict[str, int]:
    """account code → id for the codes that exist."""
    codes = list(codes)
    out: dict[str, int] = {}
    for i in range(0, len(codes), 1000):
        for r in conn.execute(select(ledger_account.c.code, ledger_account.c.id).where(
                ledger_account.c.code.in_(codes[i:i + 1000]))):
            out[r.code] = r.id
    return out


def sums_before(conn, account_ids, before: dt.date) -> dict[int, int]:
    """account id → Σ postings (debit +) effective before ``before`` (accounts with none are
    absent)."""
    ids = list(account_ids) or [-1]
    return {int(a): int(s) for a, s in conn.execute(
        select(ledger_posting.c.account_id, func.sum(ledger_posting.c.amount)).where(
            ledger_posting.c.account_id.in_(ids), ledger_posting.c.effective_date < before)
        .group_by(ledger_posting.c.account_id))}


def postings_between(conn, account_ids, start: dt.date, end: dt.date) -> list[tuple]:
    """(account id, effective date, amount) of the postings effective in [start, end)."""
    ids = list(account_ids) or [-1]
    return [(int(a), d, int(m)) for a, d, m in conn.execute(
        select(ledger_posting.c.account_id, ledger_posting.c.effective_date,
               ledger_posting.c.amount).where(
            ledger_posting.c.account_id.in_(ids), ledger_posting.c.effective_date >= start,
            ledger_posting.c.effective_date < end))]


# A derived table for set-based statements of benefits (payroll) that need the stored balance
# of persons' individual accounts: ``LEFT JOIN ({individual_balances_sql()}) la ON
# la.person_id = …``; columns (person_id, balance) — balance debit-positive, so a credit-normal
# individual account's money is ``-balance``. Parameters ``:scheme`` and ``:region`` are the
# caller's. The region is compared through ``dialect.unindexed`` so that SQLite, which has no
# statistics, keeps to the (person_id, scheme) index the caller's person range makes
# selective instead of scanning the region's accounts for every person.
def individual_balances_sql() -> str:
    return ("SELECT person_id, balance FROM ledger_account WHERE scheme = :scheme "
            f"AND kind = 'individual' AND {unindexed('region')} = :region")
