"""``shebao collect …`` — the collection bureau's commands.

Exit codes: 0 done; 1 reconciliation found differences, or the same run (a bank file's import,
a region's late fees) is already being done by another process; 2 bad input (file, row, field
named).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shebao.core.errors import AlreadyRunning, InputError, ShebaoError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import parse_date, parse_month

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Collection bureau: declarations, assessment, bills, banks, arrears.")
console = Console()


def _month(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None


def _as_of(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise InputError(str(exc), field="as_of", value=text) from None


def _fail(exc: ShebaoError) -> None:
    from rich.markup import escape
    console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(1 if isinstance(exc, AlreadyRunning) else 2)


def _person(engine, citizen_id: str) -> int:
    from shebao.registry.queries import person_id_of
    with engine.connect() as c:
        pid = person_id_of(c, citizen_id)
    if pid is None:
        raise InputError(f"unknown person {citizen_id}", field="citizen_id")
    return pid


def _employer(engine, uscc: str) -> int:
    from shebao.registry.queries import employer_id_of
    with engine.connect() as c:
        eid = employer_id_of(c, uscc)
    if eid is None:
        raise InputError(f"unknown employer {uscc}", field="uscc")
    return eid


@app.command("declare")
def declare(citizen_id: str = typer.Option(..., help="employee's citizen ID"),
            uscc: str = typer.Option(..., help="employer's unified social credit code"),
            year: int = typer.Option(..., help="declaration year (takes effect in its adjustment month)"),
            wage: str = typer.Option(..., help="previous-year average monthly wage, yuan"),
            actor: str = ACTOR):
    """Declare one employee's base (the form)."""
    from shebao.collection import bills, declarations
    try:
        engine, who = engine_and_actor(actor, permission="declaration.write")
        d = declarations.declare_wage(engine, who, person_id=_person(engine, citizen_id),
                                 employer_id=_employer(engine, uscc), year=year,
                                 wage_fen=declarations.parse_yuan(wage, field="wage"))
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(d.as_dict(), ensure_ascii=False))


@app.command("declare-file")
def declare_file(file: Path = typer.Argument(..., help="CSV: citizen_id,uscc,wage"),
                 year: int = typer.Option(...),
                 dry_run: bool = typer.Option(False, "--dry-run", help="check only, write nothing"),
                 actor: str = ACTOR):
    """Upload wage declarations from a file (dry run reports every problem)."""
    from shebao.collection import bills, declarations
    try:
        engine, who = engine_and_actor(actor, permission="declaration.write")
        rep = declarations.upload_declarations(engine, who, file, year=year,
                                          dry_run=dry_run)
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(rep.as_dict(), ensure_ascii=False, default=str))
    if rep.problems:
        raise typer.Exit(2)


@app.command("flexible-base")
def flexible_base(citizen_id: str = typer.Option(...), month: str = typer.Option(...),
                  base: str = typer.Option(..., help="chosen base, yuan"),
                  actor: str = ACTOR):
    """A flexible worker chooses a base between the floor and the ceiling."""
    from shebao.collection import bills, declarations
    try:
        engine, who = engine_and_actor(actor, permission="declaration.write")
        d = declarations.choose_flexible_base(engine, who, person_id=_person(engine, citizen_id),
                                         month=_month(month),
                                         base_fen=declarations.parse_yuan(base, field="base"))
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(d.as_dict(), ensure_ascii=False))


@app.command("resident-tier")
def resident_tier(citizen_id: str = typer.Option(...), year: int = typer.Option(...),
                  tier: int = typer.Option(..., help="yuan per year, one of resident.pension_tiers"),
                  actor: str = ACTOR):
    """A resident chooses the year's contribution tier."""
    from shebao.collection import bills, declarations
    try:
        engine, who = engine_and_actor(actor, permission="declaration.write")
        d = declarations.choose_resident_tier(engine, who, person_id=_person(engine, citizen_id),
                                         year=year, tier_yuan=tier)
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(d.as_dict(), ensure_ascii=False))


@app.command("assess")
def assess_cmd(region: str = typer.Option(..., help="GB/T 2260 code"),
               month: str = typer.Option(..., help="YYYY-MM"),
               chunk_size: int = typer.Option(50_000, help="persons per chunk (keyset id range)"),
               as_json: bool = typer.Option(False, "--json"),
               actor: str = ACTOR):
    """Assess every active enrolment of the region for the month, then (re)build the bills.
    Resumes an interrupted run; running it again changes nothing; after a late declaration
    it writes only the differences."""
    from shebao.collection import assess, bills
    from shebao.registry.queries import enrolled_person_range
    try:
        engine, who = engine_and_actor(actor, permission="collection.run", region=region)
        m = _month(month)
        with engine.connect() as c:
            lo, hi = enrolled_person_range(c, region)
        total = max(1, -(-((hi or 0) - (lo or 0) + 1) // chunk_size))
        with Progress(TextColumn("[bold]assess {task.description}"), BarColumn(),
                      MofNCompleteColumn(), TextColumn("{task.fields[persons]} persons"),
                      TimeElapsedColumn(), console=console, disable=as_json) as prog:
            task = prog.add_task(f"{region} {month}", total=total, persons=0)
            count = {"p": 0}

            def on_chunk(persons, chunk_no):
                count["p"] += persons
                prog.update(task, completed=chunk_no, persons=count["p"])

            r = assess.assess(engine, who, region, m, chunk_size=chunk_size,
                              on_chunk=on_chunk)
        b = bills.make_bills(engine, who, region, m)
    except ShebaoError as exc:
        _fail(exc)
    out = {"assessment": r.as_dict(), "bills": b.as_dict()}
    out["assessment"]["total"] = fen_to_yuan_str(r.total_fen)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        console.print_json(json.dumps(out, ensure_ascii=False))


@app.command("bill")
def bill_cmd(e2e_id: str = typer.Option(None, "--e2e", help="end-to-end id of the bill"),
             bill_id: int = typer.Option(None, "--id"),
             export: Path = typer.Option(None, help="write the bill to this .csv or .json file"),
             as_of: str = typer.Option(None, "--as-of",
                                       help="late fee accrued to YYYY-MM-DD (default today)"),
             actor: str = ACTOR):
    """View (or export) a payer's bill: lines per scheme, the late fee (charged and accrued,
    not yet charged) and the persons with their bases."""
    from shebao.collection import bills, declarations
    try:
        d = _as_of(as_of) if as_of else None
        engine, who = engine_and_actor(actor, permission="collection.read")
        if export:
            p = bills.export_bill(engine, who, export, bill_id=bill_id, e2e_id=e2e_id,
                                    as_of=d)
            console.print(f"written {p}")
            return
        b = bills.get_bill(engine, who, bill_id=bill_id, e2e_id=e2e_id, as_of=d)
    except ShebaoError as exc:
        _fail(exc)
    t = Table(title=f"bill {b['e2e_id']} — {b['payer_type']} {b['payer_id']} — {b['month']} "
                    f"— due {b['due_date']} — {b['status']}")
    for c in ("scheme", "employer", "employee", "amount", "paid"):
        t.add_column(c, justify="right" if c != "scheme" else "left")
    for ln in b["lines"]:
        t.add_row(ln["scheme"], ln["employer"], ln["employee"], ln["amount"], ln["paid"])
    t.add_row("total", "", "", b["total"], b["paid"])
    console.print(t)
    lf = b["late_fee"]
    console.print(f"late fee to {lf['as_of']} ({lf['daily_rate']}/day): accrued {lf['accrued']}, "
                  f"charged {lf['charged']}, accrued not yet charged {lf['not_yet_charged']}")
    for c in lf["charges"]:
        console.print(f"  charged {c['fee']}: {c['from']} → {c['to']} ({c['days']} days, base "
                      f"{c['base']}, {c['source']})")
    if b["persons"]:
        p = Table(title=f"{len(b['persons'])} insured")
        for c in ("citizen_id", "name", "wage", "base", "why", "amount"):
            p.add_column(c)
        for r in b["persons"][:50]:
            p.add_row(r["citizen_id"], r["name"], r["wage"], r["base"], r["why"], r["amount"])
        console.print(p)


@app.command("export-bank")
def export_bank(region: str = typer.Option(...), month: str = typer.Option(...),
                fmt: str = typer.Option("pain008", "--format", help="pain008 | csv"),
                out: Path = typer.Option(None, help="directory (default var/collection/out)"),
                actor: str = ACTOR):
    """Write the month's direct-debit instructions (pain.008, XSD-validated; or CSV)."""
    from shebao.collection import bank
    try:
        engine, who = engine_and_actor(actor, permission="collection.run", region=region)
        r = bank.export_bank(engine, who, region, _month(month), out_dir=out, fmt=fmt)
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(r.as_dict(), ensure_ascii=False))


@app.command("import-bank")
def import_bank(file: Path = typer.Argument(..., help="camt.053.001.08 XML or receipt CSV"),
                region: str = typer.Option(None, help="region whose suspense takes unmatched "
                                           "money (default: the region the receipts' bills name)"),
                kept_dir: Path = typer.Option(None, help="where rejected files are kept"),
                actor: str = ACTOR):
    """Import bank receipts: match, apply, post; rejected files are kept for review."""
    from shebao.collection import bank
    try:
        engine, who = engine_and_actor(actor, permission="collection.run", region=region)
        r = bank.import_bank(engine, who, file, region=region, kept_dir=kept_dir)
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(r.as_dict(), ensure_ascii=False))


@app.command("suspense")
def suspense_cmd(region: str = typer.Option(...), as_json: bool = typer.Option(False, "--json"),
                 actor: str = ACTOR):
    """The clerk's queue: money received that matches no bill (or more than the bill)."""
    from shebao.collection import suspense
    engine, who = engine_and_actor(actor, permission="collection.read", region=region)
    rows = suspense.suspense(engine, region)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    t = Table(title=f"suspense {region}: {len(rows)} receipts")
    for c in ("receipt_id", "bank_ref", "e2e_id", "amount", "in_suspense", "booked_on", "status"):
        t.add_column(c)
    for r in rows:
        t.add_row(*(str(r[c]) for c in ("receipt_id", "bank_ref", "e2e_id", "amount",
                                        "in_suspense", "booked_on", "status")))
    console.print(t)


@app.command("resolve")
def resolve_cmd(receipt_id: int = typer.Option(..., "--receipt"),
                e2e_id: str = typer.Option(..., "--e2e", help="the bill to pay from suspense"),
                actor: str = ACTOR):
    """Apply money held in suspense to a bill (ledger: suspense → receivables)."""
    from shebao.collection import suspense
    try:
        engine, who = engine_and_actor(actor, permission="collection.run")
        r = suspense.resolve_suspense(engine, who, receipt_id, e2e_id)
    except ShebaoError as exc:
        _fail(exc)
    console.print_json(json.dumps(r, ensure_ascii=False))


@app.command("simulate-bank")
def simulate_bank(export_file: Path = typer.Argument(...),
                  fmt: str = typer.Option("camt053", "--format", help="camt053 | csv"),
                  seed: int = typer.Option(7)):
    """Play the commissioned bank: answer a direct-debit file with a statement (demo)."""
    from shebao.collection import bank
    p = bank.simulate_bank(export_file, fmt=fmt, seed=seed)
    console.print(f"written {p}")


@app.command("reconcile")
def reconcile_cmd(region: str = typer.Option(...), month: str = typer.Option(...),
                  as_json: bool = typer.Option(False, "--json"),
                  actor: str = ACTOR):
    """Receivable vs collected vs posted, by scheme and payer type; exit 1 on any difference."""
    from shebao.collection.reconcile import reconcile
    try:
        engine, who = engine_and_actor(actor, permission="collection.read", region=region)
        r = reconcile(engine, who, region, _month(month))
    except ShebaoError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
    else:
        t = Table(title=f"reconciliation {region} {month}: "
                        f"{'[green]all agree' if r.ok else '[red]differences'}")
        for c in ("scheme", "payer", "assessed", "billed", "collected", "outstanding"):
            t.add_column(c, justify="right" if c not in ("scheme", "payer") else "left")
        for row in r.rows:
            t.add_row(row["scheme"], row["payer"], *(fen_to_yuan_str(row[k]) for k in
                                                     ("assessed", "billed", "collected",
                                                      "outstanding")))
        console.print(t)
        lf = r.late_fees
        console.print(f"late fees of the month's bills: {lf['charges']} charges, charged "
                      f"{fen_to_yuan_str(lf['charged'])}, posted to late_fee_income "
                      f"{fen_to_yuan_str(lf['posted_income'])}, to receivable_employer "
                      f"{fen_to_yuan_str(lf['posted_receivable'])}")
        for d in r.differences:
            console.print(f"[red]DIFFERENCE[/red] {d['scheme']} {d['payer']}: {d['check']}: "
                          f"{fen_to_yuan_str(d['left'])} vs {fen_to_yuan_str(d['right'])} "
                          f"(Δ {fen_to_yuan_str(d['difference'])})")
    if not r.ok:
        raise typer.Exit(1)


@app.command("arrears")
def arrears_cmd(region: str = typer.Option(...),
                as_of: str = typer.Option(None, help="YYYY-MM-DD (default today)"),
                threshold: str = typer.Option(None, help="yuan; default from the parameters"),
                as_json: bool = typer.Option(False, "--json"),
                actor: str = ACTOR):
    """Payers in arrears with amounts, days and late fees; employers beyond the threshold are
    flagged for the supervision bureau."""
    from shebao.collection.arrears import arrears
    from shebao.collection.declarations import parse_yuan
    try:
        d = parse_date(as_of) if as_of else dt.date.today()
        thr = parse_yuan(threshold, field="threshold") if threshold else None
        engine, who = engine_and_actor(actor, permission="collection.read", region=region)
        a = arrears(engine, who, region, d, threshold_fen=thr)
    except ValueError as exc:
        _fail(InputError(str(exc), field="as_of"))
    except ShebaoError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(a.as_dict(), ensure_ascii=False))
        return
    t = Table(title=f"arrears {region} on {a.as_of} (late fee {a.rate}/day; supervision at "
                    f"{fen_to_yuan_str(a.threshold_fen)} or {a.threshold_days} days)")
    for c in ("payer", "id", "bills", "outstanding", "late fee accrued", "charged",
              "not yet charged", "days", "supervision"):
        t.add_column(c)
    for p in a.payers[:100]:
        t.add_row(p["payer_type"], str(p["payer_id"]), str(p["bills"]), p["outstanding"],
                  p["late_fee"], p["late_fee_charged"], p["late_fee_not_charged"],
                  str(p["days"]), p.get("flag", ""))
    console.print(t)
    console.print(f"{len(a.payers)} payers in arrears, {len(a.flagged)} employers flagged")


@app.command("late-fees")
def late_fees_cmd(region: str = typer.Option(..., help="six-digit region code"),
                  as_of: str = typer.Option(..., "--as-of", help="YYYY-MM-DD, not in the future"),
                  as_json: bool = typer.Option(False, "--json"),
                  actor: str = ACTOR):
    """Charge employers the late fee accrued on overdue bills up to the as-of day (社会保险法
    第八十六条; rate ``collection.late_fee_rate``): a charge per bill and a ledger entry
    receivable_employer → late_fee_income. Idempotent: a rerun charges nothing, a later as-of
    only the increment."""
    from shebao.collection.latefee import charge_late_fees
    try:
        d = _as_of(as_of)
        engine, who = engine_and_actor(actor, permission="collection.run", region=region)
        r = charge_late_fees(engine, who, region, d)
    except ShebaoError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        return
    console.print(f"late fees {region} to {r.as_of} ({r.rate}/day): {r.charges} charges, "
                  f"{fen_to_yuan_str(r.fen)} charged ({r.bills} overdue bills examined)")
