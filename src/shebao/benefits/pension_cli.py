"""``shebao pension …``: retirement cases (maker-checker) and annual indexation.

    shebao pension history FILE.csv [--actor clerk-a]     # person_id,region,period_start,
                                                          # months,base_total,kind
    shebao pension open --person 42 --region 310000 [--category female_worker]
                        [--claim early --date 2025-03-10] --actor clerk-a
    shebao pension open-batch --region 310000 --month 2025-11 --actor clerk-a
    shebao pension show 17 --actor clerk-a                # decision: inputs, law, arithmetic
    shebao pension category 17 --category female_cadre --actor clerk-a
    shebao pension submit 17 --actor clerk-a              # maker
    shebao pension approve 17 --actor clerk-b             # checker, never the maker
    shebao pension reject 17 --reason "…" --actor clerk-b
    shebao pension index --region 310000 --effective-from 2025-01-01 --actor clerk-a
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Optional

import typer

from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.core.periods import parse_month
from shebao.db.engine import make_engine

from . import determination as det
from .cli import _out, actor_of
from .indexation import run_indexation

app = typer.Typer(no_args_is_help=True, help="Pension determination and indexation.")


@app.command("history")
def history_cmd(path: str = typer.Argument(...), actor: str = typer.Option("system")):
    """Import contribution history rows (CSV, UTF-8, header as above; amounts in yuan)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    by_person: dict[int, list] = {}
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            pid = int(r["person_id"])
            row = {"region": r["region"].strip(),
                   "period_start": dt.date.fromisoformat(r["period_start"].strip()),
                   "months": int(r["months"]), "kind": (r.get("kind") or "paid").strip()}
            if row["kind"] == "paid":
                row["base_total_fen"] = to_fen(r["base_total"].strip())
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"{exc}", file=path, row=i) from None
        by_person.setdefault(pid, []).append(row)
    engine = make_engine()
    n = sum(det.record_history(engine, actor_of(actor), pid, rows, source=Path(path).name)
            for pid, rows in by_person.items())
    _out({"rows": n, "persons": len(by_person)})


@app.command("open")
def open_cmd(person: int = typer.Option(...), region: str = typer.Option(...),
             category: Optional[str] = typer.Option(None), claim: str = typer.Option("statutory"),
             date: Optional[str] = typer.Option(None, "--date", help="early/deferred date"),
             actor: str = typer.Option(...)):
    """Open a retirement case and compute it."""
    req = None
    if date:
        try:
            req = dt.date.fromisoformat(date)
        except ValueError:
            raise InputError(f"{date!r} is not a date", field="requested_date") from None
    engine = make_engine()
    a = actor_of(actor)
    cid = det.open_case(engine, a, person, region=region, category=category, claim=claim,
                        requested_date=req)
    _out(_summary(det.get_case(engine, a, cid)))


@app.command("open-batch")
def open_batch_cmd(region: str = typer.Option(...), month: str = typer.Option(...),
                   actor: str = typer.Option(...)):
    """Open cases for everyone reaching statutory retirement age in the month."""
    try:
        m = parse_month(month)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None
    r = det.open_batch(make_engine(), actor_of(actor), region, m)
    _out({"opened": r.opened, "by_status": r.by_status, "case_ids": r.case_ids[:200]})


def _summary(c: dict) -> dict:
    return {k: c[k] for k in ("id", "person_id", "region", "status", "retirement_date",
                              "basic", "account", "transitional", "total", "missing",
                              "options")}


@app.command("show")
def show_cmd(case: int = typer.Argument(...), actor: str = typer.Option(...)):
    """The case with its decision record (inputs, parameters with references, arithmetic)."""
    c = det.get_case(make_engine(), actor_of(actor), case)
    _out({**_summary(c), "decision": c["decision"]})


@app.command("category")
def category_cmd(case: int = typer.Argument(...), category: str = typer.Option(...),
                 actor: str = typer.Option(...)):
    _out({"status": det.set_category(make_engine(), actor_of(actor), case, category)})


@app.command("submit")
def submit_cmd(case: int = typer.Argument(...), actor: str = typer.Option(...)):
    _out({"approval_id": det.submit_case(make_engine(), actor_of(actor), case)})


@app.command("approve")
def approve_cmd(case: int = typer.Argument(...), actor: str = typer.Option(...)):
    _out({"award_id": det.approve_case(make_engine(), actor_of(actor), case)})


@app.command("reject")
def reject_cmd(case: int = typer.Argument(...), reason: str = typer.Option(...),
               actor: str = typer.Option(...)):
    det.reject_case(make_engine(), actor_of(actor), case, reason=reason)
    _out({"case": case, "status": "rejected"})


@app.command("index")
def index_cmd(region: str = typer.Option(...), effective_from: str = typer.Option(...),
              actor: str = typer.Option(...)):
    """Annual indexation of pensions in payment (its own audited run)."""
    try:
        d = dt.date.fromisoformat(effective_from)
    except ValueError:
        raise InputError(f"{effective_from!r} is not a date", field="effective_from") from None
    r = run_indexation(make_engine(), actor_of(actor), region, d)
    _out({"run_id": r.run_id, "rate": r.rate, "awards": r.n_awards,
          "increase_fen": r.increase_fen, "replayed": r.replayed})
