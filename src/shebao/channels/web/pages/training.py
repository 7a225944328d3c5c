"""Training pages: every staff member's courses (courseware, a timed exam with random questions,
the result and the certificate as PDF); the administrator's course, courseware, question bank
and required-course forms and the who-is-due list; the public certificate verification."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import Response

from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.uow import now
from shebao.security import policy
from shebao.security.service import User
from shebao.training import queries, service

from ...admin_pdf import certificate_pdf
from ..deps import engine, optional_user
from ..render import render
from .common import RecordId, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/training", "Training", 85, "training.take")]}
_MD = MarkdownIt("commonmark", {"html": False})      # courseware: no raw HTML, ever
ERRORS = (InputError, ConflictError, PermissionDenied)


def _status(exc) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 409 if isinstance(exc, ConflictError) \
        else 422


def _today() -> dt.date:
    return now().date()


@router.get("/staff/training")
def home(request: Request, user: User = Depends(user_with("training.take")),
         eng=Depends(engine)):
    return _home(request, user, eng)


def _home(request, user, eng, errors=None, values=None, code=200, flash=None):
    actor = user.actor()
    today = _today()
    mine = {c["course_id"]: c for c in queries.certificates_of(eng, user.username)
            if not c["revoked"]}
    return render(request, "staff/training.html", {
        "user": user, "courses": queries.courses(eng), "mine": mine, "today": today,
        "due": queries.due_report(eng, actor, today), "errors": errors or {},
        "values": values or {}, "flash": flash,
        "manage": policy.has(actor, "training.manage"),
        "roles": policy.STAFF_ROLES}, status=code)


def _int(f: dict, name: str, errors: dict) -> int | None:
    v = f.get(name, "")
    if not v.isdigit() or len(v) > 6:
        errors[name] = "a whole number"
        return None
    return int(v)


@router.post("/staff/training/courses")
async def create_course(request: Request, user: User = Depends(user_with("training.manage")),
                        eng=Depends(engine)):
    f = await form(request)
    errors: dict = {}
    nums = {k: _int(f, k, errors) for k in ("exam_questions", "exam_minutes", "pass_pct",
                                            "validity_months")}
    if errors:
        return _home(request, user, eng, errors, f, 422)
    try:
        cid = service.create_course(eng, user.actor(), f.get("code", ""), f.get("title", ""),
                                    description=f.get("description", ""), **nums)
    except ERRORS as exc:
        return _home(request, user, eng, {getattr(exc, "field", None) or "_form": str(exc)},
                     f, _status(exc))
    return redirect(request, f"/staff/training/{cid}")


@router.get("/staff/training/{course_id}")
def course_page(request: Request, course_id: RecordId,
                user: User = Depends(user_with("training.take")), eng=Depends(engine)):
    return _course(request, user, eng, course_id)


def _course(request, user, eng, course_id, errors=None, values=None, code=200, flash=None):
    c = queries.course_detail(eng, course_id)
    for w in c["courseware"]:
        w["html"] = Markup(_MD.render(w["body"])) if w["kind"] == "markdown" else None
    return render(request, "staff/training_course.html", {
        "user": user, "c": c, "errors": errors or {}, "values": values or {}, "flash": flash,
        "manage": policy.has(user.actor(), "training.manage"), "roles": policy.STAFF_ROLES},
        status=code)


@router.post("/staff/training/{course_id}/courseware")
async def add_courseware(request: Request, course_id: RecordId,
                         user: User = Depends(user_with("training.manage")),
                         eng=Depends(engine)):
    f = await form(request)
    try:
        service.add_courseware(eng, user.actor(), course_id, f.get("kind", ""),
                               f.get("title", ""), body=f.get("body") or None,
                               url=f.get("url") or None)
    except ERRORS as exc:
        return _course(request, user, eng, course_id,
                       {getattr(exc, "field", None) or "_form": str(exc)}, f, _status(exc))
    return redirect(request, f"/staff/training/{course_id}")


@router.post("/staff/training/{course_id}/questions")
async def add_question(request: Request, course_id: RecordId,
                       user: User = Depends(user_with("training.manage")),
                       eng=Depends(engine)):
    f = await form(request)
    options = [line for line in f.get("options", "").splitlines() if line.strip()]
    ans = f.get("answer", "")
    try:
        if not ans.isdigit():
            raise InputError("the number of the right option (1, 2, …)", field="answer")
        service.add_question(eng, user.actor(), course_id, f.get("text", ""), options,
                             int(ans) - 1)
    except ERRORS as exc:
        return _course(request, user, eng, course_id,
                       {getattr(exc, "field", None) or "_form": str(exc)}, f, _status(exc))
    return redirect(request, f"/staff/training/{course_id}")


@router.post("/staff/training/{course_id}/require")
async def require(request: Request, course_id: RecordId,
                  user: User = Depends(user_with("training.manage")), eng=Depends(engine)):
    f = await form(request)
    try:
        service.require_course(eng, user.actor(), course_id, f.get("role", ""))
    except ERRORS as exc:
        return _course(request, user, eng, course_id,
                       {getattr(exc, "field", None) or "_form": str(exc)}, f, _status(exc))
    return redirect(request, f"/staff/training/{course_id}")


@router.post("/staff/training/{course_id}/exam")
def start_exam(request: Request, course_id: RecordId,
               user: User = Depends(user_with("training.take")), eng=Depends(engine)):
    try:
        aid = service.start_exam(eng, user.actor(), course_id)
    except ERRORS as exc:
        return _course(request, user, eng, course_id, {"_form": str(exc)}, None, _status(exc))
    return redirect(request, f"/staff/training/exams/{aid}")


@router.get("/staff/training/exams/{attempt_id}")
def exam_page(request: Request, attempt_id: RecordId,
              user: User = Depends(user_with("training.take")), eng=Depends(engine)):
    return _exam(request, user, eng, attempt_id)


def _exam(request, user, eng, attempt_id, errors=None, code=200):
    e = queries.exam(eng, user.actor(), attempt_id)
    deadline = e["deadline_at"]
    if isinstance(deadline, str):
        deadline = dt.datetime.fromisoformat(deadline)
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.timezone.utc)
    left = max(int((deadline - now()).total_seconds()), 0)
    return render(request, "staff/training_exam.html", {
        "user": user, "e": e, "seconds_left": left, "errors": errors or {}}, status=code)


@router.post("/staff/training/exams/{attempt_id}")
async def submit_exam(request: Request, attempt_id: RecordId,
                      user: User = Depends(user_with("training.take")), eng=Depends(engine)):
    f = await form(request)
    e = queries.exam(eng, user.actor(), attempt_id)
    answers: list[int | None] = []
    for q in e["questions"]:
        v = f.get(f"q{q['n']}", "")
        answers.append(int(v) if v.isdigit() and int(v) < len(q["options"]) else None)
    try:
        service.submit_exam(eng, user.actor(), attempt_id, answers)
    except ERRORS as exc:
        return _exam(request, user, eng, attempt_id, {"_form": str(exc)}, _status(exc))
    return redirect(request, f"/staff/training/exams/{attempt_id}")


@router.get("/staff/training/certificates/{code}.pdf")
def certificate_download(code: str, user: User = Depends(user_with("training.take")),
                         eng=Depends(engine)):
    c = queries.certificate_by_code(eng, code)
    if c is None or (c["username"] != user.username
                     and not policy.has(user.actor(), "training.manage")):
        raise PermissionDenied(f"{user.username} holds no certificate {code}")
    return Response(certificate_pdf(c), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{c["code"]}.pdf"'})


@router.get("/verify")
def verify(request: Request, code: str = "", user: User | None = Depends(optional_user),
           eng=Depends(engine)):
    """Public: anyone holding a certificate's code may check it (no sign-in)."""
    res = queries.verify(eng, code[:40], _today()) if code else None
    return render(request, "verify.html", {"user": user, "res": res, "code": code[:40]})
