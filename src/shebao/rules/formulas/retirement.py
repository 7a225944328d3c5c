"""Statutory retirement age under the 2024 reform, vectorised over birth dates.

    k     = months from the group's start birth month to the birth month
    delay = 0 if k < 0 else min(k // step + 1, cap)
    date  = birth date + original age + delay months

The schedule (original ages, start months, steps, caps) is the parameter
``retirement.schedule``; the entry in force on a person's *original* retirement date applies,
so people who reached the old age before 2025 keep it. The minimum contribution months are
``retirement.min_contribution_months`` in force on the retirement date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.regions import NATIONAL, lineage

CATEGORIES = ("male", "female_cadre", "female_worker")


def _month_index(year, month):
    return np.asarray(year, dtype=np.int64) * 12 + (np.asarray(month, dtype=np.int64) - 1)


def days_in_month(month_index: np.ndarray) -> np.ndarray:
    """Length of each month given as year*12 + month-1 (vectorised)."""
    m = (np.asarray(month_index, dtype=np.int64) - 1970 * 12).astype("datetime64[M]")
    return ((m + 1).astype("datetime64[D]") - m.astype("datetime64[D]")).astype(np.int64)


def _entries(rules, name: str, region: str):
    """The dated entries of the nearest region that defines ``name`` (national law here)."""
    values = rules.parameter(name).values
    for r in lineage(region):
        if r in values:
            return values[r]
    raise RuleError(f"{name} has no values for region {region}")


def _parse_ym(text: str) -> int:
    y, m = str(text).split("-")
    return int(y) * 12 + int(m) - 1


@dataclass
class RetirementResult:
    """Arrays, one element per person."""

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    age_months: np.ndarray        # statutory age at retirement, in months
    delay_months: np.ndarray
    min_contribution_months: np.ndarray

    def date(self, i: int = 0) -> dt.date:
        return dt.date(int(self.year[i]), int(self.month[i]), int(self.day[i]))


def birth_range(rules, category: str, region: str = NATIONAL) -> tuple[dt.date, dt.date]:
    """The birth dates the schedule can answer for: from the first birth date whose original
    retirement falls in an entry in force, to the last one whose retirement date (with the
    largest delay of the last entry) is still a calendar date."""
    entries = _entries(rules, "retirement.schedule", region)
    first, last = entries[0], entries[-1]
    lo = first.start.year * 12 + first.start.month - 1 - int(first.value[category]["original_age_months"])
    g = last.value[category]
    hi = (dt.MAXYEAR * 12 + 11) - int(g["original_age_months"]) - int(g["cap_months"])
    if last.until is not None:
        hi = min(hi, last.until.year * 12 + last.until.month - 1 - int(g["original_age_months"]))
    return dt.date(lo // 12, lo % 12 + 1, 1), dt.date(hi // 12, hi % 12 + 1, 1) - dt.timedelta(days=1)


def statutory_retirement(rules, birth_year, birth_month, birth_day, category: str,
                         region: str = NATIONAL) -> RetirementResult:
    """Retirement date, age and minimum contribution months for people of one category."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}")
    entries = _entries(rules, "retirement.schedule", region)
    bm = _month_index(birth_year, birth_month)
    day = np.asarray(birth_day, dtype=np.int64)
    delay = np.full(bm.shape, -1, dtype=np.int64)
    age = np.zeros(bm.shape, dtype=np.int64)
    for e in entries:  # a handful of law versions, never a loop over people
        g = e.value[category]
        orig_age = int(g["original_age_months"])
        start_idx = e.start.year * 12 + e.start.month - 1
        end_idx = (e.until.year * 12 + e.until.month - 1) if e.until else None
        orig_retire = bm + orig_age
        in_force = orig_retire >= start_idx
        if end_idx is not None:
            in_force &= orig_retire <= end_idx
        k = bm - _parse_ym(g["start_birth_month"])
        d = np.where(k < 0, 0, np.minimum(k // int(g["step_months"]) + 1, int(g["cap_months"])))
        delay = np.where(in_force, d, delay)
        age = np.where(in_force, orig_age + d, age)
    if np.any(delay < 0):
        raise RuleError("retirement.schedule has no entry in force for some birth dates")
    retire_idx = bm + age
    year, month = retire_idx // 12, retire_idx % 12 + 1
    rday = np.minimum(day, days_in_month(retire_idx))  # 29 Feb, 31st in a 30-day month
    minimum = _min_contribution(rules, year, month, region)
    return RetirementResult(year, month, rday, age, delay, minimum)


def _min_contribution(rules, year, month, region) -> np.ndarray:
    """Minimum months in force on each retirement month (a few dated values, vectorised)."""
    entries = _entries(rules, "retirement.min_contribution_months", region)
    idx = year * 12 + month - 1
    out = np.full(idx.shape, -1, dtype=np.int64)
    for e in entries:
        start = e.start.year * 12 + e.start.month - 1
        out = np.where(idx >= start, int(e.value), out)
    if np.any(out < 0):
        raise RuleError("retirement.min_contribution_months has no value for some retirement dates")
    return out
