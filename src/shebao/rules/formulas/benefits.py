"""Benefit formulas, vectorised over numpy int64 arrays and exact.

Every amount is integer fen. Every rate is an exact rational (a Decimal from the parameter
tree turned into numerator/denominator); each part of a benefit is rounded exactly once, by
:func:`shebao.core.money.round_half_up`. The batch runs and the single-person calculators call
the same functions (the calculators with arrays of length one).

The average contribution index is carried as an integer scaled by ``INDEX_SCALE`` (10**6): an
index of 1.0 is 1_000_000. This is a representation, like the fen, not a legal value.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from shebao.core.errors import InvariantError, RuleError
from shebao.core.money import rate_ratio, round_half_up

INDEX_SCALE = 10 ** 6
MONTHS_PER_YEAR = 12  # calendar fact: contribution years are counted as months / 12
_INT64_MAX = 2 ** 63 - 1


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _guard(*factors) -> None:
    """Refuse a product that could overflow int64 (exactness must never be lost silently)."""
    bound = 1
    for f in factors:
        a = np.asarray(f)
        m = int(np.max(np.abs(a))) if a.size else 0
        bound *= max(m, 1)
    if bound > _INT64_MAX:
        raise InvariantError(f"intermediate product may exceed int64 ({bound}); refuse rather "
                             f"than lose exactness")


def common_ratio(rates) -> tuple[np.ndarray, int]:
    """Decimal rates → (int64 numerators over one common denominator, that denominator)."""
    fracs = [Fraction(Decimal(r)) for r in rates]
    den = 1
    for f in fracs:
        den = den * f.denominator // math.gcd(den, f.denominator)
    return np.array([f.numerator * (den // f.denominator) for f in fracs], dtype=np.int64), den


def index_scaled(index: Decimal) -> int:
    """A decimal index (at most 6 decimals) → integer scaled by INDEX_SCALE; exact or refused."""
    s = Fraction(Decimal(index)) * INDEX_SCALE
    if s.denominator != 1:
        raise ValueError(f"index {index} has more than 6 decimals")
    return int(s)


def step_lookup(values, table: dict) -> np.ndarray:
    """For each value, the table entry with the largest key not above it (bands by threshold).
    Values below the first key are refused (the table does not cover them)."""
    keys = sorted(int(k) for k in table)
    karr = np.array(keys, dtype=np.int64)
    out = np.array([table[k] for k in keys])
    v = _arr(values)
    pos = np.searchsorted(karr, v, side="right") - 1
    if np.any(pos < 0):
        raise RuleError(f"value below the table's first key {keys[0]}")
    return out[pos]


def exact_lookup(values, table: dict, *, clamp: bool = False) -> np.ndarray:
    """Table keyed by consecutive integers (ages, grades): value per key; with ``clamp`` keys
    outside the table use its ends, otherwise a missing key is refused."""
    keys = sorted(int(k) for k in table)
    lo, hi = keys[0], keys[-1]
    dense = np.zeros(hi - lo + 1, dtype=np.int64)
    present = np.zeros(hi - lo + 1, dtype=bool)
    for k in keys:
        dense[k - lo] = int(table[k])
        present[k - lo] = True
    v = _arr(values)
    if clamp:
        v = np.clip(v, lo, hi)
    elif np.any((v < lo) | (v > hi)):
        raise RuleError(f"key outside the table {lo}..{hi}")
    if not np.all(present[v - lo]):
        raise RuleError("key missing from the table")
    return dense[v - lo]


# --- employee basic pension (国发〔2005〕38号) ---------------------------------------------

def basic_pension_fen(calc_base_fen, index_scaled_, months, rate_per_year: Decimal) -> np.ndarray:
    """(C + C×I)/2 × (months/12) × rate, in fen, rounded once.

    = C_fen × (S + I_s) × months × r_num / (2 × S × 12 × r_den)."""
    rn, rd = rate_ratio(Decimal(rate_per_year))
    c, i, m = _arr(calc_base_fen), _arr(index_scaled_), _arr(months)
    _guard(c, INDEX_SCALE + i, m, rn)
    return round_half_up(c * (INDEX_SCALE + i) * m * rn, 2 * INDEX_SCALE * MONTHS_PER_YEAR * rd)


def account_pension_fen(balance_fen, divisor) -> np.ndarray:
    """Individual-account balance ÷ months of payment, rounded once."""
    return round_half_up(_arr(balance_fen), _arr(divisor))


def transitional_pension_fen(calc_base_fen, index_scaled_, deemed_months, coefficient) -> np.ndarray:
    """C × I × (deemed months / 12) × coefficient, rounded once. ``coefficient`` is a Decimal
    or a pair (numerator array, common denominator) when it differs per person."""
    if isinstance(coefficient, tuple):
        kn, kd = _arr(coefficient[0]), int(coefficient[1])
    else:
        kn, kd = rate_ratio(Decimal(coefficient))
    c, i, d = _arr(calc_base_fen), _arr(index_scaled_), _arr(deemed_months)
    _guard(c, i, d, kn)
    return round_half_up(c * i * d * kn, INDEX_SCALE * MONTHS_PER_YEAR * kd)


def divisor_for_age(age_years, table: dict) -> np.ndarray:
    """Months of payment for whole-year ages, clamped to the table's ends."""
    return exact_lookup(age_years, table, clamp=True)


def average_index_scaled(base_fen, wage_fen, months, lo: Decimal, hi: Decimal) -> tuple[int, int]:
    """Month-weighted average contribution index of one person's history.

    Each year's index = base ÷ average wage, clamped to [lo, hi]; weighted by the months of
    that year. Returns (index scaled by INDEX_SCALE rounded once, total months). Exact: the
    sum is a rational computed with Python integers, rounded once at the end."""
    base_fen, wage_fen, months = list(map(int, base_fen)), list(map(int, wage_fen)), list(map(int, months))
    lo_f, hi_f = Fraction(Decimal(lo)), Fraction(Decimal(hi))
    total = sum(months)
    if total <= 0:
        raise ValueError("no contribution months")
    if lo_f > hi_f:                     # degenerate bounds: the plain rational sum
        acc = Fraction(0)
        for b, w, m in zip(base_fen, wage_fen, months):
            acc += min(max(Fraction(b, w), lo_f), hi_f) * m
        return round_half_up(acc * INDEX_SCALE / total), total
    # the same rational in integers: months at the floor, months at the ceiling, and the
    # unclamped Σ base × months per wage, over one common denominator
    ln, ld, hn, hd = lo_f.numerator, lo_f.denominator, hi_f.numerator, hi_f.denominator
    at_lo = at_hi = 0
    mid: dict[int, int] = {}
    for b, w, m in zip(base_fen, wage_fen, months):
        if w == 0:
            raise ZeroDivisionError(f"Fraction({b}, 0)")
        if w < 0:
            b, w = -b, -w
        if b * ld < ln * w:
            at_lo += m
        elif b * hd > hn * w:
            at_hi += m
        else:
            mid[w] = mid.get(w, 0) + b * m
    den = math.lcm(ld, hd, *mid)
    num = ln * at_lo * (den // ld) + hn * at_hi * (den // hd) + sum(
        x * (den // w) for w, x in mid.items())
    return round_half_up(num * INDEX_SCALE, den * total), total


# --- unemployment (SIL art. 45–47, UIR art. 18) -------------------------------------------

def unemployment_months(contribution_months, bands: dict) -> np.ndarray:
    return step_lookup(contribution_months, bands).astype(np.int64)


def unemployment_amount_fen(min_wage_fen, share: Decimal, min_living_fen) -> np.ndarray:
    """share × minimum wage, rounded once, raised to the minimum living standard."""
    sn, sd = rate_ratio(Decimal(share))
    if sn >= sd:
        raise RuleError(f"unemployment share of the minimum wage {share} must be below 1 "
                        f"(失业保险条例 第十八条: below the minimum wage)")
    amount = round_half_up(_arr(min_wage_fen) * sn, sd)
    return np.maximum(amount, _arr(min_living_fen))


# --- work injury (WIR art. 35–37, 64) -----------------------------------------------------

def clamp_fen(value_fen, avg_fen, lo: Decimal, hi: Decimal) -> np.ndarray:
    """Clamp to [lo × avg, hi × avg], each bound rounded once."""
    ln, ld = rate_ratio(Decimal(lo))
    hn, hd = rate_ratio(Decimal(hi))
    a = _arr(avg_fen)
    return np.clip(_arr(value_fen), round_half_up(a * ln, ld), round_half_up(a * hn, hd))


def injury_lump_sum_fen(own_wage_fen, grade, months_table: dict) -> np.ndarray:
    return _arr(own_wage_fen) * exact_lookup(grade, months_table)


def injury_allowance_fen(own_wage_fen, grade, rate_table: dict, min_wage_fen) -> np.ndarray:
    """own wage × rate(grade), rounded once, topped up to the minimum wage; 0 for grades
    without an allowance."""
    g = _arr(grade)
    keys = sorted(int(k) for k in rate_table)
    nums, den = common_ratio([rate_table[k] for k in keys])
    dense = np.zeros(max(keys) + 2, dtype=np.int64)
    for k, n in zip(keys, nums):
        dense[k] = n
    has = np.isin(g, keys)
    num = np.where(has, dense[np.clip(g, 0, dense.size - 1)], 0)
    amount = round_half_up(_arr(own_wage_fen) * num, den)
    return np.where(has, np.maximum(amount, _arr(min_wage_fen)), 0)


# --- maternity (FLP art. 7, SIL art. 56) --------------------------------------------------

def maternity_birth_days(base_days, difficult, extra_babies, difficult_days, per_baby_days,
                         regional_days) -> np.ndarray:
    return (_arr(base_days) + _arr(difficult) * _arr(difficult_days)
            + _arr(extra_babies) * _arr(per_baby_days) + _arr(regional_days))


def maternity_allowance_fen(avg_wage_fen, days, day_divisor) -> np.ndarray:
    """Employer average monthly wage ÷ day divisor × days, rounded once."""
    return round_half_up(_arr(avg_wage_fen) * _arr(days), _arr(day_divisor))


# --- transfer between provinces (T66 art. 4) ----------------------------------------------

def pooled_transfer_fen(base_total_fen, rate_num, rate_den: int) -> int:
    """Σ base × rate over the years counted (rates as numerators over one denominator), rounded
    once for the whole transfer."""
    b, n = _arr(base_total_fen), _arr(rate_num)
    _guard(b, n, max(len(b), 1))
    return int(round_half_up(np.array([int((b * n).sum())], dtype=np.int64), int(rate_den))[0])


# --- indexation -----------------------------------------------------------------------------

def indexed_amount_fen(amount_fen, rate: Decimal) -> np.ndarray:
    """amount × (1 + rate), rounded once."""
    rn, rd = rate_ratio(Decimal(1) + Decimal(rate))
    a = _arr(amount_fen)
    _guard(a, rn)
    return round_half_up(a * rn, rd)
