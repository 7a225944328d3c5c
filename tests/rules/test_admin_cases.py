"""Runs the administration law cases in tests/rules/admin/cases.yaml: catalogue deadlines on
the working-day calendar, staffing from workload, the budget benchmark — through the same
functions the services use (``cases.catalogue``, ``core.workdays``, ``org.model``)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shebao.cases import catalogue
from shebao.core.workdays import add_limit
from shebao.org import model
from shebao.rules import load_rules

CASES = yaml.safe_load((Path(__file__).parent / "admin" / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_admin_case(case):
    rules = load_rules()
    region = case["region"]
    if case["kind"] == "deadline":
        it = catalogue.item(case["item"], region, case["opened_on"], rules)
        cal = catalogue.calendar(region, case["opened_on"], rules)
        assert add_limit(case["opened_on"], it.limit, it.limit_unit, cal) == case["due_on"]
    elif case["kind"] == "staffing":
        on = case["date"]
        loads = [model.Workload("O", w["item"], w["cases"],
                                catalogue.item(w["item"], region, on, rules).standard_minutes)
                 for w in case["workload"]]
        per_day = rules.value("org.staffing.productive_minutes_per_day", region, on)
        [o] = model.staffing(loads, {}, per_day, case["working_days"])
        assert model.show(o.required) == case["required"]
        assert o.required_posts == case["required_posts"]
    elif case["kind"] == "budget":
        ratio = rules.value("org.admin_budget_ratio", region, case["date"])
        assert model.budget_benchmark(case["collection_fen"], ratio) == case["benchmark_fen"]
    else:
        raise AssertionError(f"unknown kind {case['kind']}")
