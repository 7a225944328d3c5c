"""``payment.made``: a released payroll run tells every payee once — the pensioner who also
draws an unemployment benefit gets one notice with the sum, the employer paid a maternity
allowance gets its own — in the release's transaction; replaying the release or enqueuing
again adds nothing; a re-issue tells the payee of the re-issued payment."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, update

from shebao.benefits import casework, payouts, payroll
from shebao.benefits.tables import payment
from shebao.notices import outbox
from shebao.notices.render import render
from shebao.notices.tables import notice

from .conftest import CHECKER, MAKER, make_award, make_person
from .test_casework import DEBTOR, R, _decide, _fund
from .test_casework_costs import _employer

AUG = dt.date(2025, 8, 1)


def _paid_notices(engine):
    with engine.connect() as conn:
        return [(r.recipient_type, r.recipient_id, json.loads(r.data), r.dedup_key)
                for r in conn.execute(select(notice).where(notice.c.template == "payment.made")
                                      .order_by(notice.c.id))]


def test_one_payment_notice_per_payee_idempotent(engine, tmp_path):
    _fund(engine)
    both = make_person(engine, dt.date(1962, 5, 1), seq=91, region=R)  # a pension and a grant
    make_award(engine, both, 300000, 0, region=R)
    _decide(engine, casework.apply(engine, MAKER, kind="injury_appraisal", person_id=both,
                                   region=R, facts={"concluded_on": "2025-07-15", "grade": 7,
                                                    "own_wage_fen": 900000}))
    pensioner = make_person(engine, dt.date(1958, 3, 1), seq=92, region=R)
    make_award(engine, pensioner, 432100, 0, region=R)
    eid = _employer(engine, 93, "通知测试有限公司")
    mother = make_person(engine, dt.date(1993, 2, 1), male=False, seq=93, region=R)
    _decide(engine, casework.apply(engine, MAKER, kind="maternity", person_id=mother, region=R,
                                   facts={"birth_date": "2025-08-03",
                                          "employer_avg_wage_fen": 900000,
                                          "payee": "employer", "employer_id": eid}))
    run = payroll.run(engine, MAKER, R, AUG)
    # 4 payments: both's pension and disability grant (13 × 9000.00), the pensioner's pension,
    # the employer's maternity allowance
    assert run.n_payments == 4
    assert _paid_notices(engine) == []                      # computing tells nobody
    payroll.submit(engine, MAKER, run.run_id)
    payroll.approve(engine, CHECKER, run.run_id)
    payouts.release(engine, MAKER, run.run_id, tmp_path, DEBTOR, dt.date(2025, 8, 5))
    got = _paid_notices(engine)
    assert sorted((t, rid, d["amount_fen"], d["payments"]) for t, rid, d, _ in got) == sorted([
        ("person", str(both), 300000 + 11700000, 2), ("person", str(pensioner), 432100, 1),
        ("employer", str(eid), 2940000, 1)])
    assert len({k for *_, k in got}) == 3
    assert all(d["paid_on"] == "2025-08-05" and d["month"] == "2025-08" for _, _, d, _ in got)
    # what the pensioner reads
    n = outbox.for_recipient(engine, "person", pensioner)[0]
    zh = render(n.template, n.data, "zh_CN")
    assert "4,321.00" in zh.body and "2025年8月5日" in zh.body and "2025年8月社会保险待遇" in zh.body
    assert render(n.template, n.data, "en").body.startswith(
        "social insurance benefits for 2025-08: CN¥4,321.00 was paid on August 5, 2025")
    # replaying the release, or the enqueue itself, adds nothing
    assert payouts.release(engine, MAKER, run.run_id, tmp_path, DEBTOR,
                           dt.date(2025, 8, 5)).replayed
    with engine.begin() as conn:
        assert payouts._notify_paid(conn, run.run_id, AUG, dt.date(2025, 8, 5),
                                    "p.attempt = 1", "release") == 0
    assert len(_paid_notices(engine)) == 3
    # a returned and confirmed payment re-issued: its payee is told again, once
    with engine.begin() as conn:
        pid = conn.execute(select(payment.c.id).where(payment.c.person_id == pensioner)
                           ).scalar_one()
        conn.execute(update(payment).where(payment.c.id == pid).values(status="returned"))
    payouts.confirm_failures(engine, MAKER, [pid], reason="account corrected")
    payouts.reissue(engine, MAKER, run.run_id, tmp_path, DEBTOR, dt.date(2025, 8, 8))
    payouts.reissue(engine, MAKER, run.run_id, tmp_path, DEBTOR, dt.date(2025, 8, 8))
    again = _paid_notices(engine)[3:]
    assert [(t, rid, d["amount_fen"], d["paid_on"]) for t, rid, d, _ in again] == [
        ("person", str(pensioner), 432100, "2025-08-08")]
