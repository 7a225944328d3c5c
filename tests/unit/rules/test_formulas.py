"""The batch formulas and the single-person calculator give the same figures."""
import datetime as dt

import numpy as np

from shebao.core.money import fen_to_yuan_str
from shebao.rules import load_rules
from shebao.rules.calculators import calculate
from shebao.rules.formulas.contribution import assess_employees, clamp_base, rate_num, rate_set
from shebao.rules.formulas.retirement import statutory_retirement
from decimal import Decimal


def test_vectorised_assessment_matches_calculator():
    rules = load_rules()
    rs = rate_set(rules, "310000", dt.date(2025, 8, 1))
    rng = np.random.default_rng(7)
    wages = rng.integers(300_000, 5_000_000, size=200)
    classes = rng.integers(1, 9, size=200)
    base, _ = clamp_base(wages, rs.floor_fen, rs.ceiling_fen)
    inj = rs.injury_rate_num(classes, np.full(200, rate_num(Decimal("1.0"))))
    batch = assess_employees(rs, base, inj)
    for i in range(0, 200, 37):
        single = calculate("contribution", {"region": "310000", "month": "2025-08",
                                            "wage": fen_to_yuan_str(int(wages[i])),
                                            "kind": "employee", "injury_class": int(classes[i])})
        batch_amounts = [fen_to_yuan_str(int(arr[i])) for arr in batch.values()]
        assert batch_amounts == [line["amount"] for line in single["lines"]]


def test_retirement_over_a_population_slice():
    rules = load_rules()
    years = np.array([1964, 1965, 1967, 1976, 1977])
    res = statutory_retirement(rules, years, np.array([12, 1, 5, 12, 1]), np.ones(5, int), "male")
    assert res.delay_months.tolist() == [0, 1, 8, 36, 36]
