"""The case lifecycle on both databases: due dates on the working-day calendar, the pause
while documents are awaited, four eyes, notices in the same transaction, ratings, reopening,
and who may do what."""
import datetime as dt

import pytest
from sqlalchemy import select

from shebao.cases import access, queries, service as cases
from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.notices import outbox
from shebao.security.tables import audit_log

D = dt.date
MAKER = Actor("clerk-m", "benefits_clerk", "310104")
CHECKER = Actor("clerk-c", "benefits_clerk", "310100")
OTHER_DISTRICT = Actor("clerk-x", "benefits_clerk", "310101")
REG_CLERK = Actor("clerk-r", "collection_clerk", "310104")
CITIZEN = Actor("p77", "citizen", "310104", person_id=77)
STRANGER = Actor("p78", "citizen", "310104", person_id=78)


def _pension_case(engine, actor=CITIZEN, on=D(2025, 9, 26)):
    return cases.open_case(engine, actor, item="benefit.pension", region="310104",
                           subject_type="person", subject_id=77, person_id=77,
                           channel="online", opened_on=on, detail={"claim": "retirement"})


def test_due_date_counts_working_days_and_the_subject_is_told(engine):
    cid = _pension_case(engine)
    c = queries.get(engine, cid)
    # 20 working days from Fri 2025-09-26: 09-28 (make-up Sunday), 29, 30 → 3;
    # Oct 1–8 holiday; 10-09, 10, 11 (make-up Saturday) → 6; 13–17 → 11; 20–24 → 16;
    # 27, 28, 29, 30 → 20: due Thursday 2025-10-30.
    assert (c.status, c.channel, c.due_on) == ("received", "online", D(2025, 10, 30))
    notes = outbox.for_recipient(engine, "person", 77)
    assert [n.template for n in notes] == ["case.received"]
    assert notes[0].data["due_on"] == "2025-10-30"


def test_four_eyes_decision_and_notice(engine):
    cid = _pension_case(engine)
    cases.start(engine, MAKER, cid)
    with pytest.raises(ConflictError, match="second check"):
        cases.decide(engine, MAKER, cid, outcome="granted")
    cases.submit_decision(engine, MAKER, cid, outcome="granted", detail={"monthly": "4000.00"})
    assert queries.get(engine, cid).status == "pending_check"
    with pytest.raises(PermissionDenied, match="different staff member"):
        cases.approve_decision(engine, MAKER, cid)
    c = cases.approve_decision(engine, CHECKER, cid)
    assert (c.status, c.outcome, c.decision) == ("decided", "granted", {"monthly": "4000.00"})
    assert c.decided_on is not None and c.on_time is not None
    assert [n.template for n in outbox.for_recipient(engine, "person", 77)] == \
        ["case.decided", "case.received"]
    actions = [e["action"] for e in queries.events(engine, cid)]
    assert actions == ["open", "start", "submit_decision", "approve_decision"]
    with engine.connect() as conn:
        audited = {r.action for r in conn.execute(
            select(audit_log.c.action).where(audit_log.c.subject_id == str(cid)))}
    assert {"case.open", "case.submit_decision", "case.approve_decision"} <= audited


def test_checker_rejection_sends_it_back(engine):
    cid = _pension_case(engine)
    cases.submit_decision(engine, MAKER, cid, outcome="refused", reason="15 years not met")
    with pytest.raises(InputError, match="reason"):
        cases.reject_decision(engine, CHECKER, cid, reason=" ")
    c = cases.reject_decision(engine, CHECKER, cid, reason="recount the years")
    assert (c.status, c.outcome) == ("in_progress", None)


def test_waiting_for_documents_pauses_the_clock(engine):
    cid = _pension_case(engine, on=D(2026, 11, 2))
    due = queries.get(engine, cid).due_on
    cases.request_documents(engine, MAKER, cid, ["bank_card"])
    assert queries.get(engine, cid).overdue_on(D(2027, 6, 1)) is False   # waits for the applicant
    c = cases.resume(engine, CITIZEN, cid)
    assert c.status == "in_progress" and c.due_on >= due and c.paused_on is None
    assert [n.template for n in outbox.for_recipient(engine, "person", 77)] == \
        ["case.documents_requested", "case.received"]


def test_applicant_rights_and_scopes(engine):
    with pytest.raises(PermissionDenied, match="only for themselves"):
        _pension_case(engine, actor=STRANGER)
    cid = _pension_case(engine)
    did = cases.attach(engine, CITIZEN, cid, kind="bank_card", filename="C:\\scan\\card.pdf",
                       content=b"%PDF-1.4 card", content_type="application/pdf")
    assert queries.documents(engine, cid)[0]["filename"] == "card.pdf"
    assert queries.document_content(engine, did)[3] == b"%PDF-1.4 card"
    with pytest.raises(PermissionDenied):
        cases.attach(engine, STRANGER, cid, kind="x", filename="x.pdf", content=b"x")
    with pytest.raises(PermissionDenied):          # outside the clerk's district
        cases.start(engine, OTHER_DISTRICT, cid)
    with pytest.raises(PermissionDenied):          # wrong bureau's permission
        cases.start(engine, REG_CLERK, cid)
    with pytest.raises(PermissionDenied):
        access.access_case(engine, STRANGER, cid, "view")
    assert access.access_case(engine, CITIZEN, cid, "view").id == cid
    with pytest.raises(ConflictError, match="rated|cannot be rate"):
        cases.rate(engine, CITIZEN, cid, 5)        # not decided yet
    cases.withdraw(engine, CITIZEN, cid, "moved abroad")
    assert queries.get(engine, cid).status == "withdrawn"


def test_rating_once_reopen_and_on_time_report(engine):
    cid = cases.open_case(engine, REG_CLERK, item="registry.person_change", region="310104",
                          subject_type="person", subject_id=77, person_id=77,
                          outlet="310104-C01", opened_on=D(2026, 11, 2))
    late = cases.open_case(engine, REG_CLERK, item="registry.person_change", region="310104",
                           subject_type="person", subject_id=78, person_id=78,
                           outlet="310104-C01", opened_on=D(2026, 1, 5))
    cases.decide(engine, REG_CLERK, cid, outcome="recorded")
    with pytest.raises(PermissionDenied):
        cases.rate(engine, STRANGER, cid, 5)
    with pytest.raises(InputError):
        cases.rate(engine, CITIZEN, cid, 6)
    cases.rate(engine, CITIZEN, cid, 4, "quick")
    with pytest.raises(ConflictError, match="already"):
        cases.rate(engine, CITIZEN, cid, 5)
    report = queries.on_time(engine, D(2026, 1, 1), D(2026, 12, 31), region="310100",
                             today=D(2026, 12, 31))
    (line,) = report
    assert (line.item, line.outlet, line.opened, line.decided, line.ratings) == \
        ("registry.person_change", "310104-C01", 2, 1, 1)
    assert line.open_overdue == 1 and line.mean_rating == 4.0
    assert [c.id for c in queries.overdue(engine, D(2026, 12, 31), region="310104")] == [late]
    c = cases.reopen(engine, REG_CLERK, cid, "appeal: wrong date recorded")
    assert (c.status, c.outcome, c.decided_on) == ("in_progress", None, None)
    ev = queries.events(engine, cid)[-1]
    assert ev["detail"]["previous_outcome"] == "recorded"


def test_unknown_item_and_wrong_subject_refused(engine):
    with pytest.raises(InputError, match="no service item"):
        cases.open_case(engine, SYSTEM, item="nope", region="310104", subject_type="person",
                        subject_id=1)
    with pytest.raises(InputError, match="concerns a person"):
        cases.open_case(engine, SYSTEM, item="benefit.pension", region="310104",
                        subject_type="employer", subject_id=1, employer_id=1)
