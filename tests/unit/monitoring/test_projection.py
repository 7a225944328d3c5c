"""The cohort-component projection against a hand-computed three-cohort example, and the
aggregation of person-level data."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.monitoring import projection as pj


def _example():
    c, p, ps = (np.zeros((2, pj.AGES), np.int64) for _ in range(3))
    c[0, 30] = 100                 # men of 30
    c[0, 59] = 10                  # men of 59, born 1967: statutory age 60 years 8 months
    p[0, 70] = 50                  # male pensioners of 70 drawing 4,000.00 a month
    ps[0, 70] = 50 * 400_000
    base = pj.Base("310000", 2026, c, p, ps, avg_base_fen=1_000_000, balance_fen=1_000_000_000)
    a = pj.assumptions("310000", dt.date(2026, 1, 1))
    a.update(years=3, wage_growth="0.10", cpi="0", indexation_alpha="0.5", indexation_beta="0",
             interest="0", collection_rate="1", replacement="0.5", entrant_share="1",
             subsidy_yuan=0)
    q = np.zeros((2, pj.AGES), np.int64)
    q[0, 70] = 100_000             # 10% of the pensioners aged 70 die in the first year
    return pj.project(base, a, q=q)


def test_three_cohorts_by_hand():
    r = _example().rows
    # 2026: 110 contributors × 10,000.00 × 12 × 24% = 3,168,000.00; pooled 16/24 = 2,112,000.00
    #       50 pensioners × 4,000.00 × 12 = 2,400,000.00 ; payable 10,000,000 / 200,000 = 50.00
    assert (r[0]["contributors"], r[0]["pensioners"]) == (110, 50)
    assert (r[0]["income_fen"], r[0]["pooled_income_fen"]) == (316_800_000, 211_200_000)
    assert r[0]["expenditure_fen"] == 240_000_000
    assert str(r[0]["payable_months"]) == "50.00" and str(r[0]["dependency"]) == "2.20"
    # → 2027: 5 pensioners die (10%), the 45 left indexed by 0.5 × 10% = 5%: 4,200.00 each;
    #   the men born 1967 are 60 (720 months < 728): still working; base 11,000.00
    #   balance 10,000,000 + 2,112,000 − 2,400,000 = 9,712,000.00
    assert (r[1]["contributors"], r[1]["pensioners"]) == (110, 45)
    assert r[1]["avg_pension_fen"] == 420_000 and r[1]["avg_base_fen"] == 1_100_000
    assert r[1]["balance_fen"] == 971_200_000
    assert r[1]["income_fen"] == 348_480_000 and r[1]["expenditure_fen"] == 226_800_000
    assert str(r[1]["payable_months"]) == "51.39"      # 9,712,000 × 12 / 2,268,000 = 51.386
    # → 2028: the ten men of 61 (732 ≥ 728 months) retire on 50% of 11,000.00 = 5,500.00;
    #   ten entrants aged 22 replace them; pensions in payment 4,200 × 1.05 = 4,410.00
    #   monthly total 45 × 4,410 + 10 × 5,500 = 253,450.00 → average 4,608.18
    #   balance 9,712,000 + 2,323,200 − 2,268,000 = 9,767,200.00
    assert (r[2]["contributors"], r[2]["pensioners"]) == (110, 55)
    assert r[2]["expenditure_fen"] == 25_345_000 * 12
    assert r[2]["avg_pension_fen"] == 460_818
    assert r[2]["balance_fen"] == 976_720_000
    assert r[2]["income_fen"] == 110 * 1_210_000 * 12 * 24 // 100


def test_micro_aggregation():
    b = pj.base_from_micro("310000", 2026, female=[0, 1, 1, 0], birth_year=[1996, 1990, 1950, 1940],
                           pensioner=[False, False, True, True],
                           pension_fen=[0, 0, 300_000, 500_000],
                           base_fen=[800_000, 1_000_001, 0, 0], balance_fen=5)
    assert b.contributors[0, 30] == 1 and b.contributors[1, 36] == 1
    assert b.pensioners[1, 76] == 1 and b.pension_fen[0, 86] == 500_000
    assert b.avg_base_fen == 900_001        # (800,000 + 1,000,001) / 2 = 900,000.5 → half up
