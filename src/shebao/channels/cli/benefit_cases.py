"""``shebao benefit …``: benefit cases (unemployment, work injury, maternity, survivors), their
awards, life events, appeals, decision notices and the overdue list.

    shebao benefit apply --kind unemployment --person 42 --region 310104 \
        --facts '{"registered_on": "2025-08-10", "involuntary": true, "seeking_work": true}' \
        --actor clerk-a
    shebao benefit compute 17 [--facts '{…}'] --actor clerk-a     # checks + computation
    shebao benefit submit 17 --actor clerk-a                      # maker
    shebao benefit approve 17 --actor clerk-b                     # checker → award
    shebao benefit send-back 17 --reason "…" --actor clerk-b
    shebao benefit show 17 --actor clerk-a
    shebao benefit notice 17 --lang zh --out notice.pdf --actor clerk-a
    shebao benefit overdue --region 310104 [--on 2025-09-01] --actor clerk-a
    shebao benefit event --person 42 --event reemployment --date 2026-01-20 --actor clerk-a
    shebao benefit suspend|resume --person 42 --month 2025-09 [--back-pay] --reason "…"
    shebao benefit stop --person 42 --date 2025-08-20 --reason death --actor clerk-a
    shebao benefit awards --person 42 --actor clerk-a
    shebao benefit appeal 17 --grounds "…" --actor clerk-a
    shebao benefit review 23 --outcome changed --reason "…" [--facts '{…}'] --actor clerk-c
    shebao benefit approve-review 23 --actor clerk-d
    shebao benefit recover --recovery 3 --amount 1500.00 --actor clerk-a

Output is JSON on stdout; bad input or a refused account exits 2 with the reason.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer

from shebao.benefits import access as benefit_access
from shebao.benefits import appeals, awards, casework, recovery
from shebao.benefits.notices import decision_notice
from shebao.cases import access as case_access
from shebao.cases import queries as case_queries
from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.core.periods import parse_month
from shebao.rules import load_rules

from ..decision_pdf import notice_pdf
from .actor import ACTOR, engine_and_actor
from .common import out as _out

app = typer.Typer(no_args_is_help=True,
                  help="Benefit cases: apply, compute, approve, awards, events, appeals.")
WORK = "benefit.case.work"


def _facts(text: str | None) -> dict:
    if not text:
        return {}
    try:
        v = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", field="facts") from None
    if not isinstance(v, dict):
        raise InputError("facts must be a JSON object", field="facts")
    return v


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date YYYY-MM-DD", field=field) from None


def _month(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None


@app.command("apply")
def apply_cmd(kind: str = typer.Option(...), person: int = typer.Option(...),
              region: str = typer.Option(...), facts: str = typer.Option("{}"),
              actor: Optional[str] = ACTOR):
    """Open the case of a claim (a clerk at the counter)."""
    eng, who = engine_and_actor(actor, permission=WORK, region=region)
    _out({"case_id": casework.apply(eng, who, kind=kind, person_id=person, region=region,
                                    facts=_facts(facts))})


@app.command("compute")
def compute_cmd(case: int = typer.Argument(...), facts: Optional[str] = typer.Option(None),
                actor: Optional[str] = ACTOR):
    """Maker: check the claim against the records and compute it."""
    eng, who = engine_and_actor(actor, permission=WORK)
    case_access.access_case(eng, who, case, "benefit case work")
    _out(casework.compute(eng, who, case, _facts(facts)))


@app.command("submit")
def submit_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission=WORK)
    _out({"approval_id": casework.submit(eng, who, case)})


@app.command("approve")
def approve_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    """Checker: the decision takes effect (never by its maker); a granted claim's award."""
    eng, who = engine_and_actor(actor, permission="benefit.decision.approve")
    _out(casework.approve(eng, who, case))


@app.command("send-back")
def send_back_cmd(case: int = typer.Argument(...), reason: str = typer.Option(...),
                  actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.decision.approve")
    c = casework.send_back(eng, who, case, reason)
    _out({"case_id": case, "status": c.status})


def _case_json(c) -> dict:
    return {"id": c.id, "item": c.item, "region": c.region, "status": c.status,
            "person_id": c.person_id, "opened_on": c.opened_on.isoformat(),
            "due_on": c.due_on.isoformat(), "outcome": c.outcome,
            "decided_on": c.decided_on.isoformat() if c.decided_on else None,
            "parent_id": c.parent_id}


@app.command("show")
def show_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission=WORK)
    c = case_access.access_case(eng, who, case, "benefit case review")
    try:
        cl = casework.claim(eng, case)
    except InputError:
        cl = None
    _out({"case": _case_json(c), "claim": cl,
          "events": [{"at": str(e["at"]), "actor": e["actor"], "action": e["action"],
                      "to": e["to_status"]} for e in case_queries.events(eng, case)]})


@app.command("notice")
def notice_cmd(case: int = typer.Argument(...), lang: str = typer.Option("zh"),
               out: str = typer.Option(...), actor: Optional[str] = ACTOR):
    """The decision notice as a PDF (zh or en)."""
    eng, who = engine_and_actor(actor, permission=WORK)
    c = case_access.access_case(eng, who, case, "decision notice")
    if c.decided_on is None:
        raise InputError(f"case {case} is not decided", field="case")
    try:
        cl = casework.claim(eng, case)
    except InputError:
        cl = None
    data = notice_pdf(decision_notice(c, cl, lang, load_rules()))
    Path(out).write_bytes(data)
    _out({"case_id": case, "file": out, "bytes": len(data)})


@app.command("overdue")
def overdue_cmd(region: str = typer.Option(...), on: Optional[str] = typer.Option(None),
                actor: Optional[str] = ACTOR):
    """Open benefit cases past their statutory time limit (for supervisors)."""
    eng, who = engine_and_actor(actor, permission=WORK, region=region)
    day = _day(on, "on") if on else dt.date.today()
    rows = [c for c in case_queries.overdue(eng, day, region=region)
            if c.item.startswith("benefit.")]
    _out({"on": day.isoformat(), "overdue": [_case_json(c) | {
        "days_late": (day - c.due_on).days} for c in rows]})


@app.command("event")
def event_cmd(person: int = typer.Option(...), event: str = typer.Option(...),
              date: str = typer.Option(...), note: Optional[str] = typer.Option(None),
              actor: Optional[str] = ACTOR):
    """A stop event on an unemployment benefit (re-employment, refused work, …)."""
    eng, who = engine_and_actor(actor, permission=WORK)
    _out(casework.report_stop_event(eng, who, person, event, _day(date, "date"), note))


@app.command("suspend")
def suspend_cmd(person: int = typer.Option(...), month: str = typer.Option(...),
                reason: str = typer.Option(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.award.manage")
    _out({"suspended": awards.suspend_awards(eng, who, person, _month(month), reason)})


@app.command("resume")
def resume_cmd(person: int = typer.Option(...), month: str = typer.Option(...),
               reason: str = typer.Option(...), back_pay: bool = typer.Option(False),
               actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.award.manage")
    r = awards.resume_awards(eng, who, person, _month(month), back_pay, reason)
    _out({"awards": r.awards, "back_pay_fen": r.back_pay_fen, "months": r.months})


@app.command("stop")
def stop_cmd(person: int = typer.Option(...), date: str = typer.Option(...),
             reason: str = typer.Option(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.award.manage")
    r = awards.stop_awards(eng, who, person, _day(date, "date"), reason)
    _out({"awards": r.awards, "stopped_from": r.stopped_from.isoformat(),
          "recoveries": r.recoveries})


@app.command("awards")
def awards_cmd(person: int = typer.Option(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.read")
    benefit_access.require_person_awards(eng, who, person)
    _out([awards.award_json(a) for a in awards.awards_of(eng, person)])


@app.command("appeal")
def appeal_cmd(case: int = typer.Argument(...), grounds: str = typer.Option(...),
               actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission=WORK)
    _out({"appeal_id": appeals.file_appeal(eng, who, case, grounds)})


@app.command("review")
def review_cmd(appeal: int = typer.Argument(...), outcome: str = typer.Option(...),
               reason: str = typer.Option(...), facts: Optional[str] = typer.Option(None),
               actor: Optional[str] = ACTOR):
    """A different officer reviews the decision under appeal (upheld | changed)."""
    eng, who = engine_and_actor(actor, permission="benefit.appeal.review")
    _out(appeals.review(eng, who, appeal, outcome, reason, _facts(facts) or None))


@app.command("approve-review")
def approve_review_cmd(appeal: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="benefit.appeal.approve")
    _out(appeals.approve_review(eng, who, appeal))


@app.command("recover")
def recover_cmd(recovery_id: int = typer.Option(..., "--recovery"),
                amount: str = typer.Option(...), actor: Optional[str] = ACTOR):
    """An instalment received on a recovery."""
    eng, who = engine_and_actor(actor, permission="benefit.award.manage")
    try:
        fen = to_fen(amount)
    except (ValueError, ArithmeticError):
        raise InputError(f"{amount!r} is not an amount", field="amount") from None
    _out({"recovery_id": recovery_id,
          "status": recovery.record_instalment(eng, who, recovery_id, fen)})
