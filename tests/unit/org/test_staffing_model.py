"""Staffing from workload: case counts × standard minutes → required posts per outlet vs
actual; the code scheme below the counties; outsourcing targets."""
from fractions import Fraction

import pytest

from shebao.core.errors import InputError
from shebao.org import model


def test_required_posts_from_case_counts_and_standard_minutes():
    loads = [model.Workload("A", "registry.person", 300, 15),     # 4,500 min
             model.Workload("A", "benefits.pension", 40, 90),     # 3,600 min
             model.Workload("B", "collection.base", 10, 20)]      #   200 min
    out = {o.outlet: o for o in model.staffing(loads, {"A": 150, "C": 100}, 360, 21)}
    # capacity per post: 360 min × 21 working days = 7,560 min
    a = out["A"]
    assert a.workload_minutes == 8100 and a.capacity_minutes_per_post == 7560
    # required = 8,100 / 7,560 = 15/14 ≈ 1.07 posts → 2 whole posts; actual 1.5 → gap −0.43
    assert a.required == Fraction(15, 14) and a.required_posts == 2
    assert a.actual == Fraction(3, 2)
    assert model.show(a.gap) == "-0.43"
    # B: 200 / 7,560 = 0.03 posts, nobody assigned → short by 0.03
    assert model.show(out["B"].required) == "0.03" and out["B"].actual == 0
    # C: staff but no cases
    assert out["C"].required == 0 and out["C"].actual == 1
    assert out["A"].as_json()["required"] == "1.07"


def test_no_capacity_is_refused():
    with pytest.raises(InputError):
        model.staffing([], {}, 360, 0)


def test_unit_codes_below_the_county():
    assert model.unit_level("310104001") == "town"
    assert model.unit_level("310104001002") == "village"
    assert model.unit_level("310104001002G3") == "grid"
    assert model.parent_of("310104001002G3") == "310104001002"
    assert model.parent_of("310104001002") == "310104001"
    assert model.parent_of("310104001") == "310104"
    assert model.region_level("310000") == "province"
    assert model.region_level("310104") == "county"
    with pytest.raises(InputError):
        model.unit_level("3101")


def test_budget_benchmark_is_two_percent_half_up():
    from decimal import Decimal
    # 2% of 123,456,789 fen = 2,469,135.78 → 2,469,136 fen
    assert model.budget_benchmark(123456789, Decimal("0.02")) == 2469136


def test_outsourcing_breaches():
    p = model.Performance(decided=20, on_time=17, mean_rating=Fraction(43, 10), price_fen=3500)
    # 17/20 = 85% < 90%; 4.30 < 4.50; cost 20 × 35.00 = 700.00
    assert p.cost_fen == 70000
    assert model.breaches(p, 90, 450) == ["on-time 85.0% < target 90%",
                                         "mean rating 4.30 < target 4.50"]
    assert model.breaches(p, 85, 430) == []
    assert model.breaches(model.Performance(0, 0, None, 1), 90, 450) == []
