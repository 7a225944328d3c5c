"""``shebao supervision …``: the inspector's casework from the command line.

    shebao supervision inspect --alert 12 --actor INSPECTOR          open a case from an alert
    shebao supervision inspect --subject employer:42 --region 310104 --complaint "…"
    shebao supervision record CASE [--plan …] [--findings …]
    shebao supervision decide CASE --decision recover|back_assess|fine|refer|none [--amount Y]
                              [--multiple 3] [--due-since DATE] [--refer-to …]
    shebao supervision approve CASE --actor OTHER_INSPECTOR            (four eyes)
    shebao supervision blacklist propose --subject person:7 --region R --ground benefit_fraud
                              --fact amount_yuan=15000
    shebao supervision blacklist {notify|submit|approve|publish|remove|list} …
    shebao supervision arrears {open|notice|escalate|enforce|settle|list} …
"""
from __future__ import annotations

import datetime as dt
import json
from typing import List, Optional

import typer

from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.core.regions import NATIONAL

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Supervision: inspections, blacklist, arrears cases.")
blacklist_app = typer.Typer(no_args_is_help=True, help="Serious-untrustworthiness list.")
arrears_app = typer.Typer(no_args_is_help=True, help="Arrears enforcement cases.")
app.add_typer(blacklist_app, name="blacklist")
app.add_typer(arrears_app, name="arrears")
WORK = "supervision.case.work"


def _subject(text: str) -> tuple[str, int]:
    kind, _, ident = (text or "").partition(":")
    if kind not in ("person", "employer") or not ident.isdigit():
        raise InputError("subject is person:ID or employer:ID", field="subject")
    return kind, int(ident)


def _out(obj) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, default=str))


@app.command("inspect")
def inspect_cmd(alert: Optional[int] = typer.Option(None), subject: Optional[str] = typer.Option(None),
                region: Optional[str] = typer.Option(None), complaint: Optional[str] = typer.Option(None),
                assign: Optional[str] = typer.Option(None), actor: str = ACTOR):
    """Open an inspection case from an alert or a complaint."""
    from shebao.supervision import inspection
    engine, who = engine_and_actor(actor, permission=WORK)
    st, sid = _subject(subject) if subject else (None, None)
    _out({"case_id": inspection.open_inspection(
        engine, who, alert_id=alert, subject_type=st, subject_id=sid, region=region,
        complaint=complaint, assign_to=assign)})


@app.command("record")
def record_cmd(case: int, plan: Optional[str] = typer.Option(None),
               findings: Optional[str] = typer.Option(None), actor: str = ACTOR):
    from shebao.supervision import inspection
    engine, who = engine_and_actor(actor, permission=WORK)
    inspection.record(engine, who, case, plan=plan, findings=findings)
    _out({"case_id": case, "recorded": True})


@app.command("decide")
def decide_cmd(case: int, decision: str = typer.Option(...),
               amount: Optional[str] = typer.Option(None, help="yuan"),
               multiple: Optional[str] = typer.Option(None), due_since: Optional[str] = typer.Option(None),
               refer_to: Optional[str] = typer.Option(None), reason: Optional[str] = typer.Option(None),
               actor: str = ACTOR):
    """Propose the decision (a second inspector approves it)."""
    from shebao.supervision import inspection
    engine, who = engine_and_actor(actor, permission=WORK)
    aid = inspection.propose_decision(
        engine, who, case, decision=decision, amount_fen=to_fen(amount) if amount else 0,
        fine_multiple=multiple, due_since=dt.date.fromisoformat(due_since) if due_since else None,
        refer_to=refer_to, reason=reason)
    _out({"case_id": case, "approval_id": aid})


@app.command("approve")
def approve_cmd(case: int, actor: str = ACTOR):
    from shebao.supervision import inspection
    engine, who = engine_and_actor(actor, permission="supervision.decision.approve")
    _out(inspection.approve(engine, who, case))


@blacklist_app.command("propose")
def bl_propose(subject: str = typer.Option(...), region: str = typer.Option(...),
               ground: str = typer.Option(...), fact: Optional[List[str]] = typer.Option(None),
               case: Optional[int] = typer.Option(None), actor: str = ACTOR):
    from shebao.supervision import blacklist
    st, sid = _subject(subject)
    facts = dict(f.split("=", 1) for f in (fact or []) if "=" in f)
    engine, who = engine_and_actor(actor, permission=WORK, region=region)
    _out({"entry_id": blacklist.propose(engine, who, subject_type=st, subject_id=sid,
                                        region=region, ground=ground, facts=facts, case_id=case)})


@blacklist_app.command("step")
def bl_step(action: str, entry: int, reason: Optional[str] = typer.Option(None), actor: str = ACTOR):
    """notify | submit | approve | reject | decline | publish | remove ENTRY."""
    from shebao.supervision import blacklist
    fns = {"notify": lambda e, w: blacklist.notify(e, w, entry),
           "submit": lambda e, w: {"approval_id": blacklist.submit(e, w, entry, reason)},
           "approve": lambda e, w: blacklist.approve(e, w, entry),
           "reject": lambda e, w: blacklist.reject(e, w, entry, reason or ""),
           "decline": lambda e, w: blacklist.decline(e, w, entry, reason or ""),
           "publish": lambda e, w: blacklist.publish(e, w, entry),
           "remove": lambda e, w: blacklist.remove(e, w, entry, reason or "")}
    if action not in fns:
        raise InputError(f"action is one of {', '.join(fns)}", field="action")
    engine, who = engine_and_actor(actor, permission=WORK)
    _out(fns[action](engine, who) or {"entry_id": entry, "done": action})


@blacklist_app.command("list")
def bl_list(status: Optional[str] = typer.Option(None), actor: str = ACTOR):
    from shebao.supervision import blacklist
    engine, who = engine_and_actor(actor, permission="supervision.alert.read")
    _out(blacklist.entries(engine, who, status=status))


@arrears_app.command("open")
def ar_open(region: str = typer.Option(NATIONAL), actor: str = ACTOR):
    """Open a case for each employer on the latest arrears list not yet in a case."""
    from shebao.supervision import enforcement
    engine, who = engine_and_actor(actor, permission=WORK, region=region)
    _out({"opened": enforcement.open_from_arrears(engine, who, region)})


@arrears_app.command("step")
def ar_step(action: str, case: int, actor: str = ACTOR):
    """notice | escalate | enforce | settle CASE."""
    from shebao.supervision import enforcement
    fns = {"notice": enforcement.notice, "escalate": enforcement.escalate,
           "enforce": enforcement.enforce, "settle": enforcement.settle}
    if action not in fns:
        raise InputError(f"action is one of {', '.join(fns)}", field="action")
    engine, who = engine_and_actor(actor, permission=WORK)
    _out(fns[action](engine, who, case) or {"case_id": case, "done": action})


@arrears_app.command("list")
def ar_list(stage: Optional[str] = typer.Option(None), actor: str = ACTOR):
    from shebao.supervision import enforcement
    engine, who = engine_and_actor(actor, permission="supervision.alert.read")
    _out(enforcement.list_cases(engine, who, stage=stage))
