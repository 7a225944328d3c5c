"""Pension determination on a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from shebao.benefits import determination as det
from shebao.benefits.tables import pension_award, pension_case
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.security import audit

from .conftest import CHECKER, MAKER, average_wage_years, fund_account, make_person


def test_worked_case_computes_records_and_needs_a_second_clerk(engine):
    # born 1965-08-15, man: k = months(1965-01 → 1965-08) = 7 → delay 7//4 + 1 = 2 months
    # → retires 2025-10-15 at 60y2m; divisor at whole age 60 = 139
    pid = make_person(engine, dt.date(1965, 8, 15))
    # 15 years (180 months) of paid history, each at exactly the Shanghai average wage in force
    # in July of the year (index 1.0 every year), plus 12 deemed months
    rows = average_wage_years(range(2010, 2025))            # index 1.0 each year
    rows.append(dict(region="310000", period_start=dt.date(1992, 1, 1), months=12,
                     kind="deemed"))                       # one deemed year before the system
    det.record_history(engine, MAKER, pid, rows)
    fund_account(engine, "310000", pid, 30000000, dt.date(2024, 12, 31))   # 300000.00 by 2024
    cid = det.open_case(engine, MAKER, pid, region="310000")
    case = det.get_case(engine, MAKER, cid)
    assert case["status"] == "computed", case["missing"]
    d = case["decision"]
    assert d["inputs"]["retirement_date"] == "2025-10-15"
    assert d["inputs"]["avg_index"] == "1"
    assert d["inputs"]["contribution_months"] == 180 + 12
    # account: 300000.00 opening; interest 2025 for 9 months at 1.5%:
    #   300000 × 9 × 0.015 / 12 = 3375.00 → balance 303375.00 ; / 139 = 2182.55
    assert d["inputs"]["account_interest_this_year_fen"] == 337500
    assert case["account"] == "2182.55"
    # basic = 12434 × (1 + 1) / 2 × 192 / 12 × 1% = 12434 × 0.16 = 1989.44
    assert case["basic"] == "1989.44"
    # transitional = 12434 × 1 × 12/12 × 1.2% = 149.208 → 149.21
    assert case["transitional"] == "149.21"
    assert case["total"] == "4321.20"
    names = {p["name"] for p in d["parameters"]}
    assert {"pension.calc_base", "pension.divisor", "wage.average_monthly",
            "retirement.schedule", "pension.transitional_coefficient",
            "pension.account_interest_rate"} <= names
    assert all(p["reference"] for p in d["parameters"])
    assert "basic" in d["arithmetic"] and "1989.44" in d["arithmetic"]["basic"]

    # the citizen's estimator (shebao calc pension) gives the same figures from the same inputs
    from shebao.rules.calculators import calculate
    est = calculate("pension", {"region": "310000", "retirement_date": "2025-10-15",
                                "age_years": d["inputs"]["age_years"],
                                "avg_index": d["inputs"]["avg_index"],
                                "contribution_months": d["inputs"]["contribution_months"],
                                "deemed_months": d["inputs"]["deemed_months"],
                                "account_balance": d["inputs"]["account_balance"]})
    assert (est["basic_pension"], est["account_pension"], est["transitional_pension"],
            est["total"]) == (case["basic"], case["account"], case["transitional"],
                              case["total"])

    det.submit_case(engine, MAKER, cid)
    with pytest.raises(PermissionDenied, match="never approve their own"):
        det.approve_case(engine, MAKER, cid)
    award_id = det.approve_case(engine, CHECKER, cid)
    with engine.connect() as c:
        aw = c.execute(select(pension_award).where(pension_award.c.id == award_id)).first()
        assert aw.monthly_fen == 432120 and aw.account_part_fen == 218255
        assert str(aw.start_month)[:10] == "2025-11-01"
        assert audit.verify(c).ok


def test_short_of_minimum_gets_the_legal_options(engine):
    pid = make_person(engine, dt.date(1965, 8, 15), seq=2)
    det.record_history(engine, MAKER, pid, [dict(region="310000", period_start=dt.date(2015, 7, 1),
                                                 months=12, base_total_fen=100000 * 12)])
    cid = det.open_case(engine, MAKER, pid, region="310000")
    case = det.get_case(engine, MAKER, cid)
    assert case["status"] == "ineligible"
    assert [o["option"] for o in case["options"]] == ["continue_contributing",
                                                      "transfer_to_resident_scheme"]
    assert "168 more month" in case["options"][0]["detail"]
    assert case["total"] is None
    with pytest.raises(ConflictError):
        det.submit_case(engine, MAKER, cid)


def test_missing_history_and_account_say_what_is_missing(engine):
    pid = make_person(engine, dt.date(1965, 8, 15), seq=3)
    cid = det.open_case(engine, MAKER, pid, region="310000")
    case = det.get_case(engine, MAKER, cid)
    assert case["status"] == "incomplete" and case["total"] is None
    assert "no paid or deemed period" in case["missing"][0]
    # history before Shanghai's first published average wage, and no individual account
    pid2 = make_person(engine, dt.date(1965, 8, 15), seq=4)
    det.record_history(engine, MAKER, pid2, [
        dict(region="310000", period_start=dt.date(1995 + i, 1, 1), months=12,
             base_total_fen=50000 * 12) for i in range(16)])
    case2 = det.get_case(engine, MAKER, det.open_case(engine, MAKER, pid2, region="310000"))
    assert case2["status"] == "incomplete"
    assert any("1995-01-01" in m and "wage.average_monthly" in m for m in case2["missing"])


def test_woman_needs_category_and_early_retirement_limits(engine):
    pid = make_person(engine, dt.date(1975, 3, 10), male=False, seq=5)
    cid = det.open_case(engine, MAKER, pid, region="310000")
    assert "category of a woman" in det.get_case(engine, MAKER, cid)["missing"][0]
    # female worker born 1975-03: k = 2 → 2//2+1 = 2 months → statutory 2025-05-10 at 50y2m;
    # early retirement may not go below the original age 50 (2025-03-10)
    with pytest.raises(InputError) as info:
        det.open_case(engine, MAKER, make_person(engine, dt.date(1975, 3, 10), male=False,
                                                 seq=6),
                      region="310000", category="female_worker", claim="early",
                      requested_date=dt.date(2025, 2, 1))
    assert info.value.field == "requested_date"


def test_one_live_case_per_person_and_clerk_scope(engine):
    pid = make_person(engine, dt.date(1965, 8, 15), seq=7)
    det.open_case(engine, MAKER, pid, region="310000")
    with pytest.raises(ConflictError):
        det.open_case(engine, MAKER, pid, region="310000")
    from shebao.core.actor import Actor
    outsider = Actor(id="bj", role="benefits_clerk", scope="110000")
    with pytest.raises(PermissionDenied):
        det.open_case(engine, outsider, make_person(engine, dt.date(1965, 8, 15), seq=8),
                      region="310000")


def test_batch_opens_everyone_reaching_age_in_the_month(engine):
    from .conftest import SYSTEM
    m1 = make_person(engine, dt.date(1965, 8, 15), seq=61)     # retires 2025-10-15
    m2 = make_person(engine, dt.date(1965, 9, 15), seq=62)     # k=8 → +3 months → 2025-12-15
    w = make_person(engine, dt.date(1975, 8, 3), male=False, seq=63)  # worker: +4 → 2025-12-03
    other = make_person(engine, dt.date(1965, 9, 15), seq=64, region="110000")
    oct_ = det.open_batch(engine, SYSTEM, "310000", dt.date(2025, 10, 1))
    assert oct_.opened == 1
    dec = det.open_batch(engine, SYSTEM, "310000", dt.date(2025, 12, 1))
    assert dec.opened == 2 and dec.by_status == {"incomplete": 2}
    with engine.connect() as c:
        rows = {r.person_id: r for r in c.execute(select(pension_case))}
    assert set(rows) == {m1, m2, w} and other not in rows
    assert rows[m2].category == "male" and rows[w].category is None
    # no history recorded for the man; the woman's category is missing first
    assert "no paid or deemed period" in json.loads(rows[m2].missing)[0]
    assert "category of a woman" in json.loads(rows[w].missing)[0]
    # the clerk gives the category: the case recomputes (now only the history is missing)
    assert det.set_category(engine, MAKER, rows[w].id, "female_worker") == "incomplete"
    case = det.get_case(engine, MAKER, rows[w].id)
    assert case["decision"]["inputs"]["statutory_retirement_date"] == "2025-12-03"
    # a second batch for the same month opens nobody twice
    assert det.open_batch(engine, SYSTEM, "310000", dt.date(2025, 12, 1)).opened == 0


def test_deferred_retirement_within_three_years(engine):
    pid = make_person(engine, dt.date(1965, 8, 15), seq=65)
    with pytest.raises(InputError) as info:
        det.open_case(engine, MAKER, pid, region="310000", claim="deferred",
                      requested_date=dt.date(2028, 11, 15))     # statutory 2025-10-15 + 37 months
    assert info.value.field == "requested_date"
    cid = det.open_case(engine, MAKER, pid, region="310000", claim="deferred",
                        requested_date=dt.date(2027, 10, 15))
    case = det.get_case(engine, MAKER, cid)
    assert case["retirement_date"] is not None
    assert str(case["retirement_date"])[:10] == "2027-10-15"


def test_early_retirement_never_below_the_original_age(engine):
    # man born 1965-08-15: statutory 2025-10-15 (60y2m); 3 years early would be 2022-10-15,
    # but never below the original age 60 → earliest 2025-08-15
    pid = make_person(engine, dt.date(1965, 8, 15), seq=66)
    with pytest.raises(InputError) as info:
        det.open_case(engine, MAKER, pid, region="310000", claim="early",
                      requested_date=dt.date(2025, 8, 14))
    assert info.value.field == "requested_date" and "2025-08-15" in str(info.value)
    cid = det.open_case(engine, MAKER, pid, region="310000", claim="early",
                        requested_date=dt.date(2025, 8, 15))
    case = det.get_case(engine, MAKER, cid)
    assert str(case["retirement_date"])[:10] == "2025-08-15"
    assert case["decision"]["inputs"]["age_at_retirement_months"] == 720
