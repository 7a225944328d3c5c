"""``shebao payroll …``: the monthly pension payroll of a region; ``shebao pension …``:
retirement cases (maker-checker) and annual indexation.

    shebao payroll run --region 310000 --month 2025-11 [--chunk 50000] [--actor clerk-a]
    shebao payroll submit --run 7 --actor clerk-a          # maker
    shebao payroll approve --run 7 --actor clerk-b         # checker (never the maker)
    shebao payroll release --run 7 --out var/bank --execution-date 2025-11-05 \
        --debtor-name … --debtor-account … --debtor-bank … [--format xml --format csv]
    shebao payroll returns statement.xml|returns.csv       # camt.053.001.08 or CSV
    shebao payroll confirm-failure --payment 12 --payment 13 --reason "…"
    shebao payroll reissue --run 7 --out var/bank --execution-date 2025-11-08 …
    shebao payroll living-cert --person 42 --year 2025 --failed --date 2025-11-10
    shebao payroll overpayments --region 310000
    shebao payroll recover --overpayment 3 --amount 1500.00

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

The database is ``SHEBAO_DATABASE_URL``. ``--actor`` names the clerk's own account, authenticated
(``actor.py``): its role and region scope decide what it may do, exactly as on the web, and the
maker and the checker of a run or a case are two different accounts. Output is JSON on stdout;
bad input or a refused account exits 2 with the reason.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import List, Optional

import typer

from shebao.benefits import determination as det
from shebao.benefits import life_events, payouts, payroll
from shebao.benefits.indexation import run_indexation
from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.core.periods import parse_month
from shebao.formats.pain001 import Debtor

from .actor import ACTOR, engine_and_actor
from .common import out as _out

payroll_app = typer.Typer(no_args_is_help=True,
                          help="Pension payroll: run, approve, release, returns.")
pension_app = typer.Typer(no_args_is_help=True, help="Pension determination and indexation.")


def _month(text: str) -> dt.date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date YYYY-MM-DD", field=field) from None


DEBTOR_NAME = typer.Option("社会保险基金支出户", "--debtor-name", help="payer name on the file")
DEBTOR_ACCOUNT = typer.Option(..., "--debtor-account", help="the fund's payout account")
DEBTOR_BANK = typer.Option(..., "--debtor-bank", help="the commissioned bank's name")


@payroll_app.command("run")
def run_cmd(region: str = typer.Option(...), month: str = typer.Option(..., help="YYYY-MM"),
            chunk: int = typer.Option(payroll.CHUNK), actor: Optional[str] = ACTOR):
    """Compute (or resume) the payroll of a region and month; idempotent."""
    m = _month(month)
    engine, who = engine_and_actor(actor, permission="payroll.prepare", region=region)
    done = [0]

    def progress(n):
        done[0] += n
        typer.echo(f"  … {done[0]} pensioners", err=True)

    res = payroll.run(engine, who, region, m, chunk=chunk, progress=progress)
    _out(res.as_json())


@payroll_app.command("submit")
def submit_cmd(run: int = typer.Option(..., "--run"), actor: Optional[str] = ACTOR):
    """Maker: put a computed run up for approval."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    _out({"approval_id": payroll.submit(eng, who, run)})


@payroll_app.command("approve")
def approve_cmd(run: int = typer.Option(..., "--run"), actor: Optional[str] = ACTOR):
    """Checker: approve a submitted run (a different clerk from the maker)."""
    eng, who = engine_and_actor(actor, permission="payroll.approve")
    payroll.approve(eng, who, run)
    _out({"run_id": run, "status": "approved"})


@payroll_app.command("release")
def release_cmd(run: int = typer.Option(..., "--run"), out: str = typer.Option("var/bank"),
                execution_date: str = typer.Option(..., "--execution-date"),
                debtor_name: str = DEBTOR_NAME, debtor_account: str = DEBTOR_ACCOUNT,
                debtor_bank: str = DEBTOR_BANK,
                fmt: Optional[List[str]] = typer.Option(None, "--format", help="xml and/or csv"),
                actor: Optional[str] = ACTOR):
    """Write pain.001.001.09 (validated) and/or CSV for an approved run; mark payments sent."""
    day = _day(execution_date, "execution_date")
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    rel = payouts.release(eng, who, run, out, Debtor(debtor_name, debtor_account, debtor_bank),
                          day, tuple(fmt or ("xml", "csv")))
    _out({"run_id": rel.run_id, "payments": rel.n_payments, "files": rel.files,
          "replayed": rel.replayed})


@payroll_app.command("returns")
def returns_cmd(path: str = typer.Argument(..., help="camt.053.001.08 XML or CSV"),
                actor: Optional[str] = ACTOR):
    """Record a bank return file once: booked → paid, returned → awaiting confirmation."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    r = payouts.import_returns(eng, who, path)
    _out({"paid": r.paid, "failed": r.failed, "unknown": r.unknown,
          "unknown_refs": r.unknown_refs[:50], "replayed": r.replayed})


@payroll_app.command("confirm-failure")
def confirm_cmd(payment_id: List[int] = typer.Option(..., "--payment"),
                reason: str = typer.Option(...), actor: Optional[str] = ACTOR):
    """Confirm returned payments as failed (only confirmed failures are re-issued)."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    _out({"confirmed": payouts.confirm_failures(eng, who, payment_id, reason=reason)})


@payroll_app.command("reissue")
def reissue_cmd(run: int = typer.Option(..., "--run"), out: str = typer.Option("var/bank"),
                execution_date: str = typer.Option(..., "--execution-date"),
                debtor_name: str = DEBTOR_NAME, debtor_account: str = DEBTOR_ACCOUNT,
                debtor_bank: str = DEBTOR_BANK, actor: Optional[str] = ACTOR):
    """Re-issue the confirmed failures of a run as new attempts."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    r = payouts.reissue(eng, who, run, out,
                        Debtor(debtor_name, debtor_account, debtor_bank),
                        _day(execution_date, "execution_date"))
    _out({"run_id": r.run_id, "payments": r.n_payments, "files": r.files})


@payroll_app.command("living-cert")
def living_cmd(person: int = typer.Option(...), year: int = typer.Option(...),
               failed: bool = typer.Option(False, "--failed/--passed"),
               date: str = typer.Option(..., "--date"), method: str = typer.Option("counter"),
               actor: Optional[str] = ACTOR):
    """Record an annual living certification (a failure stops payment from the next month)."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    lid = life_events.record_living_certification(eng, who, person, year,
                                              not failed, _day(date, "date"), method)
    _out({"id": lid})


@payroll_app.command("overpayments")
def overpayments_cmd(region: str = typer.Option(...), actor: Optional[str] = ACTOR):
    """Find payments made after a recorded death; record them for recovery (ledger)."""
    eng, who = engine_and_actor(actor, permission="payroll.prepare", region=region)
    r = life_events.detect_overpayments(eng, who, region)
    _out({"region": r.region, "overpayments": r.n, "total_fen": r.total_fen,
          "awards_stopped": r.awards_stopped})


@payroll_app.command("recover")
def recover_cmd(overpayment: int = typer.Option(...), amount: str = typer.Option(...),
                actor: Optional[str] = ACTOR):
    """Record money recovered against an overpayment."""
    try:
        fen = to_fen(amount)
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc), field="amount") from None
    eng, who = engine_and_actor(actor, permission="payroll.prepare")
    _out({"status": life_events.record_recovery(eng, who, overpayment, fen)})


# ------------------------------------------------------------------ pension

@pension_app.command("history")
def history_cmd(path: str = typer.Argument(...), actor: Optional[str] = ACTOR):
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
    engine, who = engine_and_actor(actor, permission="pension.compute")
    n = sum(det.record_history(engine, who, pid, rows, source=Path(path).name)
            for pid, rows in by_person.items())
    _out({"rows": n, "persons": len(by_person)})


@pension_app.command("open")
def open_cmd(person: int = typer.Option(...), region: str = typer.Option(...),
             category: Optional[str] = typer.Option(None), claim: str = typer.Option("statutory"),
             date: Optional[str] = typer.Option(None, "--date", help="early/deferred date"),
             actor: Optional[str] = ACTOR):
    """Open a retirement case and compute it."""
    req = None
    if date:
        try:
            req = dt.date.fromisoformat(date)
        except ValueError:
            raise InputError(f"{date!r} is not a date", field="requested_date") from None
    engine, who = engine_and_actor(actor, permission="pension.compute", region=region)
    cid = det.open_case(engine, who, person, region=region, category=category, claim=claim,
                        requested_date=req)
    _out(_summary(det.get_case(engine, who, cid)))


@pension_app.command("open-batch")
def open_batch_cmd(region: str = typer.Option(...), month: str = typer.Option(...),
                   actor: Optional[str] = ACTOR):
    """Open cases for everyone reaching statutory retirement age in the month."""
    try:
        m = parse_month(month)
    except ValueError as exc:
        raise InputError(str(exc), field="month") from None
    eng, who = engine_and_actor(actor, permission="pension.compute", region=region)
    r = det.open_batch(eng, who, region, m)
    _out({"opened": r.opened, "by_status": r.by_status, "case_ids": r.case_ids[:200]})


def _summary(c: dict) -> dict:
    return {k: c[k] for k in ("id", "person_id", "region", "status", "retirement_date",
                              "basic", "account", "transitional", "total", "missing",
                              "options")}


@pension_app.command("show")
def show_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    """The case with its decision record (inputs, parameters with references, arithmetic)."""
    eng, who = engine_and_actor(actor, permission="pension.read")
    c = det.get_case(eng, who, case)
    _out({**_summary(c), "decision": c["decision"]})


@pension_app.command("category")
def category_cmd(case: int = typer.Argument(...), category: str = typer.Option(...),
                 actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="pension.compute")
    _out({"status": det.set_category(eng, who, case, category)})


@pension_app.command("submit")
def pension_submit_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="pension.compute")
    _out({"approval_id": det.submit_case(eng, who, case)})


@pension_app.command("approve")
def pension_approve_cmd(case: int = typer.Argument(...), actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="pension.approve")
    _out({"award_id": det.approve_case(eng, who, case)})


@pension_app.command("reject")
def reject_cmd(case: int = typer.Argument(...), reason: str = typer.Option(...),
               actor: Optional[str] = ACTOR):
    eng, who = engine_and_actor(actor, permission="pension.approve")
    det.reject_case(eng, who, case, reason=reason)
    _out({"case": case, "status": "rejected"})


@pension_app.command("index")
def index_cmd(region: str = typer.Option(...), effective_from: str = typer.Option(...),
              actor: Optional[str] = ACTOR):
    """Annual indexation of pensions in payment (its own audited run)."""
    try:
        d = dt.date.fromisoformat(effective_from)
    except ValueError:
        raise InputError(f"{effective_from!r} is not a date", field="effective_from") from None
    eng, who = engine_and_actor(actor, permission="pension.compute", region=region)
    r = run_indexation(eng, who, region, d)
    _out({"run_id": r.run_id, "rate": r.rate, "awards": r.n_awards,
          "increase_fen": r.increase_fen, "replayed": r.replayed})
