"""Fund early-warning indicators and the projection's one-year step (rules-2 §6.4, §8).

Exact arithmetic: amounts are integer fen, rates exact decimals; ratios are Decimals rounded
half up once, to ``places`` decimals. Nothing here reads the database: the monitoring platform
feeds these functions with the ledger's and registry's figures, the calculators
``fund_warning`` and ``projection_step`` with a request.

    payable_months  = balance / (annual expenditure / 12)              (可支付月数)
    current_surplus = income − expenditure; excluding subsidy: income − subsidy − expenditure
    dependency      = contributors / pensioners                        (制度抚养比)
    collection_rate = collected / receivable ; arrears_rate = outstanding / receivable
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shebao.core.money import rate_ratio, round_half_up

LEVELS = ("ok", "watch", "alert")


def ratio(num: int, den: int, places: int = 2) -> Decimal | None:
    """num / den rounded half up to ``places`` decimals; None when den is 0."""
    if not den:
        return None
    q = Decimal(1).scaleb(-places)
    return (Decimal(int(num)) / Decimal(int(den))).quantize(q, rounding=ROUND_HALF_UP)


def payable_months(balance_fen: int, annual_expenditure_fen: int) -> Decimal | None:
    return ratio(int(balance_fen) * 12, int(annual_expenditure_fen))


def current_surplus(income_fen: int, expenditure_fen: int, subsidy_fen: int = 0
                    ) -> tuple[int, int]:
    """(surplus, surplus excluding the fiscal subsidy), fen."""
    return int(income_fen) - int(expenditure_fen), \
        int(income_fen) - int(subsidy_fen) - int(expenditure_fen)


def level(value: Decimal | int | None, band: dict) -> str:
    """``ok`` / ``watch`` / ``alert`` of a value against a band of thresholds (any of
    ``alert_below``, ``watch_below``, ``watch_above``, ``alert_above``); ``n/a`` without a value."""
    if value is None:
        return "n/a"
    v = Decimal(value)
    if ("alert_below" in band and v < Decimal(str(band["alert_below"]))) or \
            ("alert_above" in band and v > Decimal(str(band["alert_above"]))):
        return "alert"
    if ("watch_below" in band and v < Decimal(str(band["watch_below"]))) or \
            ("watch_above" in band and v > Decimal(str(band["watch_above"]))):
        return "watch"
    return "ok"


def times_rate(amount_fen: int, *rates: Decimal) -> int:
    """amount × r1 × r2 … rounded half up once (exact: each rate is a ratio of integers)."""
    num, den = int(amount_fen), 1
    for r in rates:
        n, d = rate_ratio(Decimal(str(r)))
        num, den = num * n, den * d
    return int(round_half_up(num, den))


@dataclass(frozen=True)
class Step:
    """One year of the projection for one fund (rules-2 §8), fen and persons."""

    income_fen: int
    pooled_income_fen: int
    account_income_fen: int
    expenditure_fen: int
    deaths: int
    pensioners_next: int
    avg_pension_next_fen: int
    expenditure_next_fen: int


def one_year_step(*, contributors: int, avg_base_fen: int, contribution_rate: Decimal,
                  pooled_rate: Decimal, collection_rate: Decimal, pensioners: int,
                  avg_pension_fen: int, indexation: Decimal, death_rate: Decimal,
                  new_pensioners: int, new_pension_fen: int) -> Step:
    """income = contributors × base × 12 × rate × collection; the pooled part is
    pooled_rate/contribution_rate of it (the rest is the individual accounts' liability);
    expenditure = pensioners × pension × 12; next year the survivors' pension is indexed and
    the new pensioners join at their own average."""
    income = times_rate(contributors * avg_base_fen * 12, contribution_rate, collection_rate)
    pn, pd = rate_ratio(Decimal(str(pooled_rate)))
    cn, cd = rate_ratio(Decimal(str(contribution_rate)))
    pooled = int(round_half_up(income * pn * cd, pd * cn))
    expenditure = pensioners * avg_pension_fen * 12
    deaths = times_rate(pensioners, death_rate)
    survivors = pensioners - deaths
    indexed = times_rate(avg_pension_fen, Decimal(1) + Decimal(str(indexation)))
    nxt = survivors + new_pensioners
    exp_next = (survivors * indexed + new_pensioners * new_pension_fen) * 12
    avg_next = int(round_half_up(exp_next, nxt * 12)) if nxt else 0
    return Step(income, pooled, income - pooled, expenditure, deaths, nxt, avg_next, exp_next)
