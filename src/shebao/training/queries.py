"""Training reads for the channels: courses and their courseware, an exam as the taker sees it
(never the keys), certificates, the public verification of a code and who is due."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.uow import reading
from shebao.org import queries as org_queries
from shebao.security import policy
from shebao.security import queries as security_queries

from . import model
from .tables import (certificate, course, course_requirement, courseware, exam_attempt,
                     question)


def courses(bind) -> list[dict]:
    with reading(bind) as conn:
        req: dict[int, list[str]] = {}
        for r in conn.execute(select(course_requirement)):
            req.setdefault(r.course_id, []).append(r.role)
        nq = dict(conn.execute(select(question.c.course_id, func.count()).where(
            question.c.active.is_(True)).group_by(question.c.course_id)).all())
        return [{**dict(r._mapping), "required_for": sorted(req.get(r.id, [])),
                 "bank_size": int(nq.get(r.id, 0))}
                for r in conn.execute(select(course).order_by(course.c.code))]


def course_detail(bind, course_id: int) -> dict:
    c = next((c for c in courses(bind) if c["id"] == course_id), None)
    if c is None:
        raise InputError(f"no course {course_id}", field="course_id")
    with reading(bind) as conn:
        c["courseware"] = [dict(r._mapping) for r in conn.execute(
            select(courseware).where(courseware.c.course_id == course_id)
            .order_by(courseware.c.position))]
    return c


def exam(bind, actor: Actor, attempt_id: int) -> dict:
    """The attempt as its taker sees it: questions in the drawn order with options shuffled;
    after submission, the result. Only the taker may see it."""
    with reading(bind) as conn:
        a = conn.execute(select(exam_attempt).where(exam_attempt.c.id == attempt_id)).first()
        if a is None or a.username != actor.id:
            raise PermissionDenied(f"{actor.id} has no exam attempt {attempt_id}")
        qids, orders = json.loads(a.question_ids), json.loads(a.option_orders)
        qs = {r.id: r for r in conn.execute(select(question).where(question.c.id.in_(qids)))}
        c = conn.execute(select(course).where(course.c.id == a.course_id)).first()
        cert = conn.execute(select(certificate.c.code).where(
            certificate.c.attempt_id == attempt_id)).scalar()
    shown = []
    for n, (q, order) in enumerate(zip(qids, orders), 1):
        opts = json.loads(qs[q].options)
        shown.append({"n": n, "text": qs[q].text, "options": [opts[i] for i in order]})
    return {"id": a.id, "course_id": a.course_id, "course_code": c.code, "course": c.title,
            "started_at": a.started_at, "deadline_at": a.deadline_at,
            "minutes": c.exam_minutes, "pass_pct": c.pass_pct,
            "submitted": a.submitted_at is not None, "questions": shown,
            "correct": a.correct, "score_pct": a.score_pct, "passed": a.passed, "late": a.late,
            "certificate": cert}


def certificates_of(bind, username: str) -> list[dict]:
    with reading(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(certificate, course.c.code.label("course_code"),
                   course.c.title.label("course_title"))
            .select_from(certificate.join(course, course.c.id == certificate.c.course_id))
            .where(certificate.c.username == username).order_by(certificate.c.id.desc()))]


def certificate_by_code(bind, code: str) -> dict | None:
    with reading(bind) as conn:
        r = conn.execute(select(certificate, course.c.code.label("course_code"),
                                course.c.title.label("course_title"))
                         .select_from(certificate.join(course,
                                                       course.c.id == certificate.c.course_id))
                         .where(certificate.c.code == model.normalise_code(code))).first()
    return dict(r._mapping) if r else None


def _mask(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)


def verify(bind, code: str, on: dt.date) -> dict:
    """The public answer for a code: valid / expired / revoked / unknown, with the course,
    the dates and the holder's name masked (no account name)."""
    c = certificate_by_code(bind, code)
    if c is None:
        return {"status": "unknown", "code": model.normalise_code(code)}
    status = "revoked" if c["revoked"] else "expired" if c["valid_until"] < on else "valid"
    return {"status": status, "code": c["code"], "course": c["course_title"],
            "course_code": c["course_code"], "holder": _mask(c["holder_name"]),
            "issued_on": c["issued_on"], "valid_until": c["valid_until"]}


def due_report(bind, actor: Actor, on: dt.date, warn_days: int = 30) -> list[dict]:
    """Staff accounts (an administrator: in scope; an outlet head: of the outlet; a clerk:
    themself) who lack a required course on ``on``: missing,
    expired or expiring within ``warn_days``."""
    policy.require(actor, "training.take")
    with reading(bind) as conn:
        req: dict[str, set[int]] = {}
        for r in conn.execute(select(course_requirement.c.role, course_requirement.c.course_id)
                              .join(course, course.c.id == course_requirement.c.course_id)
                              .where(course.c.active.is_(True))):
            req.setdefault(r.role, set()).add(r.course_id)
        codes = dict(conn.execute(select(course.c.id, course.c.code)).all())
        best: dict[tuple[str, int], dt.date] = {}
        for r in conn.execute(select(certificate.c.username, certificate.c.course_id,
                                     func.max(certificate.c.valid_until))
                              .where(certificate.c.revoked.is_(False))
                              .group_by(certificate.c.username, certificate.c.course_id)):
            best[(r[0], r[1])] = r[2]
        people = security_queries.accounts_by_role(conn, req)
        mine = org_queries.outlet_of(conn, actor.id, on)
        team = ({a["username"] for a in org_queries.assignments(conn, on=on,
                                                               outlet_code=mine["outlet"])}
                if mine and mine["is_head"] else set())
    out = []
    for p in people:
        if not (actor.role == "system" or regions.within(p["scope"], actor.scope)):
            continue
        if actor.role not in ("administrator", "system") and p["username"] != actor.id \
                and p["username"] not in team:
            continue   # a clerk sees themself, an outlet head their outlet, an administrator
            #            everyone in scope
        lacking = model.due(req.get(p["role"], set()),
                            {c: best[(p["username"], c)] for c in req.get(p["role"], set())
                             if (p["username"], c) in best}, on, warn_days)
        for cid, why in lacking.items():
            out.append({"username": p["username"], "role": p["role"], "scope": p["scope"],
                        "course_id": cid, "course_code": codes.get(cid), "status": why,
                        "valid_until": best.get((p["username"], cid))})
    return out
