"""The blacklist's due process on both databases: notice, objection period, checked listing,
publication, the flag, removal and expiry."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.notices import outbox
from shebao.supervision import blacklist
from tests.support.supervision_seed import Seeder

MAKER = Actor("insp-a", "inspector", "310000")
CHECKER = Actor("insp-b", "inspector", "310000")


def _employers(engine, n):
    with engine.begin() as conn:
        s = Seeder(conn)
        return [s.employer() for _ in range(n)]


def test_due_process_from_proposal_to_removal(engine):
    e, = _employers(engine, 1)
    with pytest.raises(InputError):                  # below the ground's threshold
        blacklist.propose(engine, MAKER, subject_type="employer", subject_id=e, region="310104",
                          ground="benefit_fraud", facts={"amount_yuan": "9000"})
    eid = blacklist.propose(engine, MAKER, subject_type="employer", subject_id=e,
                            region="310104", ground="benefit_fraud",
                            facts={"amount_yuan": "15000"})
    with pytest.raises(ConflictError):               # one live entry per party
        blacklist.propose(engine, MAKER, subject_type="employer", subject_id=e,
                          region="310104", ground="benefit_fraud", facts={"amount_yuan": "15000"})
    with pytest.raises(ConflictError):               # no decision before the prior notice
        blacklist.submit(engine, MAKER, eid)
    n = blacklist.notify(engine, MAKER, eid)
    until = dt.date.fromisoformat(n["objection_until"])
    assert (until - dt.datetime.now(dt.timezone.utc).date()).days == 10
    # the employer objects itself
    blacklist.object_(engine, Actor("firm", "employer", None, employer_id=e), eid, "we repaid")
    with pytest.raises(ConflictError):               # still inside the objection period
        blacklist.submit(engine, MAKER, eid, reason="repayment not received")
    after = until + dt.timedelta(days=1)
    with pytest.raises(InputError):                  # an objection must be answered
        blacklist.submit(engine, MAKER, eid, on=after)
    blacklist.submit(engine, MAKER, eid, reason="repayment not received", on=after)
    assert blacklist.listed(engine, "employer", [e]) == {}
    with pytest.raises(PermissionDenied):
        blacklist.approve(engine, MAKER, eid)        # four eyes
    res = blacklist.approve(engine, CHECKER, eid)
    flag = blacklist.listed(engine, "employer", [e, e + 1])
    assert list(flag) == [e] and flag[e]["ground"] == "benefit_fraud"
    listed_until = dt.date.fromisoformat(res["listed_until"])
    assert listed_until.year == dt.datetime.now(dt.timezone.utc).year + 3
    blacklist.publish(engine, MAKER, eid)
    templates = {x.template for x in outbox.for_recipient(engine, "employer", e)}
    assert {"supervision.blacklist.prior_notice", "supervision.blacklist.listed"} <= templates
    entry = blacklist.entries(engine, MAKER)[0]
    assert entry["status"] == "published" and case_queries.get(engine, entry["case_id"]).status == "decided"
    # expiry is set-based at the end of the term; a removal needs a reason
    assert blacklist.expire(engine, MAKER, on=listed_until) == 0
    assert blacklist.expire(engine, MAKER, on=listed_until + dt.timedelta(days=1)) == 1
    assert blacklist.listed(engine, "employer", [e]) == {}


def test_decline_and_credit_repair(engine):
    e1, e2 = _employers(engine, 2)
    a = blacklist.propose(engine, MAKER, subject_type="employer", subject_id=e1, region="310104",
                          ground="records_misuse", facts={})
    blacklist.notify(engine, MAKER, a)
    blacklist.decline(engine, MAKER, a, "objection upheld")
    assert blacklist.entries(engine, MAKER, status="rejected")[0]["id"] == a
    b = blacklist.propose(engine, MAKER, subject_type="employer", subject_id=e2, region="310104",
                          ground="records_misuse", facts={})
    blacklist.notify(engine, MAKER, b)
    blacklist.submit(engine, MAKER, b, on=dt.date.today() + dt.timedelta(days=30))
    blacklist.approve(engine, CHECKER, b)
    with pytest.raises(InputError):
        blacklist.remove(engine, MAKER, b, " ")
    blacklist.remove(engine, MAKER, b, "credit repair: corrected and paid")
    assert blacklist.listed(engine, "employer", [e2]) == {}
    with pytest.raises(PermissionDenied):
        blacklist.notify(engine, Actor("x", "inspector", "310101"), a)
