"""``shebao ledger …``: trial balance and invariant check, chart, statements, interest.

    shebao ledger check [--json] [--as-of DATE]       exit 1 and the offending entries on any violation
    shebao ledger open-chart --region 310000 [--scheme pension …]
    shebao ledger statement --person 42 --scheme pension [--json]
    shebao ledger interest --region 310000 --scheme pension --year 2024
    shebao ledger balance 310000.pension.pooled_fund [--as-of 2025-06-30]

The database is ``SHEBAO_DATABASE_URL`` (default SQLite under ./var). ``check`` and
``balance`` read aggregates only; the other commands act as the ``--actor`` account
(``actor.py``).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import List, Optional

import typer

from shebao.core.money import fen_to_yuan_str
from shebao.db.engine import make_engine

from shebao.ledger import check as check_mod
from shebao.ledger import interest as interest_mod
from shebao.ledger import model, service

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Ledger: trial balance, invariants, statements.")

# Opening charts and crediting interest write the fund's books: administrators only (no web
# page does either; the web's ledger is read-only).
ADMIN = ("administrator",)


@app.command("check")
def check_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
              limit: int = typer.Option(50, help="offending items to print"),
              as_of: Optional[str] = typer.Option(None, "--as-of",
                                                  help="trial balance as of YYYY-MM-DD")):
    """Trial balance by region and scheme; verify every invariant (exit 1 on a violation)."""
    engine = make_engine()
    d = dt.date.fromisoformat(as_of) if as_of else None
    rep = check_mod.run_check(engine, as_of=d)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(rep.as_json(), ensure_ascii=False, default=str))
        raise typer.Exit(0 if rep.ok else 1)
    typer.echo(f"{'region':<8} {'scheme':<17} {'account':<22} {'n':>7} {'debits':>16} "
               f"{'credits':>16} {'balance':>16}")
    for r in rep.trial_balance:
        typer.echo(f"{r['region']:<8} {r['scheme']:<17} {r['kind']:<22} {r['accounts']:>7} "
                   f"{fen_to_yuan_str(r['debits']):>16} {fen_to_yuan_str(r['credits']):>16} "
                   f"{fen_to_yuan_str(r['balance']):>16} {'Dr' if r['side'] == 'debit' else 'Cr'}")
    c = rep.counts
    typer.echo(f"{c['entries']} entries, {c['postings']} postings, {c['accounts']} accounts")
    if rep.ok:
        typer.echo("ledger OK: every invariant holds")
        raise typer.Exit(0)
    typer.echo(f"ledger BROKEN: {len(rep.violations)} violation(s)", err=True)
    for v in rep.violations[:limit]:
        where = (f"entry {v['entry_id']}" if "entry_id" in v else
                 v.get("account") or f"{v.get('region')}/{v.get('scheme')}")
        typer.echo(f"  {v['invariant']}: {where}: {v['detail']}", err=True)
    raise typer.Exit(1)


@app.command("open-chart")
def open_chart_cmd(region: str = typer.Option(..., help="six-digit region code"),
                   scheme: Optional[List[str]] = typer.Option(None, help="default: all"),
                   actor: str = ACTOR):
    """Open the chart of accounts of a region (idempotent; an administrator in scope)."""
    engine, who = engine_and_actor(actor, roles=ADMIN, region=region)
    n = service.open_chart(engine, who, region, tuple(scheme or model.SCHEMES))
    typer.echo(f"{n} accounts opened in {region}")


@app.command("statement")
def statement_cmd(person: int = typer.Option(...), scheme: str = typer.Option("pension"),
                  region: Optional[str] = typer.Option(None), actor: str = ACTOR,
                  as_json: bool = typer.Option(False, "--json")):
    """A person's individual-account statement with running balance."""
    engine, who = engine_and_actor(actor, permission="account.read")
    st = service.statement(engine, who, person, scheme, region=region,
                           purpose="cli statement")
    if as_json:
        typer.echo(json.dumps({"person_id": person, "scheme": scheme,
                               "lines": [ln.as_json() for ln in st.lines]}, ensure_ascii=False))
        return
    for ln in st.lines:
        typer.echo(f"{ln.effective_date}  {ln.region}  {ln.source:<12} {fen_to_yuan_str(ln.amount):>14}"
                   f" {fen_to_yuan_str(ln.balance):>14}  #{ln.entry_id} {ln.memo or ''}")
    typer.echo(f"closing balance {fen_to_yuan_str(st.closing_balance)}")


@app.command("interest")
def interest_cmd(region: str = typer.Option(...), scheme: str = typer.Option("pension"),
                 year: int = typer.Option(...), actor: str = ACTOR):
    """Credit a year's interest to the individual accounts of a region (idempotent; an
    administrator in scope)."""
    engine, who = engine_and_actor(actor, roles=ADMIN, region=region)
    res = interest_mod.credit_interest(engine, who, region, scheme, year)
    if res.reason:
        typer.echo(res.reason)
    else:
        typer.echo(f"{year} {region} {scheme}: rate {res.rate}, {res.accounts} accounts, "
                   f"{fen_to_yuan_str(res.total_fen)} credited in entry {res.entry_id}"
                   f"{' (already credited)' if res.replayed else ''}")


@app.command("balance")
def balance_cmd(account: str, as_of: Optional[str] = typer.Option(None, "--as-of")):
    """Balance of one account (normal side), optionally as of a date."""
    engine = make_engine()
    d = dt.date.fromisoformat(as_of) if as_of else None
    typer.echo(fen_to_yuan_str(service.balance(engine, account, as_of=d)))
