"""Benefit casework on real databases: apply → compute (checked against the records) →
four eyes → award → payroll (pensions and award lines in one run and one pain.001); stop
events, carried months, suspension with back pay, death with recovery; survivors."""
from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from sqlalchemy import select

from shebao.benefits import awards, casework, payouts, payroll, recovery
from shebao.benefits.tables import (benefit_award_line, benefit_recovery, benefit_transfer,
                                    payment)
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, PermissionDenied
from shebao.formats import pain001
from shebao.formats.iso20022 import validate
from shebao.ledger import service as ledger
from shebao.registry import service as registry
from shebao.benefits.determination import record_history

from .conftest import CHECKER, MAKER, fund_pool, make_award, make_person

R = "310104"
DEBTOR = pain001.Debtor("上海市社会保险基金 支出户", "31050161393600000001", "中国建设银行上海分行")
AUG, SEP, OCT = dt.date(2025, 8, 1), dt.date(2025, 9, 1), dt.date(2025, 10, 1)


def _history(engine, pid, years: int, start=dt.date(2017, 1, 1)):
    rows = []
    for y in range(years):
        rows.append({"region": R, "period_start": dt.date(start.year + y, 1, 1), "months": 12,
                     "base_total_fen": 12 * 800000, "kind": "paid"})
    record_history(engine, MAKER, pid, rows, source="legacy import")


def _unemployed(engine, seq=21, years=7):
    pid = make_person(engine, dt.date(1985, 5, 1), seq=seq, region=R)
    _history(engine, pid, years)
    return pid


def _claim(engine, pid, **facts):
    citizen = Actor(id=f"cit{pid}", role="citizen", person_id=pid)
    f = {"registered_on": "2025-08-10", "involuntary": True, "seeking_work": True} | facts
    return casework.apply(engine, citizen, kind="unemployment", person_id=pid, region=R,
                          facts=f, channel="online", opened_on=dt.date(2025, 8, 11))


def _decide(engine, cid):
    comp = casework.compute(engine, MAKER, cid)
    casework.submit(engine, MAKER, cid)
    with pytest.raises(PermissionDenied):
        casework.approve(engine, MAKER, cid)            # four eyes
    return comp, casework.approve(engine, CHECKER, cid)


def _fund(engine):
    for s in ("unemployment", "injury", "maternity", "pension"):
        ledger.open_chart(engine, MAKER.__class__(id="system", role="system"), R, schemes=(s,))
    from shebao.ledger.model import EntryRequest, Line, account_code
    sysa = Actor(id="system", role="system")
    for s in ("unemployment", "injury", "maternity", "pension"):
        ledger.post_entry(engine, sysa, f"seed:{s}", EntryRequest(dt.date(2025, 1, 1), (
            Line.debit(account_code(R, s, "fund_bank"), 10 ** 10),
            Line.credit(account_code(R, s, "pooled_fund"), 10 ** 10)), source="test"))


def test_unemployment_case_to_first_payment_in_the_pension_run(engine, tmp_path):
    _fund(engine)
    pid = _unemployed(engine)
    pensioner = make_person(engine, dt.date(1960, 3, 1), seq=22, region=R)
    make_award(engine, pensioner, 432100, 0, region=R)
    cid = _claim(engine, pid)
    c = case_queries.get(engine, cid)
    assert (c.item, c.status, c.channel) == ("benefit.unemployment", "received", "online")
    # 10 working days from Monday 2025-08-11 → 2025-08-25
    assert c.due_on == dt.date(2025, 8, 25)
    comp, out = _decide(engine, cid)
    # 84 paid months recorded → 18 months; 2740 × 0.9 = 2466.00; premium 246.60
    assert comp["facts"]["contribution_months"] == 84 and comp["facts"]["months"] == 18
    assert [(ln["code"], ln["amount"]) for ln in comp["lines"]] == [
        ("unemployment_benefit", "2466.00"), ("medical_premium", "246.60")]
    assert out["outcome"] == "granted" and out["award_id"]
    assert case_queries.get(engine, cid).status == "decided"

    run = payroll.run(engine, MAKER, R, AUG)
    assert run.n_payments == 2 and run.total_fen == 432100 + 246600
    with engine.connect() as conn:
        rows = conn.execute(select(payment.c.person_id, payment.c.scheme, payment.c.status,
                                   payment.c.amount_fen).order_by(payment.c.id)).all()
        tr = conn.execute(select(benefit_transfer.c.person_id, benefit_transfer.c.target_scheme,
                                 benefit_transfer.c.amount_fen)).all()
    assert sorted(map(tuple, rows)) == sorted([
        (pensioner, "pension", "computed", 432100),
        (pid, "unemployment", "computed", 246600)])
    assert list(map(tuple, tr)) == [(pid, "medical", 24660)]
    # the unemployment fund owes the benefit (payable, credit-normal); medical got the premium
    assert ledger.balance(engine, f"{R}.unemployment.benefits_payable") == 246600
    assert ledger.balance(engine, f"{R}.medical.pooled_fund") == 24660
    assert ledger.balance(engine, f"{R}.unemployment.transfer_clearing") == \
        -ledger.balance(engine, f"{R}.medical.transfer_clearing")
    payroll.submit(engine, MAKER, run.run_id)
    payroll.approve(engine, CHECKER, run.run_id)
    rel = payouts.release(engine, MAKER, run.run_id, tmp_path, DEBTOR, dt.date(2025, 8, 5))
    xml = [f for f in rel.files if f["format"] == "xml"]
    assert len(xml) == 1                                       # one pain.001 for both
    data = open(xml[0]["path"], "rb").read()
    validate(data, "pain.001.001.09")
    doc = etree.fromstring(data)
    ns = {"p": pain001.NS}
    assert doc.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "6787.00"
    assert ledger.balance(engine, f"{R}.unemployment.benefits_payable") == 0
    # the next month pays the benefit again, never twice the same month
    again = payroll.run(engine, MAKER, R, AUG)
    assert again.run_id == run.run_id
    assert payroll.run(engine, MAKER, R, SEP).n_payments == 2


def test_refused_and_sent_back(engine):
    pid = _unemployed(engine, seq=23, years=0)
    cid = _claim(engine, pid)
    comp = casework.compute(engine, MAKER, cid)
    assert comp["outcome"] == "refused" and "fewer than the 12" in comp["reasons"][0]
    casework.submit(engine, MAKER, cid)
    casework.send_back(engine, CHECKER, cid, "check the legacy record")
    assert case_queries.get(engine, cid).status == "in_progress"
    casework.submit(engine, MAKER, cid)
    out = casework.approve(engine, CHECKER, cid)
    assert out == {"case_id": cid, "outcome": "refused", "award_id": None}


def test_stop_event_and_months_carried_into_the_next_claim(engine):
    _fund(engine)
    pid = _unemployed(engine, seq=24, years=7)
    cid = _claim(engine, pid)
    _, out = _decide(engine, cid)
    with pytest.raises(ConflictError, match="still in payment"):
        casework.compute(engine, MAKER, _claim(engine, pid))
    # re-employed on 2026-01-20: paid Aug..Jan (6 months), stopped from February 2026
    res = casework.report_stop_event(engine, MAKER, pid, "reemployment", dt.date(2026, 1, 20))
    assert res["stopped_from"] == "2026-02-01"
    with engine.connect() as conn:
        ln = conn.execute(select(benefit_award_line).where(
            benefit_award_line.c.award_id == out["award_id"],
            benefit_award_line.c.code == "unemployment_benefit")).first()
    assert ln.end_month == dt.date(2026, 2, 1)
    # three years of work later: 12 new months + 12 carried (18 − 6) = 24
    registry_rows = [{"region": R, "period_start": dt.date(y, 1, 1), "months": 12,
                      "base_total_fen": 12 * 900000, "kind": "paid"} for y in (2026, 2027, 2028)]
    record_history(engine, MAKER, pid, registry_rows[1:], source="test")
    record_history(engine, MAKER, pid, [{"region": R, "period_start": dt.date(2026, 2, 1),
                                         "months": 11, "base_total_fen": 11 * 900000,
                                         "kind": "paid"}], source="test")
    cid2 = _claim(engine, pid, registered_on="2029-01-05")
    comp = casework.compute(engine, MAKER, cid2)
    # paid since 2026-02: 11 + 24 = 35 months → 12; carried 12 → 24
    assert comp["facts"]["contribution_months"] == 35
    assert comp["facts"]["carried_months"] == 12 and comp["facts"]["months"] == 24


def test_refusing_work_twice_stops(engine):
    _fund(engine)
    pid = _unemployed(engine, seq=25)
    _decide(engine, _claim(engine, pid))
    first = casework.report_stop_event(engine, MAKER, pid, "refused_work", dt.date(2025, 9, 3))
    assert first["stopped_from"] is None and first["refusals"] == 1
    second = casework.report_stop_event(engine, MAKER, pid, "refused_work", dt.date(2025, 10, 8))
    assert second["stopped_from"] == "2025-11-01"


def test_suspend_resume_with_back_pay_pension_and_award(engine):
    _fund(engine)
    pid = _unemployed(engine, seq=26)
    _decide(engine, _claim(engine, pid))
    pensioner = make_person(engine, dt.date(1958, 3, 1), seq=27, region=R)
    make_award(engine, pensioner, 300000, 0, region=R)
    assert awards.suspend_awards(engine, MAKER, pid, SEP, "cannot be reached") == 1
    assert awards.suspend_awards(engine, MAKER, pensioner, SEP, "living certification") == 1
    sep = payroll.run(engine, MAKER, R, SEP)
    assert sep.n_payments == 0
    res = awards.resume_awards(engine, MAKER, pid, OCT, True, "found")
    assert (res.back_pay_fen, res.months) == (246600, 1)
    pres = awards.resume_awards(engine, MAKER, pensioner, OCT, True, "certified")
    assert pres.back_pay_fen == 300000
    octo = payroll.run(engine, MAKER, R, OCT)
    # October: benefit + back pay (September) for each of the two persons
    assert octo.n_payments == 4 and octo.total_fen == 2 * 246600 + 2 * 300000
    no_back = awards.suspend_awards(engine, MAKER, pid, dt.date(2025, 11, 1), "abroad")
    assert no_back == 1
    assert awards.resume_awards(engine, MAKER, pid, dt.date(2025, 12, 1), False,
                                "was abroad").back_pay_fen == 0


def test_death_stops_awards_recovers_and_pays_survivors(engine, tmp_path):
    _fund(engine)
    pid = _unemployed(engine, seq=28)
    spouse = make_person(engine, dt.date(1986, 1, 1), male=False, seq=29, region=R)
    _decide(engine, _claim(engine, pid))
    for m in (AUG, SEP):
        r = payroll.run(engine, MAKER, R, m)
        payroll.submit(engine, MAKER, r.run_id)
        payroll.approve(engine, CHECKER, r.run_id)
        payouts.release(engine, MAKER, r.run_id, tmp_path / m.isoformat(), DEBTOR, m)
    registry.record_death(engine, Actor(id="a", role="administrator"), pid,
                          dt.date(2025, 8, 20), source="civil affairs")
    citizen = Actor(id="spouse", role="citizen", person_id=spouse)
    cid = casework.apply(engine, citizen, kind="survivors", person_id=spouse, region=R,
                         facts={"deceased_person_id": pid}, channel="online",
                         opened_on=dt.date(2025, 9, 10))
    comp, out = _decide(engine, cid)
    # 7 years = 84 months → 6 months × average 12434 = 74604.00; funeral 3 × 12434
    assert [(ln["code"], ln["amount"]) for ln in comp["lines"]] == [
        ("funeral_grant", "37302.00"), ("survivors_benefit", "74604.00")]
    assert out["stopped"] == 1
    with engine.connect() as conn:
        rec = conn.execute(select(benefit_recovery)).all()
    # September's benefit was paid after the death (August is still due)
    assert [(r.amount_fen, r.scheme, r.status) for r in rec] == [(246600, "unemployment",
                                                                  "open")]
    recovery.record_instalment(engine, MAKER, rec[0].id, 100000)
    assert recovery.record_instalment(engine, MAKER, rec[0].id, 146600) == "recovered"
    octo = payroll.run(engine, MAKER, R, OCT)
    with engine.connect() as conn:
        paid = conn.execute(select(payment.c.person_id, payment.c.amount_fen).where(
            payment.c.run_id == octo.run_id)).all()
    assert sorted(map(tuple, paid)) == [(spouse, 3730200), (spouse, 7460400)]


def test_maternity_paid_to_the_employer_in_the_pain001(engine, tmp_path):
    from stdnum.cn import uscc as _uscc
    _fund(engine)
    body = "91310104MA1FL0077"
    eid = registry.register_employer(engine, Actor(id="a", role="administrator"),
                                     uscc=body + _uscc.calc_check_digit(body),
                                     name="生育测试有限公司", region=R, industry_code="65",
                                     bank_name="中国银行", bank_account="6216000000000077",
                                     valid_from=dt.date(2020, 1, 1))
    pid = make_person(engine, dt.date(1993, 2, 1), male=False, seq=71, region=R)
    cid = casework.apply(engine, MAKER, kind="maternity", person_id=pid, region=R,
                         facts={"birth_date": "2025-08-03", "employer_avg_wage_fen": 900000,
                                "payee": "employer", "employer_id": eid},
                         opened_on=dt.date(2025, 8, 11))
    comp, out = _decide(engine, cid)
    # 9000 ÷ 30 × 98 = 29400.00 to the employer
    assert [(ln["payee_type"], ln["payee_id"], ln["amount"]) for ln in comp["lines"]] == [
        ("employer", eid, "29400.00")]
    run = payroll.run(engine, MAKER, R, AUG)
    with engine.connect() as conn:
        p = conn.execute(select(payment).where(payment.c.run_id == run.run_id)).one()
    assert (p.payee_type, p.payee_id, p.bank_account, p.scheme, p.amount_fen) == (
        "employer", eid, "6216000000000077", "maternity", 2940000)
    assert payroll.run(engine, MAKER, R, SEP).n_payments == 0        # a one-off, paid once
    payroll.submit(engine, MAKER, run.run_id)
    payroll.approve(engine, CHECKER, run.run_id)
    rel = payouts.release(engine, MAKER, run.run_id, tmp_path, DEBTOR, dt.date(2025, 8, 5))
    data = open([f for f in rel.files if f["format"] == "xml"][0]["path"], "rb").read()
    assert "生育测试有限公司".encode() in data and b"6216000000000077" in data
    assert ledger.balance(engine, f"{R}.maternity.benefits_payable") == 0


def test_review_appraisal_after_a_year_replaces_the_allowance_not_the_grant(engine):
    pid = make_person(engine, dt.date(1980, 1, 1), seq=72, region=R)

    def appraise(on, grade):
        cid = casework.apply(engine, MAKER, kind="injury_appraisal", person_id=pid, region=R,
                             facts={"concluded_on": on, "grade": grade,
                                    "own_wage_fen": 900000}, opened_on=dt.date(2025, 8, 11))
        return cid
    _, first = _decide(engine, appraise("2025-08-15", 4))
    with pytest.raises(ConflictError, match="from 2026-08-15"):
        casework.compute(engine, MAKER, appraise("2026-02-01", 2))
    comp, second = _decide(engine, appraise("2026-09-01", 2))
    # grade 2: 85% × 9000 = 7650.00 a month from 2026-10; no second grant
    with engine.connect() as conn:
        old = conn.execute(select(benefit_award_line.c.code, benefit_award_line.c.end_month)
                           .where(benefit_award_line.c.award_id == first["award_id"])).all()
        new = conn.execute(select(benefit_award_line.c.code, benefit_award_line.c.amount_fen)
                           .where(benefit_award_line.c.award_id == second["award_id"])).all()
    assert dict(old)["disability_allowance"] == dt.date(2026, 10, 1)
    assert list(map(tuple, new)) == [("disability_allowance", 765000)]
