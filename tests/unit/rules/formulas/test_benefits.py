"""Benefit formulas: vectorised and single-person paths agree; exact rounding; guards."""
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from shebao.rules.formulas import benefits as F
from shebao.core.errors import InvariantError, RuleError
from shebao.rules.calculators import calculate

def _half_up(fr: Fraction) -> int:
    n, d = fr.numerator, fr.denominator
    q, r = divmod(abs(n), d)
    q += 1 if 2 * r >= d else 0
    return q if n >= 0 else -q

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000_000), st.integers(600_000, 3_000_000),
                          st.integers(0, 600)), min_size=1, max_size=20))
def test_basic_pension_vectorised_matches_exact_rational(rows):
    c, i, m = map(np.array, zip(*rows))
    got = F.basic_pension_fen(c, i, m, Decimal("0.01"))
    assert got.tolist() == [_half_up(Fraction(a) * (1 + Fraction(b, F.INDEX_SCALE)) / 2
                                     * Fraction(n, 12) / 100) for a, b, n in rows]
    # a single-person call on each row gives the same figure
    for k, (a, b, n) in enumerate(rows):
        assert int(F.basic_pension_fen([a], [b], [n], Decimal("0.01"))[0]) == got[k]

def test_account_pension_half_fen_rounds_up_and_down():
    got = F.account_pension_fen([17000085, 17000084, 30000000], [170, 170, 139])
    assert got.tolist() == [100001, 100000, 215827]

def test_divisor_table_clamps_at_both_ends():
    table = {40: 233, 41: 230, 60: 139, 70: 56}
    table.update({a: 100 for a in range(42, 60)})
    table.update({a: 90 for a in range(61, 70)})
    assert F.divisor_for_age([16, 39, 40, 60, 70, 71, 100], table).tolist() == \
        [233, 233, 233, 139, 56, 56, 56]

def test_step_lookup_bands_and_refusal_below_first_key():
    bands = {0: 0, 12: 12, 60: 18, 120: 24}
    assert F.unemployment_months([0, 11, 12, 59, 60, 119, 120, 999], bands).tolist() == \
        [0, 0, 12, 12, 18, 18, 24, 24]
    with pytest.raises(RuleError):
        F.step_lookup([-1], bands)

def test_injury_allowance_topped_up_to_minimum_wage_and_zero_without_allowance():
    rates = {1: Decimal("0.90"), 5: Decimal("0.70"), 6: Decimal("0.60")}
    got = F.injury_allowance_fen([300000, 300000, 1000010, 300000], [1, 6, 1, 7], rates,
                                 [274000, 274000, 274000, 274000])
    # 3000 × 90% = 2700 < 2740 → 2740 ; 3000 × 60% = 1800 → 2740 ; 10000.10 × 90% = 9000.09
    assert got.tolist() == [274000, 274000, 900009, 0]

def test_unemployment_share_of_one_or_more_is_refused():
    with pytest.raises(RuleError):
        F.unemployment_amount_fen([274000], Decimal("1.0"), [151000])
    # raised to the minimum living standard when the share gives less
    assert F.unemployment_amount_fen([200000], Decimal("0.5"), [151000]).tolist() == [151000]

def test_overflow_is_refused_not_wrapped():
    with pytest.raises(InvariantError):
        F.basic_pension_fen([10 ** 12], [3_000_000], [600], Decimal("0.01"))

def test_average_index_month_weighted_with_clamping():
    # 12 months at base 3000 of wage 10000 (0.3 → clamped 0.6), 6 months at 40000/10000 (4 → 3.0),
    # 6 months at 10000/10000 (1.0): (0.6×12 + 3×6 + 1×6)/24 = 31.2/24 = 1.3
    idx, months = F.average_index_scaled([300000, 4000000, 1000000], [1000000] * 3, [12, 6, 6],
                                         Decimal("0.6"), Decimal("3.0"))
    assert (idx, months) == (1_300_000, 24)
    # a repeating fraction is rounded once, half up: (1/3·12 + 1·12... ) → 2/3 → 0.666667
    idx, _ = F.average_index_scaled([200000, 200000], [300000, 300000], [1, 1],
                                    Decimal("0.6"), Decimal("3.0"))
    assert idx == 666_667

def test_indexation_rounds_once():
    # 3000.00 × 1.02 = 3060.00 ; 1234.57 × 1.038 = 1281.483… → 1281.48
    assert F.indexed_amount_fen([300000, 123457], Decimal("0.02")).tolist()[0] == 306000
    assert F.indexed_amount_fen([123457], Decimal("0.038")).tolist() == [128148]

def test_calculator_answer_lists_parameters_with_references():
    got = calculate("pension", {"region": "310000", "retirement_date": "2025-09-01",
                                "age_years": 60, "avg_index": "1.0", "contribution_months": 420,
                                "account_balance": "300000"})
    names = {p["name"] for p in got["parameters"]}
    assert {"pension.calc_base", "pension.divisor", "pension.basic_rate_per_year"} <= names
    assert all(p["reference"] for p in got["parameters"])

def test_float_amounts_are_refused():
    from shebao.core.errors import InputError

    with pytest.raises(InputError) as info:
        calculate("maternity", {"region": "310000", "date": "2025-09-01",
                                "employer_avg_wage": 9000.5})
    assert info.value.field == "employer_avg_wage"
