"""Fund early warning from the ledger and the registry, and the projection read from them,
on both databases."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.ledger.chart import open_chart
from shebao.ledger.model import EntryRequest, Line
from shebao.ledger.posting import post_entry
from shebao.monitoring import chart, service, warning
from tests.support.supervision_seed import Seeder

INSP = Actor("insp", "inspector", "310000")
SYS = Actor("system", "system")
D = dt.date


def _fund(engine):
    """310104 pension: 1,200,000.00 collected into the pool, 1,000,000.00 assessed of which
    900,000.00 paid, a fiscal subsidy of 100,000.00, 240,000.00 paid out over the year;
    3 contributors, 2 pensioners."""
    open_chart(engine, SYS, "310104", ("pension",))
    c = "310104.pension."
    post_entry(engine, SYS, "t-assess", EntryRequest(D(2026, 1, 31), (
        Line.debit(c + "receivable_employer", 100_000_000), Line.credit(c + "pooled_fund", 100_000_000))))
    post_entry(engine, SYS, "t-paid", EntryRequest(D(2026, 2, 10), (
        Line.debit(c + "fund_bank", 90_000_000), Line.credit(c + "receivable_employer", 90_000_000))))
    post_entry(engine, SYS, "t-other", EntryRequest(D(2026, 2, 10), (
        Line.debit(c + "fund_bank", 20_000_000), Line.credit(c + "pooled_fund", 20_000_000))))
    post_entry(engine, SYS, "t-subsidy", EntryRequest(D(2026, 4, 30), (
        Line.debit(c + "fund_bank", 10_000_000), Line.credit(c + "fiscal_subsidy", 10_000_000))))
    post_entry(engine, SYS, "t-pay", EntryRequest(D(2026, 3, 31), (
        Line.debit(c + "pooled_fund", 24_000_000), Line.credit(c + "fund_bank", 24_000_000))))
    with engine.begin() as conn:
        s = Seeder(conn)
        e = s.employer()
        for birth, sex in ((D(1990, 3, 1), "M"), (D(1985, 7, 1), "F"), (D(1970, 1, 1), "M")):
            p = s.person(birth=birth, sex=sex)
            s.enrol(p, "pension", kind="employee", employer_id=e)
            s.declare(p, e, 1_000_000)
        s.award(s.person(birth=D(1955, 1, 1)), monthly_fen=400_000)
        s.award(s.person(birth=D(1958, 1, 1), sex="F"), monthly_fen=300_000)


def test_indicators_levels_and_rerun(engine):
    _fund(engine)
    rows = warning.compute(engine, INSP, "310104", D(2026, 6, 30), funds=("pension",))
    got = {r["indicator"]: (r["value"], r["level"]) for r in rows}
    # balance 1,200,000 + 100,000 − 240,000 = 1,060,000 ; payable = × 12 / 240,000 = 53.00 → ok
    assert got["payable_months"] == ("53.00", "ok")
    # dependency 3 / 2 = 1.50: not below 1.5 (alert) but below 2.5 → watch
    assert got["dependency_ratio"] == ("1.50", "watch")
    # collected 900,000 of 1,000,000 = 0.9000 → watch (< 0.95, not < 0.90)
    assert got["collection_rate"] == ("0.9000", "watch")
    # outstanding 100,000 / 1,000,000 = 0.1000: not above 0.10 → watch (> 0.05)
    assert got["arrears_rate"] == ("0.1000", "watch")
    # surplus excluding the subsidy 1,200,000 − 240,000 = 960,000.00 → ok (with it 1,060,000)
    assert got["surplus_excl_subsidy"] == ("960000", "ok")
    assert rows[0]["figures"]["surplus_fen"] == 106_000_000
    warning.compute(engine, INSP, "310104", D(2026, 6, 30), funds=("pension",))
    assert len(warning.latest(engine, INSP)) == 5          # the rerun replaced its rows
    assert warning.latest(engine, Actor("d", "inspector", "310101")) == []
    with pytest.raises(PermissionDenied):
        warning.compute(engine, Actor("c", "collection_clerk", "310000"), "310104", D(2026, 6, 30))
    assert chart.warnings_png(rows)[:4] == b"\x89PNG"


def test_projection_from_the_registry(engine):
    _fund(engine)
    ps = service.project_region(engine, INSP, "310104", D(2026, 6, 30), ["baseline", "low_wage_growth"])
    first = ps[0].rows[0]
    assert (first["contributors"], first["pensioners"]) == (3, 2)
    assert first["avg_base_fen"] == 1_000_000 and first["balance_fen"] == 106_000_000
    assert first["expenditure_fen"] == 700_000 * 12
    assert len(ps[0].rows) == 30
    # lower wage growth, lower income by the last year
    assert ps[1].rows[-1]["income_fen"] < ps[0].rows[-1]["income_fen"]
    assert chart.projection_png(ps)[:4] == b"\x89PNG"
