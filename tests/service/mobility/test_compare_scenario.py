"""Policy comparison and reform scenarios over a real population."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.core.errors import InputError, PermissionDenied
from shebao.devtools.sample_world import uscc_for
from shebao.mobility import compare, scenario
from shebao.registry import service as registry
from shebao.registry.spells import start_employment

from .conftest import ADMIN, BJ_CLERK, SH, SH_MAKER, make_award, make_person

ON = dt.date(2025, 7, 1)


def test_compare_shows_every_parameter_side_by_side_with_references():
    rows = compare.compare(["310000", "110000"], ON, prefix="contribution.base.")
    by = {r["name"]: r for r in rows}
    ceiling = by["contribution.base.ceiling"]
    assert ceiling["differs"] is True
    assert ceiling["regions"]["310000"]["value"] == "37302"
    assert ceiling["regions"]["110000"]["value"] == "35811"
    assert ceiling["regions"]["310000"]["from"] == "310000" and ceiling["regions"]["110000"]["reference"]
    everything = compare.compare(["310000", "110000"], ON)
    same = [r for r in everything if not r["differs"]]
    assert same and all(r["regions"]["310000"]["value"] == r["regions"]["110000"]["value"]
                        for r in same)
    assert not any(r["name"].startswith("service.items.") for r in everything)
    assert "contribution.base.ceiling" in compare.as_text(rows, ["310000", "110000"])
    with pytest.raises(InputError):
        compare.compare(["310000"], ON)


def _population(engine):
    eid = registry.register_employer(engine, ADMIN, uscc=uscc_for("310104", 7), name="情景测试公司",
                                     region=SH, industry_code="65")
    low = make_person(engine, dt.date(1985, 1, 1), seq=31)
    high = make_person(engine, dt.date(1985, 1, 2), seq=32)
    start_employment(engine, ADMIN, low, eid, dt.date(2024, 1, 1), wage_fen=2_000_000,
                     wage_year=2024)
    start_employment(engine, ADMIN, high, eid, dt.date(2024, 1, 1), wage_fen=5_000_000,
                     wage_year=2024)
    make_award(engine, make_person(engine, dt.date(1955, 1, 1), seq=33), 400_000,
               start=dt.date(2020, 1, 1))


def test_a_higher_ceiling_and_indexation(engine):
    _population(engine)
    overlay = scenario.load_overlay(
        'contribution.base.ceiling:\n  "310000": {2025-07-01: 40000}\n'
        'pension.indexation:\n  national: {2025-07-01: 0.03}\n')
    res = scenario.scenario(engine, SH_MAKER, SH, ON, overlay)
    b, s, d = res["base"], res["scenario"], res["difference"]
    assert (b["employees"], b["pensioners"]) == (2, 1)
    assert (b["ceiling_fen"], s["ceiling_fen"]) == (3_730_200, 4_000_000)
    # only the 50,000 earner is above the ceiling: base 37,302 → 40,000, Δ 2,698 a month
    # pooled (employer 16%, none to the account): 269,800 × 16% = 43,168 fen × 12 = 518,016
    assert d["pension_pooled_income"] == 518_016
    # pensions: 4,000 × 1.03 = 4,120 against × 1.02 = 4,080 → 40 × 12 = 480 yuan
    assert d["pensions"] == 48_000
    assert d["pension_fund_balance_change"] == 518_016 - 48_000
    assert s["by_account"]["pension.individual"] - b["by_account"]["pension.individual"] \
        == 21_584 * 12       # employee 8% of 2,698
    svg = scenario.chart_svg(res)
    assert svg.startswith("<svg") and svg.count("<rect") == 8
    assert "pension fund balance change" in scenario.as_text(res)


def test_scenario_refusals(engine):
    with pytest.raises(InputError):
        scenario.scenario(engine, SH_MAKER, SH, ON, {"no.such.parameter": {"national": {ON: 1}}})
    with pytest.raises(PermissionDenied):
        scenario.scenario(engine, BJ_CLERK, SH, ON,
                          {"contribution.base.ceiling": {"310000": {ON: 40000}}})
