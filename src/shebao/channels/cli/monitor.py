"""``shebao monitor …``: the monitoring platform (supervision rules, fund early warning,
projection).

    shebao monitor run [--region 310000] [--as-of DATE] [--rule CODE …] --actor INSPECTOR
    shebao monitor alerts [--status open] [--rule CODE] --actor INSPECTOR
    shebao monitor rules [--region R] [--as-of DATE]         the rules in force, with legal basis
    shebao monitor warnings --region 310000 [--fund pension] [--as-of DATE] --actor INSPECTOR
    shebao monitor project --region 310000 [--scenario NAME] [--chart out.png] [--json]

``run`` is meant to follow each monthly cycle (cron after ``payroll``/``collect assess``) and
may be run on demand; it is set-based over the whole scope and deduplicates its alerts.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import List, Optional

import typer

from shebao.core.regions import NATIONAL

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Monitoring: rules, alerts, fund warning, projection.")


def _date(v: str | None) -> dt.date | None:
    from shebao.core.errors import InputError
    try:
        return dt.date.fromisoformat(v) if v else None
    except ValueError:
        raise InputError(f"not a date: {v!r} (YYYY-MM-DD)", field="as_of") from None


@app.command("run")
def run_cmd(region: str = typer.Option(NATIONAL, help="region subtree (default national)"),
            as_of: Optional[str] = typer.Option(None, "--as-of", help="YYYY-MM-DD (default today)"),
            rule: Optional[List[str]] = typer.Option(None, "--rule", help="only these rules"),
            as_json: bool = typer.Option(False, "--json"), actor: str = ACTOR):
    """Run every monitoring rule in force over the region; new alerts, repeated ones updated."""
    from shebao.supervision import monitor
    d = _date(as_of)
    engine, who = engine_and_actor(actor, permission="supervision.monitor.run", region=region)
    res = monitor.run(engine, who, region, d, only=list(rule) if rule else None)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(res, ensure_ascii=False))
        return
    typer.echo(f"run {res['run_id']} {res['region']} as of {res['as_of']}: {res['found']} found, "
               f"{res['new']} new, {res['repeated']} seen before ({res['seconds']} s)")
    for code, n in res["per_rule"].items():
        typer.echo(f"  {code:<30} {n:>7}")


@app.command("alerts")
def alerts_cmd(status: str = typer.Option("open"), rule: Optional[str] = typer.Option(None),
               limit: int = typer.Option(50), as_json: bool = typer.Option(False, "--json"),
               actor: str = ACTOR):
    """Alerts in your scope, newest first (evidence names persons by id only)."""
    from shebao.supervision import alerts
    engine, who = engine_and_actor(actor, permission="supervision.alert.read")
    rows = alerts.list_alerts(engine, who, status=None if status == "all" else status, rule=rule,
                              limit=limit)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for a in rows:
        typer.echo(f"{a['id']:>6} {a['rule']:<28} {a['subject_type']:<8} "
                   f"{a['subject_id'] or a['subject_key'][:12]!s:<12} {a['region']} "
                   f"score {a['score']:>3} seen {a['times_seen']}× {a['status']}")


@app.command("rules")
def rules_cmd(region: str = typer.Option(NATIONAL), as_of: Optional[str] = typer.Option(None, "--as-of")):
    """The monitoring rules in force: parameters, dates and legal basis."""
    from shebao.supervision import monitor
    d = _date(as_of) or dt.date.today()
    for code, r in monitor.rule_set(region, d).items():
        typer.echo(f"{code}  (from {r['effective_from']})\n  basis: {r['basis']}\n"
                   f"  params: {json.dumps(r['params'], default=str, ensure_ascii=False)}")


@app.command("warnings")
def warnings_cmd(region: str = typer.Option(...), as_of: Optional[str] = typer.Option(None, "--as-of"),
                 fund: Optional[List[str]] = typer.Option(None, "--fund"),
                 chart: Optional[str] = typer.Option(None, help="write a PNG chart here"),
                 as_json: bool = typer.Option(False, "--json"), actor: str = ACTOR):
    """Fund early-warning indicators of a region (payable months, surplus, dependency,
    collection and arrears rates) against their bands; stored for the dashboard."""
    from shebao.monitoring import chart as charts, warning
    d = _date(as_of) or dt.date.today()
    engine, who = engine_and_actor(actor, permission="monitoring.run", region=region)
    rows = warning.compute(engine, who, region, d, tuple(fund) if fund else warning.FUNDS)
    engine.dispose()
    if chart:
        with open(chart, "wb") as fh:
            fh.write(charts.warnings_png(rows))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for r in rows:
        typer.echo(f"{r['region']} {r['fund']:<13} {r['indicator']:<22} {r['value'] or '-':>16} "
                   f"{r['level']}")


@app.command("project")
def project_cmd(region: str = typer.Option(...), as_of: Optional[str] = typer.Option(None, "--as-of"),
                scenario: Optional[List[str]] = typer.Option(None, "--scenario"),
                chart: Optional[str] = typer.Option(None, help="write a PNG chart here"),
                as_json: bool = typer.Option(False, "--json"), actor: str = ACTOR):
    """30-year projection of the region's employee pension fund, one table per scenario."""
    from shebao.monitoring import chart as charts, service
    d = _date(as_of) or dt.date.today()
    engine, who = engine_and_actor(actor, permission="monitoring.read", region=region)
    ps = service.project_region(engine, who, region, d, list(scenario) if scenario else None)
    engine.dispose()
    if chart:
        with open(chart, "wb") as fh:
            fh.write(charts.projection_png(ps, f"{region} {d.isoformat()}"))
    if as_json:
        typer.echo(json.dumps({p.scenario: {"assumptions": p.assumptions,
                                            "rows": service.table(p)} for p in ps},
                              ensure_ascii=False))
        return
    for p in ps:
        typer.echo(f"scenario {p.scenario}")
        typer.echo(f"{'year':>5} {'contrib.':>9} {'pension.':>9} {'income':>18} "
                   f"{'expenditure':>18} {'balance':>18} {'months':>8} {'dep.':>6}")
        for r in service.table(p):
            typer.echo(f"{r['year']:>5} {r['contributors']:>9} {r['pensioners']:>9} "
                       f"{r['income']:>18} {r['expenditure']:>18} {r['balance']:>18} "
                       f"{r['payable_months'] or '-':>8} {r['dependency'] or '-':>6}")
