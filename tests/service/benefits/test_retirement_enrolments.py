"""Retirement closes the contributing enrolments (#13 point 6): from the pension's start no
employee contribution is assessed for the retiree, while the month before still is."""
from __future__ import annotations

import datetime as dt

from stdnum.cn import uscc as _uscc

from shebao.benefits import determination as det
from shebao.collection import assess
from shebao.collection.queries import contributions_of
from shebao.core.actor import Actor
from shebao.registry import service as registry

from .conftest import ADMIN, CHECKER, MAKER, average_wage_years, fund_account, make_person

COLLECTOR = Actor(id="coll", role="collection_clerk", scope="310000")


def test_pension_start_ends_employee_enrolments_and_assessment(engine):
    body = "91310104MA1FL0099"
    eid = registry.register_employer(engine, ADMIN, uscc=body + _uscc.calc_check_digit(body),
                                     name="退休测试有限公司", region="310104", industry_code="65",
                                     bank_name="BANK", bank_account="6222000000000099",
                                     valid_from=dt.date(2020, 1, 1))
    # born 1965-08-15: retires 2025-10-15 (see test_determination), pension from 2025-11
    pid = make_person(engine, dt.date(1965, 8, 15), seq=41)
    registry.start_employment(engine, ADMIN, pid, eid, dt.date(2020, 1, 1), wage_fen=1_000_000,
                              wage_year=2024)
    det.record_history(engine, MAKER, pid, average_wage_years(range(2005, 2020)))
    fund_account(engine, "310000", pid, 30000000, dt.date(2024, 12, 31))
    # an unemployment benefit in payment stops when the pension starts (2025-11)
    from shebao.benefits import awards
    from shebao.benefits.claims import LineSpec
    with engine.begin() as conn:
        ua = awards.create_award(conn, MAKER, case_id=0, kind="unemployment", person_id=pid,
                                 region="310104", lines=[LineSpec(
                                     "monthly", "unemployment_benefit", "unemployment", 246600,
                                     dt.date(2025, 6, 1), "test", dt.date(2026, 6, 1))])
    cid = det.open_case(engine, MAKER, pid, region="310000")
    det.submit_case(engine, MAKER, cid)
    det.approve_case(engine, CHECKER, cid)
    a = awards.awards_of(engine, pid)[0]
    assert (a["id"], a["status"], str(a["stopped_from"])[:10]) == (ua, "stopped", "2025-11-01")
    assert str(a["lines"][0]["end_month"])[:10] == "2025-11-01"
    for m in (dt.date(2025, 10, 1), dt.date(2025, 11, 1)):
        assess.assess(engine, COLLECTOR, "310104", m)
    months = {r["month"]: r for r in contributions_of(engine, pid)}
    # October (the retirement month, enrolment in force until 10-31) is assessed; November,
    # the pension's first month, is not: no employee share, no individual-account credit
    assert "2025-10" in months and months["2025-10"]["employee"] != "0.00"
    assert "2025-11" not in months
