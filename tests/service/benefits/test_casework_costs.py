"""Work-injury medical and care costs and maternity medical costs as casework on real
databases: a claim (by the worker, the employer or a clerk, with its documents) → the maker
computes (checked against the recognition and the appraisal) → the checker approves → one-off
lines and a monthly nursing allowance → paid by the payroll with every other award."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from stdnum.cn import uscc as _uscc

from shebao.benefits import casework, payroll
from shebao.benefits.tables import benefit_award_line, payment
from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.registry import service as registry

from .conftest import CHECKER, MAKER, make_person
from .test_casework import _fund

R = "310104"
ADMIN = Actor(id="a", role="administrator")


def _employer(engine, n: int, name: str) -> int:
    body = f"91310104MA1FL{n:04d}"
    return registry.register_employer(engine, ADMIN, uscc=body + _uscc.calc_check_digit(body),
                                      name=name, region=R, industry_code="65",
                                      bank_name="中国银行", bank_account=f"621600000000{n:04d}",
                                      valid_from=dt.date(2020, 1, 1))


def _decide(engine, cid):
    comp = casework.compute(engine, MAKER, cid)
    casework.submit(engine, MAKER, cid)
    with pytest.raises(PermissionDenied):
        casework.approve(engine, MAKER, cid)            # four eyes
    return comp, casework.approve(engine, CHECKER, cid)


def _recognised(engine, pid, eid):
    cid = casework.apply(engine, MAKER, kind="injury_recognition", person_id=pid, region=R,
                         employer_id=eid, opened_on=dt.date(2025, 4, 15),
                         facts={"accident_date": "2025-03-01", "applied_on": "2025-04-15",
                                "applicant": "employer", "work_related": True})
    return cid


def _paid(engine, run_id):
    with engine.connect() as conn:
        return sorted((r.payee_type, r.payee_id, r.scheme, r.amount_fen) for r in conn.execute(
            select(payment).where(payment.c.run_id == run_id)))


def test_injury_costs_claim_to_payment(engine):
    _fund(engine)
    pid = make_person(engine, dt.date(1980, 1, 1), seq=81, region=R)
    eid = _employer(engine, 81, "工伤测试有限公司")
    rec = _recognised(engine, pid, eid)
    employer = Actor(id="emp81", role="employer", employer_id=eid)
    facts = {"recognition_case_id": rec, "payee": "employer", "employer_id": eid,
             "treatments": [{"treated_on": "2025-03-02", "catalogue_fen": 500000},
                            {"treated_on": "2025-05-20", "catalogue_fen": 300000,
                             "outside_fen": 40000}],
             "hospital_days": 12, "devices": [{"type": "wheelchair", "cost_fen": 260000}]}
    # the employer claims online with the bills
    cid = casework.apply(engine, employer, kind="injury_costs", person_id=pid, region=R,
                         employer_id=eid, facts=facts, channel="online",
                         opened_on=dt.date(2025, 6, 2))
    cases.attach(engine, employer, cid, kind="medical_bills", filename="bills.pdf",
                 content=b"%PDF-1.4 bills")
    c = case_queries.get(engine, cid)
    assert (c.item, c.status, c.channel) == ("benefit.injury_costs", "received", "online")
    # 20 working days from Monday 2025-06-02 → 2025-06-30 (no holiday in between)
    assert c.due_on == dt.date(2025, 6, 30)
    with pytest.raises(PermissionDenied):
        casework.compute(engine, employer, cid)           # staff compute
    # the recognition is not decided yet: nothing is paid for it
    with pytest.raises(ConflictError, match="has not recognised"):
        casework.compute(engine, MAKER, cid)
    _decide(engine, rec)
    other = make_person(engine, dt.date(1981, 1, 1), seq=82, region=R)
    wrong = casework.apply(engine, MAKER, kind="injury_costs", person_id=other, region=R,
                           facts={"recognition_case_id": rec})
    with pytest.raises(InputError) as e:
        casework.compute(engine, MAKER, wrong)
    assert e.value.field == "recognition_case_id"
    comp, out = _decide(engine, cid)
    # the employer applied 45 days after the accident: 5000.00 of 2025-03-02 is its own
    # (art. 17); the fund pays 3000.00 (400.00 outside the catalogues not), food 12 × 20.00,
    # the wheelchair 2600.00 — all to the employer that advanced them, from 2025-05
    assert comp["facts"]["accident_date"] == "2025-03-01"
    assert [(ln["code"], ln["amount"], ln["payee_type"]) for ln in comp["lines"]] == [
        ("injury_medical_costs", "3000.00", "employer"),
        ("hospital_food_allowance", "240.00", "employer"),
        ("assistive_devices", "2600.00", "employer")]
    assert out["outcome"] == "granted" and out["award_id"]
    assert case_queries.get(engine, cid).status == "decided"
    run = payroll.run(engine, MAKER, R, dt.date(2025, 6, 1))
    assert _paid(engine, run.run_id) == [("employer", eid, "injury", 24000),
                                         ("employer", eid, "injury", 260000),
                                         ("employer", eid, "injury", 300000)]
    assert payroll.run(engine, MAKER, R, dt.date(2025, 7, 1)).n_payments == 0   # once only


def test_nursing_allowance_needs_a_grade_and_replaces_the_earlier_level(engine):
    _fund(engine)
    pid = make_person(engine, dt.date(1979, 1, 1), seq=83, region=R)
    eid = _employer(engine, 83, "护理测试有限公司")
    rec = _recognised(engine, pid, eid)
    _decide(engine, rec)
    citizen = Actor(id="cit83", role="citizen", person_id=pid)
    care = {"recognition_case_id": rec, "care_level": 2, "care_confirmed_on": "2025-10-10"}
    early = casework.apply(engine, citizen, kind="injury_costs", person_id=pid, region=R,
                           facts=care, channel="online", opened_on=dt.date(2025, 7, 1))
    with pytest.raises(ConflictError, match="no granted appraisal"):
        casework.compute(engine, MAKER, early)
    ap = casework.apply(engine, MAKER, kind="injury_appraisal", person_id=pid, region=R,
                        facts={"concluded_on": "2025-08-15", "grade": 1,
                               "own_wage_fen": 900000, "nursing_level": 1})
    _, first = _decide(engine, ap)
    comp, out = _decide(engine, early)
    # level 2 from 2025-11: 40% × 12434.00 = 4973.60; the level-1 allowance (6217.00)
    # pays September and October only
    assert [(ln["code"], ln["kind"], ln["amount"], ln["start_month"])
            for ln in comp["lines"]] == [("nursing_allowance", "monthly", "4973.60",
                                          "2025-11-01")]
    with engine.connect() as conn:
        old = dict(conn.execute(select(benefit_award_line.c.code, benefit_award_line.c.end_month)
                                .where(benefit_award_line.c.award_id == first["award_id"])).all())
    assert old["nursing_allowance"] == dt.date(2025, 11, 1)
    assert old["disability_allowance"] is None
    octo = payroll.run(engine, MAKER, R, dt.date(2025, 10, 1))
    nov = payroll.run(engine, MAKER, R, dt.date(2025, 11, 1))
    # October: grant 27 × 9000 = 243000.00, allowance 90% × 9000 = 8100.00, nursing 6217.00
    assert sorted(x[3] for x in _paid(engine, octo.run_id)) == [621700, 810000, 24300000]
    assert sorted(x[3] for x in _paid(engine, nov.run_id)) == [497360, 810000]


def test_maternity_medical_costs_to_the_person_and_the_provider(engine):
    _fund(engine)
    hospital = _employer(engine, 84, "某某妇产医院")
    pid = make_person(engine, dt.date(1994, 2, 1), male=False, seq=84, region=R)
    citizen = Actor(id="cit84", role="citizen", person_id=pid)
    cid = casework.apply(engine, citizen, kind="maternity", person_id=pid, region=R,
                         channel="online", opened_on=dt.date(2025, 9, 8),
                         facts={"birth_date": "2025-09-03", "employer_avg_wage_fen": 900000,
                                "prenatal_checks": True, "delivery_type": "caesarean",
                                "medical_payee": "provider", "provider_id": hospital})
    cases.attach(engine, citizen, cid, kind="birth_certificate", filename="birth.pdf",
                 content=b"%PDF-1.4 birth")
    comp, out = _decide(engine, cid)
    # allowance 9000 ÷ 30 × 98 = 29400.00 to the person (Shanghai); prenatal 600.00 and
    # caesarean 4500.00 (flat amounts [M]) to the hospital that advanced them
    assert [(ln["code"], ln["amount"], ln["payee_type"]) for ln in comp["lines"]] == [
        ("maternity_allowance", "29400.00", "person"),
        ("prenatal_check_subsidy", "600.00", "employer"),
        ("delivery_costs", "4500.00", "employer")]
    run = payroll.run(engine, MAKER, R, dt.date(2025, 9, 1))
    assert _paid(engine, run.run_id) == [("employer", hospital, "maternity", 60000),
                                         ("employer", hospital, "maternity", 450000),
                                         ("person", pid, "maternity", 2940000)]
    with engine.connect() as conn:
        banks = {r.bank_account for r in conn.execute(select(payment.c.bank_account).where(
            payment.c.run_id == run.run_id, payment.c.payee_type == "employer"))}
    assert banks == {"6216000000000084"}
    bad = casework.apply(engine, citizen, kind="maternity", person_id=pid, region=R,
                         channel="online", facts={"birth_date": "2025-09-03",
                                                  "employer_avg_wage_fen": 900000,
                                                  "delivery_type": "late_miscarriage"})
    with pytest.raises(InputError) as e:
        casework.compute(engine, MAKER, bad)
    assert e.value.field == "delivery_type"
