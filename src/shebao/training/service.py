"""Training use cases: courses, courseware, question banks, required courses per role; a staff
member's timed exam (random questions, shuffled options, scored on submission, a certificate
with a verification code when passed). One transaction and one audit record each."""
from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import select

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.uow import now, transaction
from shebao.security import audit, policy
from shebao.security import queries as security_queries

from . import model
from .tables import (certificate, course, course_requirement, courseware, exam_attempt,
                     question)

_RNG = random.SystemRandom()


def _text(value, what: str, limit: int) -> str:
    v = (value or "").strip()
    if not v or len(v) > limit:
        raise InputError(f"{what}: 1–{limit} characters", field=what)
    return v


def create_course(db, actor: Actor, code: str, title: str, *, description: str = "",
                  exam_questions: int, exam_minutes: int, pass_pct: int,
                  validity_months: int) -> int:
    policy.require(actor, "training.manage")
    code = _text(code, "code", 32)
    for name, v, lo, hi in (("exam_questions", exam_questions, 1, 200),
                            ("exam_minutes", exam_minutes, 1, 600),
                            ("pass_pct", pass_pct, 1, 100),
                            ("validity_months", validity_months, 1, 120)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InputError(f"{name} must be a whole number {lo}–{hi}", field=name)
    with transaction(db) as conn:
        if conn.execute(select(course.c.id).where(course.c.code == code)).first():
            raise ConflictError(f"course {code} exists")
        cid = conn.execute(course.insert().values(
            code=code, title=_text(title, "title", 200), description=description or "",
            exam_questions=exam_questions, exam_minutes=exam_minutes, pass_pct=pass_pct,
            validity_months=validity_months, active=True, created_by=actor.id,
            created_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "training.course.create", "course", cid, detail={"code": code})
    return int(cid)


def add_courseware(db, actor: Actor, course_id: int, kind: str, title: str, *,
                   body: str | None = None, url: str | None = None) -> int:
    policy.require(actor, "training.manage")
    if kind not in model.COURSEWARE_KINDS:
        raise InputError(f"kind must be one of {', '.join(model.COURSEWARE_KINDS)}", field="kind")
    if kind == "markdown" and not (body or "").strip():
        raise InputError("Markdown courseware needs its text", field="body")
    if kind != "markdown" and not (url or "").startswith(("https://", "http://", "/")):
        raise InputError("PDF and video courseware need a link (https://… or /…)", field="url")
    with transaction(db) as conn:
        _course(conn, course_id)
        n = len(conn.execute(select(courseware.c.id).where(
            courseware.c.course_id == course_id)).all())
        wid = conn.execute(courseware.insert().values(
            course_id=course_id, position=n + 1, kind=kind, title=_text(title, "title", 200),
            body=body if kind == "markdown" else None,
            url=url if kind != "markdown" else None)).inserted_primary_key[0]
        audit.record(conn, actor, "training.courseware.add", "course", course_id,
                     detail={"courseware": wid, "kind": kind})
    return int(wid)


def add_question(db, actor: Actor, course_id: int, text: str, options: list[str],
                 answer: int) -> int:
    policy.require(actor, "training.manage")
    opts = [o.strip() for o in options if o and o.strip()]
    if len(opts) < 2:
        raise InputError("a question needs at least two options", field="options")
    if not isinstance(answer, int) or not 0 <= answer < len(opts):
        raise InputError("the answer must be the index of one of the options", field="answer")
    with transaction(db) as conn:
        _course(conn, course_id)
        qid = conn.execute(question.insert().values(
            course_id=course_id, text=_text(text, "text", 2000),
            options=json.dumps(opts, ensure_ascii=False), answer=answer,
            active=True)).inserted_primary_key[0]
        audit.record(conn, actor, "training.question.add", "course", course_id,
                     detail={"question": qid})
    return int(qid)


def require_course(db, actor: Actor, course_id: int, role: str) -> None:
    """Make a course required for every account of ``role`` (idempotent)."""
    policy.require(actor, "training.manage")
    if role not in policy.STAFF_ROLES:
        raise InputError(f"role must be a staff role ({', '.join(policy.STAFF_ROLES)})",
                         field="role")
    with transaction(db) as conn:
        _course(conn, course_id)
        if not conn.execute(select(course_requirement.c.id).where(
                course_requirement.c.course_id == course_id,
                course_requirement.c.role == role)).first():
            conn.execute(course_requirement.insert().values(course_id=course_id, role=role))
        audit.record(conn, actor, "training.course.require", "course", course_id,
                     detail={"role": role})


def _course(conn, course_id: int):
    c = conn.execute(select(course).where(course.c.id == course_id)).first()
    if c is None:
        raise InputError(f"no course {course_id}", field="course_id")
    return c


def start_exam(db, actor: Actor, course_id: int, rng: random.Random | None = None) -> int:
    """Draw the exam's questions at random; the clock runs from now for the course's minutes.
    An attempt still open (not submitted, before its deadline) is returned instead."""
    policy.require(actor, "training.take")
    with transaction(db) as conn:
        c = _course(conn, course_id)
        if not c.active:
            raise InputError(f"course {c.code} is closed", field="course_id")
        t = now()
        for a in conn.execute(select(exam_attempt).where(
                exam_attempt.c.username == actor.id, exam_attempt.c.course_id == course_id,
                exam_attempt.c.submitted_at.is_(None))):
            if _utc(a.deadline_at) > t:
                return int(a.id)
        bank = {r.id: len(json.loads(r.options)) for r in conn.execute(
            select(question.c.id, question.c.options).where(
                question.c.course_id == course_id, question.c.active.is_(True)))}
        drawn = model.draw(bank, c.exam_questions, rng or _RNG)
        aid = conn.execute(exam_attempt.insert().values(
            course_id=course_id, username=actor.id, started_at=t,
            deadline_at=t + dt.timedelta(minutes=c.exam_minutes),
            question_ids=json.dumps(drawn.question_ids),
            option_orders=json.dumps(drawn.option_orders))).inserted_primary_key[0]
        audit.record(conn, actor, "training.exam.start", "exam_attempt", aid,
                     detail={"course": c.code, "questions": len(drawn.question_ids)})
    return int(aid)


def _utc(v: dt.datetime) -> dt.datetime:
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)


def submit_exam(db, actor: Actor, attempt_id: int, shown_answers: list[int | None]) -> dict:
    """Score the attempt. ``shown_answers``: per question (in the order shown) the position
    of the chosen option as shown, or None. Late submissions are recorded and fail. A pass
    issues a certificate valid for the course's months."""
    policy.require(actor, "training.take")
    with transaction(db) as conn:
        a = conn.execute(select(exam_attempt).where(exam_attempt.c.id == attempt_id)).first()
        if a is None or a.username != actor.id:
            raise PermissionDenied(f"{actor.id} has no exam attempt {attempt_id}")
        if a.submitted_at is not None:
            raise ConflictError(f"exam attempt {attempt_id} was already submitted")
        c = _course(conn, a.course_id)
        qids, orders = json.loads(a.question_ids), json.loads(a.option_orders)
        if len(shown_answers) != len(qids):
            raise InputError("one answer per question", field="answers")
        keys_by_id = {r.id: r.answer for r in conn.execute(
            select(question.c.id, question.c.answer).where(question.c.id.in_(qids)))}
        chosen = []
        for pos, order in zip(shown_answers, orders):
            if pos is not None and not (isinstance(pos, int) and 0 <= pos < len(order)):
                raise InputError("an answer is not one of the options shown", field="answers")
            chosen.append(None if pos is None else order[pos])
        t = now()
        late = model.is_late(t, _utc(a.deadline_at))
        s = model.score(chosen, [keys_by_id[q] for q in qids], c.pass_pct)
        passed = s.passed and not late
        conn.execute(exam_attempt.update().where(exam_attempt.c.id == attempt_id).values(
            answers=json.dumps(chosen), submitted_at=t, correct=s.correct, score_pct=s.pct,
            passed=passed, late=late))
        cert = None
        if passed:
            acct = security_queries.account(conn, actor.id) or {}
            cert = model.new_code()
            issued = t.date()
            conn.execute(certificate.insert().values(
                attempt_id=attempt_id, course_id=c.id, username=actor.id,
                holder_name=acct.get("display_name") or actor.id, code=cert, issued_on=issued,
                valid_until=model.add_months(issued, c.validity_months) - dt.timedelta(days=1),
                revoked=False))
        audit.record(conn, actor, "training.exam.submit", "exam_attempt", attempt_id,
                     detail={"course": c.code, "correct": s.correct, "total": s.total,
                             "pct": s.pct, "passed": passed, "late": late,
                             "certificate": bool(cert)})
    return {"attempt_id": attempt_id, "correct": s.correct, "total": s.total, "pct": s.pct,
            "pass_pct": c.pass_pct, "passed": passed, "late": late, "certificate": cert}


def revoke_certificate(db, actor: Actor, code: str, reason: str) -> None:
    policy.require(actor, "training.manage")
    if not (reason or "").strip():
        raise InputError("give the reason", field="reason")
    with transaction(db) as conn:
        n = conn.execute(certificate.update().where(
            certificate.c.code == model.normalise_code(code)).values(revoked=True)).rowcount
        if not n:
            raise InputError(f"no certificate {code}", field="code")
        audit.record(conn, actor, "training.certificate.revoke", "certificate", code,
                     detail={"reason": reason.strip()[:200]})
