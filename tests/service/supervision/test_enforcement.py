"""Arrears enforcement on both databases: the arrears list becomes cases, once; notice,
deadline, escalation, enforcement list; instalments; settlement."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.notices import outbox
from shebao.supervision import enforcement
from tests.support.supervision_seed import Seeder

INSP = Actor("insp-a", "inspector", "310000")


def _arrears(engine):
    today = dt.datetime.now(dt.timezone.utc).date()
    with engine.begin() as conn:
        s = Seeder(conn)
        e1, e2, e3 = s.employer(), s.employer(), s.employer(region="310101")
        s.arrears(e1, 200, owed_fen=5_000_000, as_of=today)
        s.arrears(e2, 95, owed_fen=1_000_000, as_of=today)
        s.arrears(e3, 95, owed_fen=1_000_000, region="310101", as_of=today)
    return e1, e2, e3


def test_list_to_cases_once_then_notice_escalate_enforce(engine):
    e1, e2, _ = _arrears(engine)
    new = enforcement.open_from_arrears(engine, INSP, "310104")
    assert len(new) == 2
    assert enforcement.open_from_arrears(engine, INSP, "310104") == []     # read once per list
    by_emp = {c["employer_id"]: c["case_id"] for c in enforcement.list_cases(engine, INSP)}
    c1 = by_emp[e1]
    with pytest.raises(ConflictError):
        enforcement.enforce(engine, INSP, c1)            # no enforcement before notice and deadline
    n = enforcement.notice(engine, INSP, c1)
    pay_by = dt.date.fromisoformat(n["pay_by"])
    assert "supervision.arrears.notice" in {x.template for x in outbox.for_recipient(engine, "employer", e1)}
    with pytest.raises(ConflictError):
        enforcement.escalate(engine, INSP, c1)            # the deadline has not passed
    enforcement.escalate(engine, INSP, c1, on=pay_by + dt.timedelta(days=1))
    enforcement.enforce(engine, INSP, c1)
    assert [r["employer_id"] for r in enforcement.enforcement_list(engine, INSP)] == [e1]
    # the other: an instalment agreement, then paid
    c2 = by_emp[e2]
    enforcement.notice(engine, INSP, c2)
    today = dt.datetime.now(dt.timezone.utc).date()
    with pytest.raises(InputError):                     # must cover owed + fee = 1,010,000 fen
        enforcement.agree_instalments(engine, INSP, c2, [(today + dt.timedelta(days=30), 1_000_000)])
    enforcement.agree_instalments(engine, INSP, c2, [(today + dt.timedelta(days=30), 510_000),
                                                     (today + dt.timedelta(days=60), 500_000)])
    enforcement.settle(engine, INSP, c2)
    assert case_queries.get(engine, c2).status == "closed"


def test_scope(engine):
    _arrears(engine)
    district = Actor("insp-d", "inspector", "310101")
    assert len(enforcement.open_from_arrears(engine, district, "310101")) == 1
    assert len(enforcement.list_cases(engine, district)) == 1
