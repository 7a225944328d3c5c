"""Payroll on a real database: idempotent, resumable runs; maker-checker release; pain.001;
bank returns; re-issue of confirmed failures only; death, living certification, overpayment."""
from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from shebao.benefits import life_events, payouts, payroll
from shebao.benefits.tables import overpayment, payment, pension_award
from shebao.formats import camt053, pain001
from shebao.formats.iso20022 import validate
from shebao.core.errors import PermissionDenied
from shebao.ledger import service as ledger
from shebao.registry import service as registry
from shebao.security import audit

from .conftest import ADMIN, CHECKER, MAKER, fund_account, fund_pool, make_award, make_person

NOV, DEC = dt.date(2025, 11, 1), dt.date(2025, 12, 1)
DEBTOR = pain001.Debtor("上海市社会保险基金 支出户", "31050161393600000001", "中国建设银行上海分行")


def _bal(engine, code):
    return ledger.balance(engine, code)


def _setup(engine):
    a = make_person(engine, dt.date(1960, 3, 1), seq=11)
    b = make_person(engine, dt.date(1960, 3, 1), seq=12, bank_account=None)
    c = make_person(engine, dt.date(1960, 3, 1), seq=13, bank_account="6228480000000013")
    fund_account(engine, "310000", a, 100000, dt.date(2024, 12, 31))   # 1000.00 left
    fund_account(engine, "310000", c, 5000000, dt.date(2024, 12, 31))  # 50000.00
    fund_pool(engine, "310000", 10_000_000_00, dt.date(2025, 1, 1), "seed-pool")
    make_award(engine, a, 432120, 218255)
    make_award(engine, b, 300000, 100000)
    make_award(engine, c, 500000, 150000)
    return a, b, c


def test_run_release_returns_reissue(engine, tmp_path):
    a, b, c = _setup(engine)
    r = payroll.run(engine, MAKER, "310000", NOV)
    assert (r.status, r.n_payments, r.held) == ("computed", 2, 1)
    # A's account holds 1000.00 < 2182.55: the account pays 1000.00, the pool the rest
    assert r.total_fen == 432120 + 500000 and r.account_part_fen == 100000 + 150000
    assert _bal(engine, "310000.pension.individual.%d" % a) == 0
    assert _bal(engine, "310000.pension.benefits_payable") == 932120
    again = payroll.run(engine, MAKER, "310000", NOV)            # idempotent per region × month
    assert again.run_id == r.run_id and again.n_payments == 2
    with engine.connect() as conn:
        assert conn.execute(select(payment)).all().__len__() == 2

    with pytest.raises(PermissionDenied):
        payouts.release(engine, MAKER, r.run_id, tmp_path, DEBTOR, dt.date(2025, 11, 5))
    payroll.submit(engine, MAKER, r.run_id)
    with pytest.raises(PermissionDenied, match="never approve their own"):
        payroll.approve(engine, MAKER, r.run_id)
    payroll.approve(engine, CHECKER, r.run_id)
    rel = payouts.release(engine, MAKER, r.run_id, tmp_path, DEBTOR, dt.date(2025, 11, 5))
    xml = [f for f in rel.files if f["format"] == "xml"][0]
    data = open(xml["path"], "rb").read()
    validate(data, "pain.001.001.09")
    doc = etree.fromstring(data)
    ns = {"p": pain001.NS}
    assert doc.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "9321.20"
    assert {e.get("Ccy") for e in doc.iterfind(".//p:InstdAmt", ns)} == {"CNY"}
    assert doc.findtext(".//p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=ns) == "6222000011112222"
    csv_text = open([f for f in rel.files if f["format"] == "csv"][0]["path"],
                    encoding="utf-8").read().splitlines()
    assert csv_text[0].startswith("end_to_end_id,creditor_name") and len(csv_text) == 3
    assert _bal(engine, "310000.pension.benefits_payable") == 0
    assert payouts.release(engine, MAKER, r.run_id, tmp_path, DEBTOR,
                           dt.date(2025, 11, 5)).replayed

    # bank return: A booked, C returned (closed account)
    e2e_a, e2e_c = payroll.e2e_id(r.run_id, a, 1), payroll.e2e_id(r.run_id, c, 1)
    stmt = tmp_path / "stmt.xml"
    stmt.write_bytes(camt053.build_payments("ST1", DEBTOR.account, dt.date(2025, 11, 6),
                                   [(e2e_a, 432120, None), (e2e_c, 500000, "AC04")]))
    fund_before = _bal(engine, "310000.pension.fund_bank")
    res = payouts.import_returns(engine, MAKER, stmt)
    assert (res.paid, res.failed, res.unknown) == (1, 1, 0)
    assert _bal(engine, "310000.pension.fund_bank") == fund_before + 500000
    assert payouts.import_returns(engine, MAKER, stmt).replayed       # a file counts once
    # not confirmed yet: nothing is re-issued
    assert payouts.reissue(engine, MAKER, r.run_id, tmp_path, DEBTOR,
                           dt.date(2025, 11, 8)).n_payments == 0
    with engine.connect() as conn:
        pc = conn.execute(select(payment).where(payment.c.end_to_end_id == e2e_c)).first()
        pa = conn.execute(select(payment).where(payment.c.end_to_end_id == e2e_a)).first()
    assert (pc.status, pa.status) == ("returned", "paid")
    registry.change_person(engine, ADMIN, c, {"bank_account": "6228480000000099"},
                           reason="account closed, new account given")
    payouts.confirm_failures(engine, MAKER, [pc.id], reason="account closed; corrected")
    ri = payouts.reissue(engine, MAKER, r.run_id, tmp_path, DEBTOR, dt.date(2025, 11, 8))
    assert (ri.n_payments, ri.total_fen) == (1, 500000)
    with engine.connect() as conn:
        live = conn.execute(select(payment.c.attempt, payment.c.status, payment.c.bank_account)
                            .where(payment.c.person_id == c)).all()
    assert sorted(live) == [(1, "reissued", "6228480000000013"), (2, "sent", "6228480000000099")]
    # nobody is paid twice for a month: the database refuses a second live payment
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(insert(payment).values(
                run_id=r.run_id, person_id=a, award_id=1, region="310000", month=NOV,
                attempt=9, amount_fen=1, account_part_fen=0, end_to_end_id="X", status="sent"))
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_resumable_after_interruption(engine):
    pids = [make_person(engine, dt.date(1960, 3, 1), seq=20 + i) for i in range(5)]
    for p in pids:
        make_award(engine, p, 200000, 0)
    part = payroll.run(engine, MAKER, "310000", NOV, chunk=2, max_chunks=1)   # "crash"
    assert (part.status, part.n_payments) == ("computing", 2)
    done = payroll.run(engine, MAKER, "310000", NOV, chunk=2)
    assert (done.status, done.n_payments, done.total_fen) == ("computed", 5, 1_000_000)
    assert done.resumed and done.run_id == part.run_id
    assert _bal(engine, "310000.pension.benefits_payable") == 1_000_000
    with engine.connect() as conn:
        assert len(conn.execute(select(payment.c.person_id)).all()) == 5


def test_death_and_living_certification_stop_payment_and_overpayment(engine, tmp_path):
    a = make_person(engine, dt.date(1960, 3, 1), seq=31)
    b = make_person(engine, dt.date(1960, 3, 1), seq=32)
    fund_account(engine, "310000", a, 1_000_000, dt.date(2024, 12, 31))
    fund_pool(engine, "310000", 1_000_000_00, dt.date(2025, 1, 1), "seed-pool-2")
    make_award(engine, a, 400000, 100000)
    make_award(engine, b, 300000, 0)
    life_events.record_living_certification(engine, MAKER, b, 2025, False, dt.date(2025, 11, 10))
    nov = payroll.run(engine, MAKER, "310000", NOV)
    assert nov.n_payments == 2                       # B failed in November: paid for November
    dec = payroll.run(engine, MAKER, "310000", DEC)
    assert dec.n_payments == 1                       # … but not from December
    payroll.submit(engine, MAKER, dec.run_id)
    payroll.approve(engine, CHECKER, dec.run_id)
    payouts.release(engine, MAKER, dec.run_id, tmp_path, DEBTOR, dt.date(2025, 12, 5))
    # the household-registration feed reports A died on 2025-11-20, after December was paid
    registry.record_death(engine, ADMIN, a, dt.date(2025, 11, 20), source="hukou feed")
    acct_before = _bal(engine, f"310000.pension.individual.{a}")
    res = life_events.detect_overpayments(engine, MAKER, "310000")
    assert (res.n, res.total_fen, res.awards_stopped) == (1, 400000, 1)
    assert _bal(engine, "310000.pension.receivable_individual") == 400000
    assert _bal(engine, f"310000.pension.individual.{a}") == acct_before + 100000
    assert life_events.detect_overpayments(engine, MAKER, "310000").n == 0   # recorded once
    with engine.connect() as conn:
        o = conn.execute(select(overpayment)).first()
        aw = conn.execute(select(pension_award).where(pension_award.c.person_id == a)).first()
    assert (o.month, o.amount_fen, o.status) in ((DEC, 400000, "open"),
                                                 (str(DEC), 400000, "open"))
    assert aw.status == "stopped" and str(aw.stop_month)[:10] == "2025-12-01"
    assert life_events.record_recovery(engine, MAKER, o.id, 150000) == "open"
    assert life_events.record_recovery(engine, MAKER, o.id, 250000) == "recovered"
    assert _bal(engine, "310000.pension.receivable_individual") == 0
    # January: neither A (dead) nor B (failed certification) is paid
    jan = payroll.run(engine, MAKER, "310000", dt.date(2026, 1, 1))
    assert jan.n_payments == 0


def test_indexation_is_its_own_run_and_payroll_uses_the_amount_in_force(engine):
    from shebao.benefits.indexation import run_indexation
    a = make_person(engine, dt.date(1958, 3, 1), seq=41)
    late = make_person(engine, dt.date(1958, 3, 1), seq=42)
    make_award(engine, a, 123457, 0, start=dt.date(2024, 6, 1))
    make_award(engine, late, 300000, 0, start=dt.date(2025, 3, 1))   # retired after 2025-01-01
    res = run_indexation(engine, MAKER, "310000", dt.date(2025, 1, 1))
    # 1234.57 × 1.02 = 1259.2614 → 1259.26 ; the award starting in March is not indexed
    assert (res.rate, res.n_awards, res.increase_fen) == ("0.02", 1, 125926 - 123457)
    assert run_indexation(engine, MAKER, "310000", dt.date(2025, 1, 1)).replayed
    with pytest.raises(Exception) as info:
        run_indexation(engine, MAKER, "310000", dt.date(2025, 2, 1))
    assert getattr(info.value, "field", None) == "effective_from"
    # a payroll month before the new amount still pays the old one
    dec24 = payroll.run(engine, MAKER, "310000", dt.date(2024, 12, 1))
    assert dec24.total_fen == 123457
    jan = payroll.run(engine, MAKER, "310000", dt.date(2025, 3, 1))
    assert jan.total_fen == 125926 + 300000


def test_death_recorded_between_compute_and_release_cancels_before_any_file(engine, tmp_path):
    a = make_person(engine, dt.date(1960, 3, 1), seq=71)
    b = make_person(engine, dt.date(1960, 3, 1), seq=72)
    fund_account(engine, "310000", a, 1_000_000, dt.date(2024, 12, 31))
    fund_pool(engine, "310000", 1_000_000_00, dt.date(2025, 1, 1), "seed-pool-3")
    make_award(engine, a, 400000, 100000)
    make_award(engine, b, 300000, 0)
    r = payroll.run(engine, MAKER, "310000", DEC)
    assert r.n_payments == 2
    acct_before = _bal(engine, f"310000.pension.individual.{a}")
    payroll.submit(engine, MAKER, r.run_id)
    payroll.approve(engine, CHECKER, r.run_id)
    registry.record_death(engine, ADMIN, a, dt.date(2025, 11, 28), source="hukou feed")
    rel = payouts.release(engine, MAKER, r.run_id, tmp_path, DEBTOR, dt.date(2025, 12, 5))
    assert (rel.n_payments, rel.total_fen) == (1, 300000)
    assert _bal(engine, f"310000.pension.individual.{a}") == acct_before + 100000
    assert _bal(engine, "310000.pension.benefits_payable") == 0
    xml = open([f for f in rel.files if f["format"] == "xml"][0]["path"], encoding="utf-8").read()
    assert payroll.e2e_id(r.run_id, a, 1) not in xml and payroll.e2e_id(r.run_id, b, 1) in xml
    assert life_events.detect_overpayments(engine, MAKER, "310000").n == 0


def test_chunks_cross_skipped_held_and_unfunded_persons_and_pay_each_once(engine):
    """Chunks of two awards: a chunk whose awards are all skipped (dead) must not end the run,
    the cursor moves past held and skipped persons, and each payment row carries what the
    database copied (bank text, e2e id) and the split the ledger posted."""
    import json

    from shebao.benefits.tables import pension_award_amount
    from shebao.security.tables import audit_log
    from sqlalchemy import update

    jun = dt.date(2025, 6, 1)
    p = [make_person(engine, dt.date(1958, 3, 1), seq=80 + i,
                     bank_account=None if i == 2 else "6222000011112222") for i in range(8)]
    held = p[2]                           # person ids ascending: p0 p1 held p3 … p7
    fund_account(engine, "310000", p[0], 100000, dt.date(2024, 12, 31))   # less than the part
    fund_account(engine, "310000", p[7], 5000000, dt.date(2024, 12, 31))
    fund_pool(engine, "310000", 1_000_000_00, dt.date(2025, 1, 1), "seed-pool-4")
    awards = [make_award(engine, x, 300000 + i, 200000) for i, x in enumerate(p)]
    for dead in (p[1], p[4], p[5]):
        registry.record_death(engine, ADMIN, dead, dt.date(2025, 4, 30), source="hukou feed")
    # p7: indexed from July; June still pays the amount in force then
    with engine.begin() as conn:
        conn.execute(update(pension_award).where(pension_award.c.id == awards[7]).values(
            monthly_fen=999999, account_part_fen=1, amount_from=dt.date(2025, 7, 1)))
        conn.execute(insert(pension_award_amount).values(
            award_id=awards[7], effective_from=dt.date(2025, 7, 1), monthly_fen=999999,
            account_part_fen=1, source="indexation:test",
            recorded_at=dt.datetime.now(dt.timezone.utc)))

    part = payroll.run(engine, MAKER, "310000", jun, chunk=2, max_chunks=3)
    # chunks {p0,p1} {held,p3} {p4,p5}: the third pays nobody and the run goes on
    assert (part.status, part.n_payments, part.held, part.chunks) == ("computing", 2, 1, 3)
    r = payroll.run(engine, MAKER, "310000", jun, chunk=2)
    assert (r.status, r.n_payments, r.chunks, r.resumed) == ("computed", 4, 1, True)
    # p0: account 1000.00 < part 2000.00; p3, p6: no individual account; p7 from history
    assert r.total_fen == 300000 + 300003 + 300006 + 300007
    assert r.account_part_fen == 100000 + 0 + 0 + 200000
    with engine.connect() as conn:
        rows = conn.execute(select(payment).order_by(payment.c.id)).mappings().all()
        held_rows = conn.execute(select(audit_log.c.detail).where(
            audit_log.c.action == "payroll.run.held")).all()
    assert [x["person_id"] for x in rows] == [p[0], p[3], p[6], p[7]]
    assert [x["award_id"] for x in rows] == [awards[0], awards[3], awards[6], awards[7]]
    assert [(x["amount_fen"], x["account_part_fen"]) for x in rows] == [
        (300000, 100000), (300003, 0), (300006, 0), (300007, 200000)]
    for x in rows:
        assert x["end_to_end_id"] == payroll.e2e_id(r.run_id, x["person_id"], 1)
        assert (x["run_id"], x["region"], str(x["month"])[:10], x["attempt"], x["status"]) == (
            r.run_id, "310000", "2025-06-01", 1, "computed")
        assert (x["bank_name"], x["bank_account"]) == ("中国工商银行", "6222000011112222")
        assert x["status_at"] is not None and x["replaces_id"] is None
    assert [json.loads(d.detail)["person_ids"] for d in held_rows] == [[held]]
    assert _bal(engine, f"310000.pension.individual.{p[0]}") == 0
    assert _bal(engine, f"310000.pension.individual.{p[7]}") == 5000000 - 200000
    assert _bal(engine, "310000.pension.benefits_payable") == r.total_fen
    assert payroll.run(engine, MAKER, "310000", jun).n_payments == 4      # idempotent
