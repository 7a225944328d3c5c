"""Training on real databases: a course with courseware and a question bank; a timed exam with
random questions scored on submission; a certificate whose code verifies publicly; who is
due."""
import datetime as dt
import random

import pytest
from sqlalchemy import update

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.org import service as org
from shebao.security import service as sec
from shebao.training import model, queries, service
from shebao.training.tables import exam_attempt

ADMIN = Actor(id="admin-t", role="administrator", scope="310104")
CLERK = Actor(id="clerk-t", role="collection_clerk", scope="310104")
TODAY = dt.date.today()


@pytest.fixture
def course(engine):
    for u in ("clerk-t", "clerk-u"):
        sec.create_user(engine, SYSTEM, username=u, password="Long-enough-pass-77",
                        role="collection_clerk", scope="310104", display_name="张三丰")
    cid = service.create_course(engine, ADMIN, "SAR-101", "社会保险经办条例", exam_questions=3,
                                exam_minutes=20, pass_pct=60, validity_months=24)
    service.add_courseware(engine, ADMIN, cid, "markdown", "第一章", body="# 经办时限\n登记 10 个工作日")
    service.add_courseware(engine, ADMIN, cid, "video", "讲解视频", url="https://example.org/v.mp4")
    for n in range(5):
        service.add_question(engine, ADMIN, cid, f"问题 {n}", ["甲", "乙", "丙"], answer=n % 3)
    service.require_course(engine, ADMIN, cid, "collection_clerk")
    return engine, cid


def answer_all(engine, attempt, right: bool):
    """Pick, per shown question, the position of the right (or a wrong) original option."""
    from shebao.training.tables import question
    import json
    from sqlalchemy import select
    with engine.connect() as c:
        a = c.execute(select(exam_attempt).where(exam_attempt.c.id == attempt)).one()
        keys = dict(c.execute(select(question.c.id, question.c.answer)).all())
    out = []
    for q, order in zip(json.loads(a.question_ids), json.loads(a.option_orders)):
        pos = order.index(keys[q])
        out.append(pos if right else (pos + 1) % len(order))
    return out


def test_exam_pass_issues_a_verifiable_certificate(course):
    engine, cid = course
    aid = service.start_exam(engine, CLERK, cid, rng=random.Random(7))
    shown = queries.exam(engine, CLERK, aid)
    assert len(shown["questions"]) == 3 and "answer" not in shown["questions"][0]
    assert service.start_exam(engine, CLERK, cid) == aid        # the open attempt is resumed
    with pytest.raises(PermissionDenied):
        queries.exam(engine, Actor(id="clerk-u", role="collection_clerk", scope="310104"), aid)
    res = service.submit_exam(engine, CLERK, aid, answer_all(engine, aid, True))
    assert (res["correct"], res["total"], res["pct"], res["passed"]) == (3, 3, 100, True)
    v = queries.verify(engine, res["certificate"].lower(), TODAY)
    assert v["status"] == "valid" and v["holder"] == "张**" and v["course_code"] == "SAR-101"
    # valid for 24 months, through the day before the same date two years on
    assert v["valid_until"] == model.add_months(v["issued_on"], 24) - dt.timedelta(days=1)
    assert queries.verify(engine, "NOPE", TODAY)["status"] == "unknown"
    with pytest.raises(ConflictError):
        service.submit_exam(engine, CLERK, aid, [0, 0, 0])
    service.revoke_certificate(engine, ADMIN, res["certificate"], "舞弊")
    assert queries.verify(engine, res["certificate"], TODAY)["status"] == "revoked"


def test_a_fail_and_a_late_submission_issue_nothing(course):
    engine, cid = course
    aid = service.start_exam(engine, CLERK, cid)
    res = service.submit_exam(engine, CLERK, aid, answer_all(engine, aid, False))
    assert (res["pct"], res["passed"], res["certificate"]) == (0, False, None)
    aid2 = service.start_exam(engine, CLERK, cid)
    assert aid2 != aid
    with engine.begin() as c:   # the clock ran out
        c.execute(update(exam_attempt).where(exam_attempt.c.id == aid2).values(
            deadline_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
    res = service.submit_exam(engine, CLERK, aid2, answer_all(engine, aid2, True))
    assert res["late"] is True and res["passed"] is False and res["certificate"] is None
    with pytest.raises(InputError):
        service.submit_exam(engine, CLERK, service.start_exam(engine, CLERK, cid), [0])


def test_who_is_due(course):
    engine, cid = course
    due = queries.due_report(engine, ADMIN, TODAY)
    assert {(d["username"], d["status"]) for d in due} >= {("clerk-t", "missing"),
                                                           ("clerk-u", "missing")}
    aid = service.start_exam(engine, CLERK, cid)
    service.submit_exam(engine, CLERK, aid, answer_all(engine, aid, True))
    due = queries.due_report(engine, ADMIN, TODAY)
    assert "clerk-t" not in {d["username"] for d in due}
    # a clerk sees only themself; an outlet head their outlet
    assert queries.due_report(engine, Actor(id="clerk-u", role="collection_clerk",
                                            scope="310104"), TODAY)[0]["username"] == "clerk-u"
    org.add_outlet(engine, ADMIN, "O1", "窗口", "counter", "310104")
    org.assign(engine, ADMIN, "clerk-t", "O1", "operational", valid_from=TODAY, is_head=True)
    org.assign(engine, ADMIN, "clerk-u", "O1", "operational", valid_from=TODAY)
    seen = queries.due_report(engine, CLERK, TODAY)
    assert {d["username"] for d in seen} == {"clerk-u"}
