"""Appeals (review by a different officer, four eyes, the change re-computing the award with
back pay or recovery) and decision notices in Chinese and English."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shebao.benefits import appeals, casework, payroll
from shebao.benefits.notices import decision_notice
from shebao.benefits.tables import benefit_award_line, benefit_recovery
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, PermissionDenied
from shebao.notices import outbox
from shebao.rules import load_rules

from .conftest import CHECKER, MAKER, make_person
from .test_casework import AUG, R, _claim, _decide, _fund, _unemployed

REVIEWER = Actor(id="clerk-c", role="benefits_clerk", scope="310000")
REVIEW_CHECKER = Actor(id="clerk-d", role="benefits_clerk", scope="310000")


def _maternity(engine, wage_fen):
    pid = make_person(engine, dt.date(1993, 2, 1), male=False, seq=51, region=R)
    cid = casework.apply(engine, MAKER, kind="maternity", person_id=pid, region=R,
                         facts={"birth_date": "2025-08-03", "employer_avg_wage_fen": wage_fen},
                         opened_on=dt.date(2025, 8, 11))
    _decide(engine, cid)
    return pid, cid


def test_refusal_changed_on_review_creates_the_award_with_back_pay(engine):
    _fund(engine)
    pid = _unemployed(engine, seq=52)
    cid = _claim(engine, pid, involuntary=False)
    comp, out = _decide(engine, cid)
    assert out["outcome"] == "refused"
    payroll.run(engine, MAKER, R, AUG)                    # August is covered by a run
    citizen = Actor(id="c", role="citizen", person_id=pid)
    ap = appeals.file_appeal(engine, citizen, cid, "my employer dismissed me")
    assert case_queries.get(engine, ap).parent_id == cid
    with pytest.raises(PermissionDenied, match="different officer"):
        appeals.review(engine, MAKER, ap, "changed", "dismissal proven",
                       facts={"involuntary": True})
    res = appeals.review(engine, REVIEWER, ap, "changed", "dismissal proven",
                         facts={"involuntary": True})
    assert res["computation"]["outcome"] == "granted"
    with pytest.raises(PermissionDenied):
        appeals.approve_review(engine, REVIEWER, ap)     # four eyes
    done = appeals.approve_review(engine, REVIEW_CHECKER, ap)
    # August (covered by a run, not paid) is back pay 2466.00; the benefit runs from September
    assert (done["back_pay"], done["recovery"]) == ("2466.00", "0.00")
    with engine.connect() as conn:
        lines = conn.execute(select(benefit_award_line.c.code, benefit_award_line.c.start_month,
                                    benefit_award_line.c.amount_fen).where(
            benefit_award_line.c.award_id == done["award_id"])
            .order_by(benefit_award_line.c.id)).all()
    assert [(c, str(m)[:10], a) for c, m, a in lines] == [
        ("unemployment_benefit", "2025-09-01", 246600), ("medical_premium", "2025-09-01", 24660),
        ("review_back_pay", "2025-09-01", 246600)]


def test_change_after_payment_gives_back_pay_or_recovery(engine):
    _fund(engine)
    pid, cid = _maternity(engine, 900000)           # 9000 ÷ 30 × 98 = 29400.00
    assert payroll.run(engine, MAKER, R, AUG).total_fen == 2940000
    ap = appeals.file_appeal(engine, MAKER, cid, "wrong average wage")
    appeals.review(engine, REVIEWER, ap, "changed", "employer's 2024 average was 12000",
                   facts={"employer_avg_wage_fen": 1200000})
    done = appeals.approve_review(engine, REVIEW_CHECKER, ap)
    # 12000 ÷ 30 × 98 = 39200.00; paid 29400.00 → back pay 9800.00
    assert done["back_pay"] == "9800.00"
    ap2 = appeals.file_appeal(engine, MAKER, cid, "employer's figure was wrong again")
    appeals.review(engine, REVIEWER, ap2, "changed", "average 6000",
                   facts={"employer_avg_wage_fen": 600000})
    done2 = appeals.approve_review(engine, REVIEW_CHECKER, ap2)
    # 6000 ÷ 30 × 98 = 19600.00; paid 29400.00 (the 9800.00 back pay is not paid yet and
    # was replaced) → 9800.00 to recover
    assert (done2["back_pay"], done2["recovery"]) == ("0.00", "9800.00")
    with engine.connect() as conn:
        rec = conn.execute(select(benefit_recovery.c.amount_fen, benefit_recovery.c.method)).all()
    assert list(map(tuple, rec)) == [(980000, "instalments")]


def test_upheld_and_late_appeal(engine):
    pid, cid = _maternity(engine, 900000)
    with pytest.raises(ConflictError, match="no longer be appealed"):
        appeals.file_appeal(engine, MAKER, cid, "late", filed_on=case_queries.get(
            engine, cid).decided_on + dt.timedelta(days=61))
    ap = appeals.file_appeal(engine, MAKER, cid, "too little")
    appeals.review(engine, REVIEWER, ap, "upheld", "the employer's average is right")
    assert appeals.approve_review(engine, REVIEW_CHECKER, ap)["outcome"] == "upheld"
    c = case_queries.get(engine, ap)
    en = decision_notice(c, None, "en", load_rules())
    assert "the decision is upheld" in "\n".join(en.lines)


def test_decision_notice_names_amounts_basis_and_rights(engine):
    pid, cid = _maternity(engine, 900000)
    c = case_queries.get(engine, cid)
    cl = casework.claim(engine, cid)
    zh = decision_notice(c, cl, "zh", load_rules())
    text = "\n".join(zh.lines)
    assert "生育津贴" in zh.title and "29400.00 元 一次性" in text
    assert "女职工劳动保护特别规定" in text
    assert "60日内依法申请行政复议" in text and "6个月内" in text
    en = "\n".join(decision_notice(c, cl, "en", load_rules()).lines)
    assert "within 60 days" in en and "within 6 months" in en
    # the applicant is told through the outbox (the case model's decision notice)
    assert any(n.template == "case.decided" and n.data["case_id"] == cid
               for n in outbox.for_recipient(engine, "person", pid))
