"""Urban–rural resident pension (国发〔2014〕8号; rules.md §7; rules-2 §7.1), vectorised.

    account balance: each year, interest on the opening balance at the account rate (rounded
                     once a year), then the year's credit (the tier chosen + the subsidy)
    account pension  = balance ÷ divisor (139)                                   rounded once
    basic pension    = central minimum + local top-up
    monthly pension  = basic + account pension
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.money import round_half_up, to_fen
from shebao.rules.formulas.contribution import DEN, rate_num


@dataclass(frozen=True)
class AwardParams:
    central_fen: int
    topup_fen: int
    divisor: int
    account_rate: Decimal
    sources: list


def award_params(rules, region: str, on) -> AwardParams:
    sources: list = []

    def get(name):
        res = rules.lookup(name, region, on)
        sources.append(res.as_json())
        return res.value

    divisor = int(get("resident.pension_divisor"))
    if divisor <= 0:
        raise RuleError("resident.pension_divisor must be positive")
    return AwardParams(to_fen(Decimal(get("resident.central_minimum_pension"))),
                       to_fen(Decimal(get("resident.local_basic_pension_topup"))), divisor,
                       Decimal(get("resident.pension_account_rate")), sources)


def subsidy_fen(rules, region: str, on, tier_fen: int) -> int:
    """The subsidy for a tier: the row with the largest tier not above the chosen one."""
    table = rules.value("resident.pension_subsidy", region, on)
    keys = sorted(int(k) for k in table)
    fit = [k for k in keys if to_fen(Decimal(k)) <= tier_fen]
    return to_fen(Decimal(table[fit[-1]])) if fit else 0


def account_future_value(credit_fen, years: int, rate) -> np.ndarray:
    """Balance after ``years`` equal yearly credits (interest on the opening balance, rounded
    once a year, then the credit)."""
    credit = np.asarray(credit_fen, np.int64)
    num = rate_num(Decimal(rate))
    bal = np.zeros_like(credit)
    for _ in range(years):           # years, not people: the arrays carry the people
        bal = bal + round_half_up(bal * num, DEN) + credit
    return bal


def accrue(balance_fen, credit_fen, rate) -> np.ndarray:
    """One year: interest on the opening balance, then the year's credit."""
    bal = np.asarray(balance_fen, np.int64)
    return bal + round_half_up(bal * rate_num(Decimal(rate)), DEN) + np.asarray(credit_fen,
                                                                                  np.int64)


def award(balance_fen, central_fen: int, topup_fen: int, divisor: int):
    """(basic, account pension, monthly total) per person, fen."""
    bal = np.asarray(balance_fen, np.int64)
    account = round_half_up(bal, divisor)
    basic = np.full_like(bal, central_fen + topup_fen)
    return basic, account, basic + account


__all__ = ["AwardParams", "award_params", "subsidy_fen", "account_future_value", "accrue",
           "award"]
