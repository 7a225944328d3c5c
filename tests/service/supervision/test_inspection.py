"""Inspection cases: alert → case → plan, evidence, findings → four-eyes decision → ledger
entry and notice; complaint cases; appeal reopens."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.ledger import queries as ledger_queries
from shebao.ledger.chart import open_chart
from shebao.notices import outbox
from shebao.supervision import alerts, inspection, monitor
from tests.support.supervision_seed import AS_OF, seed_monitoring

MAKER = Actor("insp-a", "inspector", "310000")
CHECKER = Actor("insp-b", "inspector", "310000")


@pytest.fixture
def world(engine):
    hits = seed_monitoring(engine)
    open_chart(engine, Actor("system", "system"), "310104", ("pension",))
    monitor.run(engine, MAKER, "310000", AS_OF)
    return hits


def _alert(engine, rule):
    return alerts.list_alerts(engine, MAKER, rule=rule)[0]


def test_alert_to_recovery_posted_through_the_ledger(engine, world):
    a = _alert(engine, "pension_after_death")
    cid = inspection.open_inspection(engine, MAKER, alert_id=a["id"], assign_to="insp-a")
    assert alerts.get_alert(engine, MAKER, a["id"])["status"] == "case"
    with pytest.raises(ConflictError):           # one case per alert
        inspection.open_inspection(engine, MAKER, alert_id=a["id"])
    inspection.record(engine, MAKER, cid, plan="bank statement; death certificate")
    cases.attach(engine, MAKER, cid, kind="evidence", filename="bank.pdf", content=b"%PDF-1",
                 content_type="application/pdf")
    inspection.record(engine, MAKER, cid, findings="two months drawn after death")
    inspection.propose_decision(engine, MAKER, cid, decision="recover", amount_fen=760000)
    with pytest.raises(PermissionDenied):        # four eyes: not the maker
        inspection.approve(engine, MAKER, cid)
    res = inspection.approve(engine, CHECKER, cid)
    assert res["outcome"] == "recover" and res["recovery_id"]   # benefits.recovery
    assert ledger_queries.balance(engine, "310104.pension.receivable_individual") == 760000
    assert ledger_queries.balance(engine, "310104.pension.pooled_fund") == 760000
    assert case_queries.get(engine, cid).status == "decided"
    assert alerts.get_alert(engine, MAKER, a["id"])["status"] == "closed"
    person = world["pension_after_death"]
    templates = [n.template for n in outbox.for_recipient(engine, "person", person)]
    assert "supervision.decision" in templates and "case.decided" in templates
    assert len(case_queries.documents(engine, cid)) == 1
    inspection.appeal(engine, MAKER, cid, "administrative review: amount disputed")
    assert case_queries.get(engine, cid).status == "in_progress"


def test_back_assessment_with_late_fee_and_a_fine(engine, world):
    a = _alert(engine, "wage_base_low")
    cid = inspection.open_inspection(engine, MAKER, alert_id=a["id"])
    # 10,000.00 evaded, due 100 days before today (the decision's date)
    today = dt.datetime.now(dt.timezone.utc).date()
    since = today - dt.timedelta(days=100)
    inspection.propose_decision(engine, MAKER, cid, decision="back_assess", amount_fen=1_000_000,
                                due_since=since)
    dec = case_queries.get(engine, cid).decision
    # late fee 1,000,000 fen × 0.05% × 100 days = 50,000 fen = 500.00
    assert dec["late_fee"] == "500.00" and dec["late_fee_days"] == 100
    inspection.approve(engine, CHECKER, cid)
    assert ledger_queries.balance(engine, "310104.pension.late_fee_income") == 50000
    assert ledger_queries.balance(engine, "310104.pension.receivable_employer") == 1_050_000
    # a complaint case: fine 3 × 8,000.00 = 24,000.00; a multiple outside 2–5 is refused
    cid2 = inspection.open_inspection(engine, MAKER, subject_type="person", subject_id=world["double_pension"],
                                      region="310104", complaint="drawing two pensions")
    with pytest.raises(InputError) as e:
        inspection.propose_decision(engine, MAKER, cid2, decision="fine", amount_fen=800000,
                                    fine_multiple="6")
    assert e.value.field == "fine_multiple"
    inspection.propose_decision(engine, MAKER, cid2, decision="fine", amount_fen=800000,
                                fine_multiple="3")
    assert case_queries.get(engine, cid2).decision["fine"] == "24000.00"
    pool_before = ledger_queries.balance(engine, "310104.pension.pooled_fund")
    out = inspection.approve(engine, CHECKER, cid2)
    # a fine is state revenue, not the fund's: posted to the memorandum pair only
    assert out["ledger_entry_id"] is not None
    assert ledger_queries.balance(engine, "310104.pension.fines_receivable") == 2_400_000
    assert ledger_queries.balance(engine, "310104.pension.fines_payable_treasury") == 2_400_000
    assert ledger_queries.balance(engine, "310104.pension.pooled_fund") == pool_before


def test_out_of_scope_and_no_reason(engine, world):
    a = _alert(engine, "arrears_long")
    with pytest.raises(PermissionDenied):
        inspection.open_inspection(engine, Actor("x", "inspector", "310101"), alert_id=a["id"])
    with pytest.raises(InputError):
        inspection.open_inspection(engine, MAKER, subject_type="employer", subject_id=1,
                                   region="310104")
