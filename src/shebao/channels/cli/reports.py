"""``shebao reports …``: fund statements (tied out to the ledger), budgets and final accounts,
fiscal subsidies, monthly statistics with XLSX / PDF / PNG exports, the administration
budget against collection. A subsidy, a budget and the adoption of final accounts are
proposed by one officer and take effect only when another approves (``approve``/``reject``).

    shebao reports statement --region 310104 --scheme pension --from 2026-01-01 --to 2026-03-31 --actor admin [--xlsx f.xlsx]
    shebao reports budget --region 310104 --scheme pension --year 2026 --line contributions=1000000.00 --actor admin
    shebao reports final --region 310104 --scheme pension --year 2026 --actor admin [--xlsx f.xlsx] [--adopt]
    shebao reports subsidy --region 310104 --scheme pension --amount 500.00 --on 2026-03-25 --reference 沪财社〔2026〕7号 --actor admin
    shebao reports proposals [--region 310104] [--status pending] --actor admin2
    shebao reports approve 7 --actor admin2 · shebao reports reject 7 --reason "…" --actor admin2
    shebao reports monthly --region 310000 --month 2026-03 --actor admin [--xlsx f] [--pdf f] [--png f]
    shebao reports admin-budget --region 310104 --year 2026 --actor admin
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import List, Optional

import typer

from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.reports import decisions, export, funds, monthly

from ..admin_pdf import monthly_pdf
from .actor import ACTOR, engine_and_actor
from .common import out

app = typer.Typer(no_args_is_help=True, help="Fund accounts, statements, statistics.")


def _d(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise InputError(f"{s!r} is not a date YYYY-MM-DD", field="date") from None


@app.command("statement")
def statement(region: str = typer.Option(...), scheme: str = typer.Option(...),
              date_from: str = typer.Option(..., "--from"), date_to: str = typer.Option(..., "--to"),
              xlsx: Optional[Path] = None, actor: str = ACTOR):
    """Revenue, fiscal subsidy, expense; opening and closing balance; ties out or exit 1."""
    engine, who = engine_and_actor(actor, permission="reports.read", region=region)
    st = funds.statement(engine, who, region, scheme, _d(date_from), _d(date_to)).as_json()
    if xlsx:
        xlsx.write_bytes(export.statement_xlsx(st))
    out(st)
    raise typer.Exit(0 if st["ties_out"] else 1)


@app.command("budget")
def budget(region: str = typer.Option(...), scheme: str = typer.Option(...),
           year: int = typer.Option(...),
           line: List[str] = typer.Option(..., help="LINE=YUAN, e.g. contributions=1000000.00"),
           actor: str = ACTOR):
    """Propose the fund's budget for a year (adopted when another officer approves)."""
    engine, who = engine_and_actor(actor, permission="reports.manage", region=region)
    lines = {}
    for item in line:
        k, _, v = item.partition("=")
        lines[k.strip()] = to_fen(v)
    pid = decisions.propose_budget(engine, who, region, scheme, year, lines)
    out({"proposal": pid, "status": "pending", "region": region, "scheme": scheme,
         "year": year, "lines": lines})


@app.command("final")
def final(region: str = typer.Option(...), scheme: str = typer.Option(...),
          year: int = typer.Option(...), xlsx: Optional[Path] = None,
          adopt: bool = typer.Option(False, help="propose adopting them (another approves)"),
          actor: str = ACTOR):
    """决算: the year's statement beside its budget."""
    engine, who = engine_and_actor(actor, permission="reports.manage" if adopt
                                   else "reports.read", region=region)
    fa = funds.final_accounts(engine, who, region, scheme, year)
    if xlsx:
        xlsx.write_bytes(export.statement_xlsx(fa["statement"], fa["variance"]))
    if adopt:
        fa["proposal"] = decisions.propose_final_accounts(engine, who, region, scheme, year)
    fa["adopted"] = decisions.adopted_final_accounts(engine, region, scheme, year)
    out(fa)


@app.command("subsidy")
def subsidy(region: str = typer.Option(...), scheme: str = typer.Option(...),
            amount: str = typer.Option(..., help="yuan"), on: str = typer.Option(...),
            reference: str = typer.Option(..., help="the allocation document"),
            actor: str = ACTOR):
    """Propose recording a fiscal subsidy received (on approval: Dr fund bank, Cr fiscal
    subsidy)."""
    engine, who = engine_and_actor(actor, permission="reports.manage", region=region)
    out({"proposal": decisions.propose_subsidy(engine, who, region, scheme, to_fen(amount),
                                               _d(on), reference), "status": "pending"})


@app.command("proposals")
def proposals(region: Optional[str] = None, status: str = "pending", actor: str = ACTOR):
    """Fund proposals (subsidies, budgets, final accounts) in scope; pending by default."""
    engine, who = engine_and_actor(actor, permission="reports.read", region=region)
    out(decisions.proposals(engine, who, region=region, status=status or None))


@app.command("approve")
def approve(proposal: int = typer.Argument(...), actor: str = ACTOR):
    """Approve another officer's proposal: the subsidy is posted, the budget or final
    accounts adopted."""
    engine, who = engine_and_actor(actor, permission="reports.approve")
    out(decisions.approve(engine, who, proposal))


@app.command("reject")
def reject(proposal: int = typer.Argument(...), reason: str = typer.Option(...),
           actor: str = ACTOR):
    """Refuse another officer's proposal, with the reason."""
    engine, who = engine_and_actor(actor, permission="reports.approve")
    out(decisions.reject(engine, who, proposal, reason))


@app.command("monthly")
def monthly_cmd(region: str = typer.Option(...), month: str = typer.Option(...),
                xlsx: Optional[Path] = None, pdf_path: Optional[Path] = typer.Option(None, "--pdf"),
                png: Optional[Path] = None, actor: str = ACTOR):
    """Insured, collection, benefits, subsidy and balance per scheme for a month."""
    engine, who = engine_and_actor(actor, permission="reports.read", region=region)
    rep = monthly.monthly_report(engine, who, region, month)
    if xlsx:
        xlsx.write_bytes(export.monthly_xlsx(rep))
    if pdf_path:
        pdf_path.write_bytes(monthly_pdf(rep))
    if png:
        png.write_bytes(export.series_png(monthly.series(engine, who, region, month),
                                          f"{region} 基金收支 {month}"))
    out(rep)


@app.command("admin-budget")
def admin_budget(region: str = typer.Option(...), year: int = typer.Option(...),
                 actor: str = ACTOR):
    """The administration budget against the ratio × the year's collection."""
    engine, who = engine_and_actor(actor, permission="reports.read", region=region)
    out(monthly.administration_budget(engine, who, region, year))
