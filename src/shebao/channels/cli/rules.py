"""``shebao rules check|show|list``: validate the parameter tree, show what is in force;
``shebao calc NAME --json '{…}'``: one JSON object out; exit 2 naming the field on bad input."""
from __future__ import annotations

import json
import sys

import typer

from shebao.core.errors import InputError, RuleError, ShebaoError
from shebao.core.periods import parse_date
from shebao.core.regions import is_region_code

from shebao.rules import load_rules
from shebao.rules.calculators import calculate, registry
from shebao.rules.loader import Resolved, load_tree, parameters_root

app = typer.Typer(no_args_is_help=True, help="Law as data: dated, regional parameters.")


@app.command()
def check(path: str = typer.Option(None, "--path", help="a parameter tree (default: shipped)")):
    """Load and validate the whole tree; exit 2 with file, line and key on the first problem."""
    try:
        rules = load_tree(path or parameters_root())
    except RuleError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    regions = sorted(rules.regions_defined())
    typer.echo(f"ok: {len(rules.params)} parameters, {rules.count_values()} dated values checked "
               f"across {len(regions)} regions ({', '.join(regions)})")


def _show(res: Resolved) -> str:
    v = res.as_json()
    inherited = "" if res.region_from == res.region else f" (inherited from {res.region_from})"
    until = f" until {v['until']}" if v["until"] else ""
    value = json.dumps(v["value"], ensure_ascii=False) if not isinstance(v["value"], str) else v["value"]
    return (f"{res.name} = {value} {res.unit}\n"
            f"  region {res.region}{inherited}, in force from {v['effective_from']}{until}\n"
            f"  reference: {res.reference}")


@app.command()
def show(name: str, region: str = typer.Option(..., "--region"),
         date: str = typer.Option(..., "--date", help="YYYY-MM-DD"),
         as_json: bool = typer.Option(False, "--json")):
    """The value in force for a region on a date, its unit, where it is inherited from and its law."""
    if not is_region_code(region):
        raise InputError(f"{region!r} is not a six-digit GB/T 2260 code", field="region")
    try:
        on = parse_date(date)
    except ValueError as exc:
        raise InputError(str(exc), field="date") from None
    try:
        res = load_rules().lookup(name, region, on)
    except RuleError as exc:
        raise InputError(str(exc), field="name") from None
    typer.echo(json.dumps(res.as_json(), ensure_ascii=False) if as_json else _show(res))


@app.command("list")
def list_(prefix: str = typer.Argument("", help="only names starting with this")):
    """Every parameter name with its unit and description."""
    rules = load_rules()
    for n in rules.names(prefix):
        p = rules.parameter(n)
        typer.echo(f"{n:<48} {p.unit:<18} {p.description.strip()[:70]}")


def calc(name: str = typer.Argument(..., help="calculator: " + ", ".join(sorted(registry()))),
         request: str = typer.Option(..., "--json", help="the request as a JSON object")):
    """Run a calculator (citizen-id, uscc, retirement-age, contribution, pension, …)."""
    code = run_calc(name, request)
    if code:
        raise typer.Exit(code)


def run_calc(name: str, request: str) -> int:
    """``shebao calc NAME --json REQUEST``: the answer on stdout (0), or the error naming the
    field on stderr (2). Also the CLI's fast path for exactly that command line (see
    ``main.main``), which needs no command tree."""
    try:
        req = json.loads(request)
    except json.JSONDecodeError as exc:
        typer.echo(f"error: field 'json': not valid JSON ({exc.msg} at column {exc.colno})",
                   err=True)
        return 2
    try:
        out = calculate(name, req)
    except ShebaoError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0
