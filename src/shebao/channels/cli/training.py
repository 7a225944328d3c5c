"""``shebao training …``: courses, courseware, question banks, required courses, who is due,
certificate verification.

    shebao training course-create --code SAR-101 --title 社会保险经办条例 --questions 5 \
        --minutes 20 --pass 60 --months 24 --actor admin
    shebao training courseware-add --course 1 --kind markdown --title 第一章 --file ch1.md --actor admin
    shebao training questions-import --course 1 --file bank.csv --actor admin
        (CSV columns: text, answer (1-based), option1, option2, … ; UTF-8)
    shebao training require --course 1 --role collection_clerk --actor admin
    shebao training due --actor admin [--on 2026-12-31]
    shebao training verify CODE                       valid / expired / revoked / unknown
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from shebao.core.errors import InputError
from shebao.db.engine import make_engine
from shebao.db.uow import transaction
from shebao.training import queries, service

from .actor import ACTOR, engine_and_actor
from .common import out

app = typer.Typer(no_args_is_help=True, help="Training: courses, exams, certificates.")


@app.command("course-create")
def course_create(code: str = typer.Option(...), title: str = typer.Option(...),
                  description: str = "", questions: int = typer.Option(...),
                  minutes: int = typer.Option(...), pass_pct: int = typer.Option(..., "--pass"),
                  months: int = typer.Option(24, help="certificate validity"),
                  actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="training.manage")
    out({"id": service.create_course(engine, who, code, title, description=description,
                                     exam_questions=questions, exam_minutes=minutes,
                                     pass_pct=pass_pct, validity_months=months)})


@app.command("courseware-add")
def courseware_add(course: int = typer.Option(...), kind: str = typer.Option(...),
                   title: str = typer.Option(...), file: Optional[Path] = None,
                   url: Optional[str] = None, actor: str = ACTOR):
    """Markdown from a file, or a PDF / video link."""
    engine, who = engine_and_actor(actor, permission="training.manage")
    body = file.read_text(encoding="utf-8") if file else None
    out({"id": service.add_courseware(engine, who, course, kind, title, body=body, url=url)})


@app.command("questions-import")
def questions_import(course: int = typer.Option(...), file: Path = typer.Option(...),
                     actor: str = ACTOR):
    """A question bank from CSV (text, answer 1-based, option1, option2, …): all or nothing."""
    engine, who = engine_and_actor(actor, permission="training.manage")
    rows = list(csv.reader(file.read_text(encoding="utf-8-sig").splitlines()))
    if rows and rows[0] and rows[0][0].strip().lower() == "text":
        rows = rows[1:]
    n = 0
    with transaction(engine) as conn:
        for i, r in enumerate(rows, 1):
            if len(r) < 4 or not r[1].strip().isdigit():
                raise InputError("need text, answer (1-based) and two options or more",
                                 file=file.name, row=i)
            service.add_question(conn, who, course, r[0], r[2:], int(r[1]) - 1)
            n += 1
    out({"imported": n})


@app.command("require")
def require(course: int = typer.Option(...), role: str = typer.Option(...), actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="training.manage")
    service.require_course(engine, who, course, role)
    out({"course": course, "role": role})


@app.command("courses")
def courses():
    out(queries.courses(make_engine()))


@app.command("due")
def due(on: Optional[str] = None, warn_days: int = 30, actor: str = ACTOR):
    """Who lacks a required course (missing, expired, expiring within --warn-days)."""
    engine, who = engine_and_actor(actor, permission="training.take")
    out(queries.due_report(engine, who, dt.date.fromisoformat(on) if on else dt.date.today(),
                           warn_days))


@app.command("verify")
def verify(code: str):
    """Verify a certificate's code (public: no account needed)."""
    res = queries.verify(make_engine(), code, dt.date.today())
    out(res)
    raise typer.Exit(0 if res["status"] == "valid" else 1)
