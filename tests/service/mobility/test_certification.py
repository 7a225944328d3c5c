"""The living-certification cycle on both databases: data comparison, expiry → suspension
(payroll told), self certification → resumption with back pay, a death found later."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.bulk import day_number
from shebao.mobility import certification as cert
from shebao.benefits import awards
from shebao.mobility import queries
from shebao.notices import outbox
from shebao.registry import service as registry

from .conftest import ADMIN, SH, SH_MAKER, SYSTEM, BJ_CLERK, citizen, make_award, make_person


def _lc(engine, pid):
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT year, passed, checked_on FROM living_certification WHERE person_id = :p "
            "ORDER BY year"), {"p": pid})]


def _d(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def test_the_cycle(engine):
    a = make_person(engine, dt.date(1960, 1, 1), seq=21)     # never certified again
    b = make_person(engine, dt.date(1960, 1, 2), seq=22)     # a hospital record
    c = make_person(engine, dt.date(1960, 1, 3), seq=23)     # dies
    d = make_person(engine, dt.date(1960, 1, 4), seq=24)     # a late travel record
    for p in (a, b, c, d):
        make_award(engine, p, 400_000, start=dt.date(2024, 5, 1))
    cert.record_signals(engine, SH_MAKER, [b], ["hospital"], [day_number(dt.date(2025, 4, 10))],
                        "hospital feed")

    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 5, 1))
    assert (r.pensioners, r.entered, r.data_certified, r.suspended) == (4, 4, 1, 0)
    assert queries.certification(engine, b)["last_certified_on"] == dt.date(2025, 4, 10)
    with pytest.raises(ConflictError):                        # once per region × month
        cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 5, 1))

    # death 2025-02-20 recorded (civil affairs) before the June run
    registry.record_death(engine, ADMIN, c, dt.date(2025, 2, 20), source="civil affairs")
    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 6, 1))
    # a and d: last certified May 2024, 12-month window → suspended from June 2025
    assert (r.suspended, r.deceased, r.data_certified) == (2, 1, 0)
    sa = queries.certification(engine, a)
    assert (sa["state"], sa["suspended_from"]) == ("suspended", dt.date(2025, 6, 1))
    assert queries.certification(engine, b)["state"] == "certified"
    sc = queries.certification(engine, c)
    assert (sc["state"], sc["death_date"]) == ("deceased", dt.date(2025, 2, 20))
    # payroll told: a failure checked the day before the first month not paid
    assert [(y, p, _d(on)) for y, p, on in _lc(engine, a)] == [(2025, 0, dt.date(2025, 5, 31))]

    # rules-2 §5: certified 2025-09-12 → resume from 2025-10, back pay June–September (4)
    out = cert.certify(engine, citizen(a), a, dt.date(2025, 9, 12), "e_card")
    assert out == {"state": "certified", "resumed_from": dt.date(2025, 10, 1),
                   "back_pay_months": 4}
    assert [(y, p, _d(on)) for y, p, on in _lc(engine, a)] == [(2025, 1, dt.date(2025, 9, 12))]
    assert [e["event"] for e in queries.certification(engine, a)["events"]] == \
        ["suspend", "self", "resume"]
    # the back pay is an award line payroll pays: 4 × 4,000 = 16,000 (rules-2 §5)
    (bp,) = [x for x in awards.awards_of(engine, a) if x["kind"] == "pension_back_pay"]
    assert [(ln["kind"], ln["amount_fen"], _d(ln["start_month"])) for ln in bp["lines"]] == \
        [("once", 1_600_000, dt.date(2025, 10, 1))]
    (n,) = [n for n in outbox.for_recipient(engine, "person", a)
            if n.template == "certification.resumed"]
    assert n.data["back_pay_months"] == 4 and n.data["resumed_from"] == "2025-10-01"

    # d: a travel record of 3 July arrives late, found by the September run
    cert.record_signals(engine, SH_MAKER, [d], ["travel"], [day_number(dt.date(2025, 7, 3))],
                        "travel checks")
    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 9, 1))
    assert (r.resumed, r.back_pay_months) == (1, 3)          # June, July, August
    sd = queries.certification(engine, d)
    assert (sd["state"], sd["resumed_from"], sd["back_pay_months"]) == \
        ("certified", dt.date(2025, 9, 1), 3)
    (bp,) = [x for x in awards.awards_of(engine, d) if x["kind"] == "pension_back_pay"]
    assert [(ln["amount_fen"], _d(ln["start_month"])) for ln in bp["lines"]] == \
        [(3 * 400_000, dt.date(2025, 9, 1))]
    assert queries.certification_counts(engine, SH) == {"certified": 3, "deceased": 1}
    with pytest.raises(ConflictError):                        # the dead are not certified
        cert.certify(engine, SH_MAKER, c, dt.date(2025, 9, 1), "counter")


def test_who_may_certify(engine):
    a = make_person(engine, dt.date(1960, 1, 1), seq=25)
    b = make_person(engine, dt.date(1960, 1, 2), seq=26)
    make_award(engine, a, 300_000)
    cert.run_month(engine, SYSTEM, SH, dt.date(2024, 6, 1))
    with pytest.raises(PermissionDenied):
        cert.certify(engine, citizen(b), a, dt.date(2024, 7, 1))
    with pytest.raises(PermissionDenied):                     # another region's clerk
        cert.certify(engine, BJ_CLERK, a, dt.date(2024, 7, 1), "counter")
    with pytest.raises(InputError):
        cert.certify(engine, SH_MAKER, b, dt.date(2024, 7, 1), "counter")   # not a pensioner
    with pytest.raises(InputError):
        cert.record_signals(engine, SH_MAKER, [a], ["gossip"], [day_number(dt.date(2024, 7, 1))],
                            "x")
    assert cert.certify(engine, SH_MAKER, a, dt.date(2024, 7, 1), "counter")["state"] == \
        "certified"


def _notices(engine, template):
    with engine.connect() as c:
        return sorted((int(r.recipient_id), r.dedup_key, r.data) for r in c.execute(text(
            "SELECT recipient_id, dedup_key, data FROM notice WHERE template = :t"),
            {"t": template}))


def test_the_run_enqueues_due_and_suspension_notices_once(engine):
    """The June run: awards from May 2024 have run out (suspended from June), those from June
    2024 end this month (reminded, due by 30 June), a newer one neither — one notice each, in
    the run's transaction; running the notices again adds nothing."""
    from shebao.db.uow import transaction
    from shebao.notices.render import render

    old = [make_person(engine, dt.date(1960, 2, i), seq=40 + i) for i in (1, 2)]
    due = [make_person(engine, dt.date(1960, 3, i), seq=50 + i) for i in (1, 2, 3)]
    new = make_person(engine, dt.date(1960, 4, 1), seq=60)
    for p in old:
        make_award(engine, p, 400_000, start=dt.date(2024, 5, 1))
    for p in due:
        make_award(engine, p, 400_000, start=dt.date(2024, 6, 1))
    make_award(engine, new, 400_000, start=dt.date(2025, 1, 1))

    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 6, 1))
    assert (r.pensioners, r.suspended, r.due) == (6, 2, 3)
    assert r.notices == {"due": 3, "suspended": 2}
    reminders = _notices(engine, "certification.due")
    assert [p for p, _, _ in reminders] == sorted(due)
    assert {k for _, k, _ in reminders} == {f"certification:due:2025-06-30:{p}" for p in due}
    assert all('"due_on": "2025-06-30"' in d for _, _, d in reminders)
    suspensions = _notices(engine, "certification.suspended")
    assert [p for p, _, _ in suspensions] == sorted(old)
    # the same notices again (a re-run of the step) add nothing: the keys are taken
    with transaction(engine) as conn:
        assert cert._notices(conn, SH, dt.date(2025, 6, 1), dt.date(2024, 6, 1), 1) == \
            {"due": 0, "suspended": 0}
    with pytest.raises(ConflictError):                        # the run itself once a month
        cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 6, 1))
    assert len(_notices(engine, "certification.due")) == 3
    assert len(_notices(engine, "certification.suspended")) == 2

    # July: the reminded ones did not certify → suspended and told; nobody is due in July
    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 7, 1))
    assert (r.suspended, r.due, r.notices) == (3, 0, {"due": 0, "suspended": 3})
    assert [p for p, _, _ in _notices(engine, "certification.suspended")] == sorted(old + due)
    (n,) = [n for n in outbox.for_recipient(engine, "person", due[0])
            if n.template == "certification.suspended"]
    zh = render(n.template, n.data, "zh_CN")
    assert zh.subject == "养老金暂停发放" and "自2025-07起暂停发放" in zh.body
    assert "suspended from 2025-07" in render(n.template, n.data, "en").body
