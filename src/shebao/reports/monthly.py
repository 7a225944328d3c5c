"""Monthly statistical report (月度统计报表) of a region: per scheme, the insured at month end,
the month's collection, benefits paid, fiscal subsidy and the fund balance, summed over the
funds (region × scheme ledgers) inside the region; and the twelve-month series behind the
charts. Every money figure comes from the fund statements, which tie out to the ledger."""
from __future__ import annotations

import calendar
import datetime as dt

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.schemes import SCHEMES
from shebao.db.uow import reading
from shebao.ledger import queries as ledger_queries
from shebao.org import model as org_model
from shebao.org import queries as org_queries
from shebao.registry import queries as registry_queries
from shebao.rules import load_rules
from shebao.security import policy

from . import funds

COLUMNS = ("scheme", "insured", "collection", "subsidy", "benefits", "surplus", "balance")


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        y, m = (int(x) for x in month.split("-"))
        start = dt.date(y, m, 1)
    except (ValueError, AttributeError):
        raise InputError(f"month {month!r} is not YYYY-MM", field="month") from None
    return start, dt.date(y, m, calendar.monthrange(y, m)[1])


def region_like(region: str) -> str:
    """The LIKE pattern of the region codes in ``region``'s subtree."""
    if region == regions.NATIONAL:
        return "%"
    return (region[:2] if region[2:] == "0000" else region[:4] if region[4:] == "00"
            else region) + "%"


def _funds(conn, region: str) -> list[tuple[str, str]]:
    return [(r, s) for r, s in ledger_queries.fund_regions(conn) if regions.within(r, region)]


def monthly_report(bind, actor: Actor, region: str, month: str) -> dict:
    """The table of one month (rows per scheme and a total row), every fund tied out."""
    policy.require(actor, "reports.read")
    if region != regions.NATIONAL:
        regions.check_region(region)
    policy.require_region(actor, region)
    start, end = month_bounds(month)
    rows = {s: {"scheme": s, "insured": 0, "collection": 0, "subsidy": 0, "benefits": 0,
                "surplus": 0, "balance": 0} for s in SCHEMES}
    with reading(bind) as conn:
        for (scheme, _kind), n in registry_queries.insured_counts(conn, region_like(region),
                                                                  end).items():
            if scheme in rows:
                rows[scheme]["insured"] += n
        fl = _funds(conn, region)
        for r, s in fl:
            st = funds.checked_statement(conn, actor, r, s, start, end)
            row = rows[s]
            row["collection"] += st.lines.get("contributions", 0)
            row["subsidy"] += st.subsidy
            row["benefits"] += st.lines.get("benefits", 0)
            row["surplus"] += st.surplus
            row["balance"] += st.closing
    body = [rows[s] for s in SCHEMES if any(rows[s][c] for c in COLUMNS[1:])]
    total = {"scheme": "total", **{c: sum(r[c] for r in body) for c in COLUMNS[2:]},
             "insured": None}
    return {"region": region, "month": month, "from": start.isoformat(),
            "to": end.isoformat(), "columns": list(COLUMNS), "rows": body, "total": total}


def series(bind, actor: Actor, region: str, month: str, months: int = 12) -> list[dict]:
    """The last ``months`` months up to ``month``: collection, benefits and balance (all
    schemes), for the charts."""
    start, _ = month_bounds(month)
    out = []
    y, m = start.year, start.month
    seq = []
    for _ in range(months):
        seq.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    for mon in reversed(seq):
        rep = monthly_report(bind, actor, region, mon)
        t = rep["total"]
        out.append({"month": mon, "collection": t["collection"], "benefits": t["benefits"],
                    "subsidy": t["subsidy"], "balance": t["balance"]})
    return out


def administration_budget(bind, actor: Actor, region: str, year: int) -> dict:
    """The region's administration budget (``org``) against the benchmark: the ratio
    ``org.admin_budget_ratio`` × the year's contribution collection of the funds inside the
    region (from the tied-out fund statements)."""
    policy.require(actor, "reports.read")
    regions.check_region(region)
    policy.require_region(actor, region)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ratio = load_rules().lookup("org.admin_budget_ratio", region, end)
    with reading(bind) as conn:
        collection = sum(funds.checked_statement(conn, actor, r, s, start, end)
                         .lines.get("contributions", 0) for r, s in _funds(conn, region))
        budgets = org_queries.budgets(conn, year, scope=region)
    budget = sum(v for r, v in budgets.items() if regions.within(r, region))
    bench = org_model.budget_benchmark(collection, ratio.value)
    return {"region": region, "year": year, "collection": collection,
            "ratio": str(ratio.value), "reference": ratio.reference, "benchmark": bench,
            "budget": budget if budgets else None,
            "difference": budget - bench if budgets else None,
            "budget_permille_of_collection": (budget * 1000 // collection)
            if budgets and collection else None}
