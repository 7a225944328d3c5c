"""Thirty-year cohort-component projection of a regional employee pension fund (rules-2 §8).

The state of a year is a few (sex × single age) integer arrays — contributors, pensioners and
the monthly pension they draw (fen) — plus the average contribution base and the fund balance.
One year later:

    survivors   = state − round(state × q(sex, age))       (deaths; q from the Gompertz law)
    age + 1     (the last age absorbs)
    retirement  contributors at or above the statutory age of their birth cohort (the
                retirement.schedule parameter, 2024 reform included) become pensioners with a
                new pension of replacement × average base
    indexation  pensions in payment × (1 + alpha × wage growth + beta × CPI)
    entrants    entrant_share × the year's leavers join at entry_age (the sexes as now)
    base        average base × (1 + wage growth)

and each year: income = contributors × base × 12 × (employer + employee rate) × collection rate
(the employee 8% is the individual accounts' liability, not the pool's), expenditure = Σ monthly
pensions × 12, balance(t+1) = balance × (1 + interest) + pooled income − expenditure + subsidy;
payable months and the dependency ratio are reported every year. Everything is integer
arithmetic (persons, fen; rates as exact ratios, rounded half up once per figure) except the
mortality table, which is a model input turned into integer parts per million once.

Inputs: :func:`base_from_micro` aggregates person-level arrays (one ``bincount`` per array, so
a million insured cost milliseconds); :func:`base_from_registry` reads them from the registry,
benefits and ledger through their derived tables and queries. Assumptions and scenarios are the
parameters ``monitoring.projection.assumptions`` and ``.scenarios`` (overlays).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from shebao.core.errors import InputError
from shebao.core.money import rate_ratio, round_half_up, to_fen
from shebao.rules.formulas import fund
from shebao.rules.formulas.retirement import birth_range, statutory_retirement
from shebao.rules.loader import load_rules

AGES = 111                     # 0 … 110 (the last age absorbs)
PPM = 1_000_000
SEXES = ("M", "F")
OLDEST_SCHEDULED = 1965        # see retirement_ages


@dataclass
class Base:
    """A fund at the start of ``year``: (2, AGES) arrays (row 0 men, row 1 women)."""
    region: str
    year: int
    contributors: np.ndarray
    pensioners: np.ndarray
    pension_fen: np.ndarray          # Σ monthly pensions of each cohort
    avg_base_fen: int
    balance_fen: int


@dataclass
class Projection:
    region: str
    scenario: str
    assumptions: dict
    rows: list[dict] = field(default_factory=list)

    def column(self, key: str) -> list:
        return [r[key] for r in self.rows]


def _zeros():
    return np.zeros((2, AGES), np.int64)


def base_from_micro(region: str, year: int, *, female, birth_year, pensioner, pension_fen,
                    base_fen, balance_fen: int) -> Base:
    """Aggregate person-level arrays (one element per insured person) into cohorts."""
    female = np.asarray(female, np.int64)
    age = np.clip(year - np.asarray(birth_year, np.int64), 0, AGES - 1)
    pensioner = np.asarray(pensioner, bool)
    idx = female * AGES + age
    n = 2 * AGES
    contributors = np.bincount(idx[~pensioner], minlength=n).reshape(2, AGES).astype(np.int64)
    pensioners = np.bincount(idx[pensioner], minlength=n).reshape(2, AGES).astype(np.int64)
    pension = np.zeros(n, np.int64)
    np.add.at(pension, idx[pensioner], np.asarray(pension_fen, np.int64)[pensioner])
    base = np.asarray(base_fen, np.int64)[~pensioner]
    avg = int(round_half_up(int(base.sum()), max(len(base), 1)))
    return Base(region, year, contributors, pensioners, pension.reshape(2, AGES), avg,
                int(balance_fen))


def assumptions(region: str, on: dt.date, scenario: str = "baseline", rules=None) -> dict:
    """The assumptions in force with the scenario's overlay applied."""
    rules = rules or load_rules()
    a = dict(rules.value("monitoring.projection.assumptions", region, on))
    scenarios = rules.value("monitoring.projection.scenarios", region, on)
    if scenario not in scenarios:
        raise InputError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(scenarios))}",
                         field="scenario")
    a.update(scenarios[scenario] or {})
    return a


def mortality_ppm(a: dict) -> np.ndarray:
    """q(sex, age) in integer parts per million (Gompertz: a × e^(b × age), at most 1)."""
    ages = np.arange(AGES, dtype=np.float64)
    out = np.empty((2, AGES), np.int64)
    for s, key in enumerate(("male", "female")):
        q = float(a[f"gompertz_a_{key}"]) * np.exp(float(a[f"gompertz_b_{key}"]) * ages)
        out[s] = np.minimum(np.rint(q * PPM), PPM).astype(np.int64)
    out[:, -1] = PPM            # nobody outlives the table
    return out


def retirement_ages(rules, region: str, year: int, category_female: str) -> np.ndarray:
    """(2, AGES) bool: the cohort aged ``age`` in ``year`` has reached its statutory age
    (born mid-year; the 2024 reform's schedule by birth month). Cohorts born before
    ``OLDEST_SCHEDULED`` take that cohort's age: they are past any statutory age by the years
    a projection starts in, and the minimum-years table has no value before 2011."""
    out = np.zeros((2, AGES), bool)
    ages = np.arange(AGES, dtype=np.int64)
    for s, cat in enumerate(("male", category_female)):
        lo, hi = birth_range(rules, cat, region)
        born = np.clip(year - ages, max(lo.year + 1, OLDEST_SCHEDULED), hi.year - 1)
        r = statutory_retirement(rules, born, np.full(AGES, 6), np.full(AGES, 15), cat, region)
        out[s] = ages * 12 >= r.age_months
    return out


def _age(arr: np.ndarray) -> None:
    """Everyone one year older, in place; the last age absorbs the one before it."""
    arr[:, -1] += arr[:, -2]
    arr[:, 1:-1] = arr[:, :-2].copy()
    arr[:, 0] = 0


def _times(arr: np.ndarray, rate) -> np.ndarray:
    n, d = rate_ratio(Decimal(str(rate)))
    return round_half_up(arr * n, d)


def project(base: Base, a: dict, *, scenario: str = "baseline", rules=None,
            q: np.ndarray | None = None) -> Projection:
    """Run the projection for ``a["years"]`` years; ``q`` overrides the mortality table
    ((2, AGES) parts per million)."""
    rules = rules or load_rules()
    q = mortality_ppm(a) if q is None else np.asarray(q, np.int64)
    years = int(a["years"])
    er, ee = Decimal(str(a["employer_rate"])), Decimal(str(a["employee_rate"]))
    wage = Decimal(str(a["wage_growth"]))
    index = Decimal(str(a["indexation_alpha"])) * wage + \
        Decimal(str(a["indexation_beta"])) * Decimal(str(a["cpi"]))
    subsidy = to_fen(Decimal(str(a.get("subsidy_yuan", 0))))
    entry = int(a["entry_age"])
    c, p, ps = base.contributors.copy(), base.pensioners.copy(), base.pension_fen.copy()
    avg_base, balance = int(base.avg_base_fen), int(base.balance_fen)
    out = Projection(base.region, scenario, {k: str(v) for k, v in a.items()})
    for t in range(base.year, base.year + years):
        nc, npn = int(c.sum()), int(p.sum())
        income = fund.times_rate(nc * avg_base * 12, er + ee, a["collection_rate"])
        en, ed = rate_ratio(er)
        tn, td = rate_ratio(er + ee)
        pooled = int(round_half_up(income * en * td, ed * tn))
        expenditure = int(ps.sum()) * 12
        out.rows.append({
            "year": t, "contributors": nc, "pensioners": npn, "avg_base_fen": avg_base,
            "avg_pension_fen": int(round_half_up(int(ps.sum()), npn)) if npn else 0,
            "income_fen": income, "pooled_income_fen": pooled,
            "account_income_fen": income - pooled, "expenditure_fen": expenditure,
            "balance_fen": balance,
            "payable_months": fund.payable_months(balance, expenditure),
            "dependency": fund.ratio(nc, npn)})
        balance = balance + fund.times_rate(balance, a["interest"]) + pooled - expenditure + subsidy
        # deaths
        dc, dp = round_half_up(c * q, PPM), round_half_up(p * q, PPM)
        dps = round_half_up(ps * q, PPM)
        c, p, ps = c - dc, p - dp, ps - dps
        # ageing by one year (the last age absorbs)
        for arr in (c, p, ps):
            _age(arr)
        # indexation of pensions in payment, then the year's new pensioners
        ps = _times(ps, Decimal(1) + index)
        retire = retirement_ages(rules, base.region, t + 1, str(a["female_category"])) & (c > 0)
        new = np.where(retire, c, 0)
        new_pension = fund.times_rate(avg_base, a["replacement"])
        p, ps, c = p + new, ps + new * new_pension, c - new
        # entrants replace a share of the leavers, at the entry age, sexes as now
        leavers = int(dc.sum()) + int(new.sum())
        entrants = fund.times_rate(leavers, a["entrant_share"])
        men = c[0].sum()
        share_m = int(round_half_up(entrants * int(men), max(int(c.sum()), 1)))
        c[0, entry] += share_m
        c[1, entry] += entrants - share_m
        avg_base = fund.times_rate(avg_base, Decimal(1) + wage)
    return out
