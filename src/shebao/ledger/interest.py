"""Annual interest on individual accounts by the monthly-product method (月积数法).

``credit_interest(db, actor, region, scheme, year) -> InterestResult``

For every individual account of ``region`` × ``scheme``:

    interest = round_half_up( (12 × balance on 1 Jan + Σ_m net amount recorded in month m
                               × (13 − m)) × rate / 12 )

(``model.monthly_product_interest``; amounts by *effective* date, so back-dated
contributions earn from their period). The rate is the parameter
``<scheme>.account_interest_rate`` for the region, and it must be the value dated 1 January
of that very year — a rate that merely remains in force from an earlier year is refused
(the year's rate has not been published). Medical accounts are credited only when the rules
contain ``medical.account_interest_rate``; otherwise nothing is credited and the result says
so (``reason``).

One entry per region × scheme × year, effective 31 December: debit the pooled fund's
``interest_credited`` account by the total, credit each individual account. Idempotent per
year: the key is ``interest:<region>:<scheme>:<year>`` and its content is (region, scheme,
year, rate), so running it again returns the original entry even if back-dated postings have
arrived since (those need an interest adjustment; see the report).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import InputError, RuleError
from shebao.db import dialect
from shebao.db.uow import reading
from shebao.rules.loader import load_rules

from . import model
from .model import account_code, check_region, check_scheme
from .chart import int_matrix
from .posting import PostResult, _audit_post, _Prepared, _resolve_codes, _with_key, _write


@dataclass(frozen=True)
class InterestResult:
    region: str
    scheme: str
    year: int
    rate: Decimal | None
    accounts: int
    total_fen: int
    entry_id: int | None
    replayed: bool
    reason: str | None = None


def rate_for(region: str, scheme: str, year: int, rules=None) -> Decimal | None:
    """The year's bookkeeping rate, or None for a scheme whose rules carry no rate."""
    rules = rules or load_rules()
    name = f"{scheme}.account_interest_rate"
    if name not in rules:
        if scheme == "pension":
            raise RuleError(f"the rules have no {name}")
        return None
    jan1 = dt.date(year, 1, 1)
    res = rules.lookup(name, region, jan1)
    if res.effective_from != jan1:
        raise RuleError(f"no {name} for {year} in region {region}: the value in force on "
                        f"{jan1} dates from {res.effective_from} (the year's rate is published "
                        f"as a value dated {jan1})")
    return Decimal(res.value)


def _month_expr(conn) -> str:
    return dialect.month_of(conn, "p.effective_date")


def compute(conn, region: str, scheme: str, year: int, rate: Decimal):
    """(account_ids, interest_fen) for every account with non-zero interest."""
    jan1, dec31 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    base = ("FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id "
            "WHERE a.region = :r AND a.scheme = :s AND a.kind = 'individual' ")
    prm = {"r": region, "s": scheme, "jan1": jan1, "dec31": dec31}
    opening = conn.execute(text(
        f"SELECT p.account_id, SUM(-p.amount) {base} AND p.effective_date < :jan1 "
        f"GROUP BY p.account_id"), prm).all()
    monthly = conn.execute(text(
        f"SELECT p.account_id, {_month_expr(conn)} AS m, SUM(-p.amount) {base} "
        f"AND p.effective_date BETWEEN :jan1 AND :dec31 GROUP BY p.account_id, m"), prm).all()
    opening, monthly = int_matrix(opening, 2), int_matrix(monthly, 3)
    ids = np.unique(np.concatenate([opening[:, 0], monthly[:, 0]]))
    if len(ids) == 0:
        return ids, np.zeros(0, np.int64)
    open_arr = np.zeros(len(ids), np.int64)
    if len(opening):
        open_arr[np.searchsorted(ids, opening[:, 0])] = opening[:, 1]
    month_arr = np.zeros((len(ids), 12), np.int64)
    if len(monthly):
        m = monthly
        np.add.at(month_arr, (np.searchsorted(ids, m[:, 0]), m[:, 1] - 1), m[:, 2])
    interest = model.monthly_product_interest(open_arr, month_arr, rate)
    keep = interest != 0
    return ids[keep], interest[keep]


def credit_interest(db, actor: Actor, region: str, scheme: str, year: int,
                    rules=None) -> InterestResult:
    check_region(region)
    check_scheme(scheme)
    if scheme not in model.INDIVIDUAL_SCHEMES:
        raise InputError(f"scheme {scheme} has no individual accounts", field="scheme")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2200:
        raise InputError(f"year {year!r} is not a plausible year", field="year")
    if dt.date(year, 12, 31) >= dt.date.today():
        raise InputError(f"year {year} is not over yet: interest is credited after 31 December",
                         field="year")
    rate = rate_for(region, scheme, year, rules)
    if rate is None:
        return InterestResult(region, scheme, year, None, 0, 0, None, False,
                              f"the rules contain no {scheme}.account_interest_rate: "
                              f"no interest credited")
    key = f"interest:{region}:{scheme}:{year}"
    digest = model.content_hash({"kind": "interest", "region": region, "scheme": scheme,
                                 "year": year, "rate": str(rate)})
    pool = account_code(region, scheme, "interest_credited")
    holder = {}

    def write(conn, rid):
        ids, fen = compute(conn, region, scheme, year, rate)
        holder["n"], holder["total"] = len(ids), int(fen.sum()) if len(fen) else 0
        pool_id = _resolve_codes(conn, [pool])[pool]
        if len(ids) == 0:
            raise _Nothing()
        p = _Prepared(dt.date(year, 12, 31), "interest", f"{year} interest at {rate}",
                      region, scheme, np.concatenate([[pool_id], ids]).astype(np.int64),
                      np.concatenate([[holder["total"]], -fen]).astype(np.int64))
        eids, n = _write(conn, rid, [p])
        _audit_post(conn, actor, "ledger.interest", key, digest, eids, n,
                    {"year": year, "rate": str(rate), "accounts": len(ids),
                     "total_fen": holder["total"]})
        return PostResult(key, eids, False, n)

    try:
        res = _with_key(db, actor, key, "interest", digest, write)
    except _Nothing:
        return InterestResult(region, scheme, year, rate, 0, 0, None, False,
                              "no individual account had a balance or movement")
    if res.replayed:
        with reading(db) as conn:
            row = conn.execute(text(
                "SELECT count(*) - 1, coalesce(max(amount), 0) FROM ledger_posting "
                "WHERE entry_id = :e"), {"e": res.entry_id}).one()
        return InterestResult(region, scheme, year, rate, int(row[0]), int(row[1]),
                              res.entry_id, True)
    return InterestResult(region, scheme, year, rate, holder["n"], holder["total"],
                          res.entry_id, False)


class _Nothing(Exception):
    """No account earns interest: roll back (the request row too) and say so."""
