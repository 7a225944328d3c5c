"""``shebao demo`` (what ``make demo`` runs): a working platform on the embedded SQLite default.

Each stage uses only public service functions of its package, and a stage whose package has not
landed is reported as such rather than faked. Stages: database → parameters → (as the bureaus
land) a generated region → monthly collection cycles → pension payroll → the web server.
"""
from __future__ import annotations

import datetime as dt
import importlib
import os

import typer
from rich.console import Console
from rich.table import Table

from shebao.core.regions import name as region_name
from shebao.db.engine import database_url, make_engine
from shebao.db.migrate import upgrade
from shebao.rules import load_rules

console = Console()


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module or module.startswith(exc.name + ".")):
            return None
        raise


def _parameters_summary(region: str, on: dt.date) -> Table:
    rules = load_rules()
    t = Table(title=f"Parameters in force for {region} {region_name(region) or ''} on {on}")
    for col in ("parameter", "value", "unit", "from region", "reference"):
        t.add_column(col, overflow="fold")
    for n in ("contribution.base.floor", "contribution.base.ceiling", "pension.calc_base",
              "contribution.pension.employer_rate", "contribution.pension.employee_rate",
              "contribution.medical.employer_rate", "contribution.unemployment.employer_rate",
              "collection.late_fee_rate", "pension.account_interest_rate"):
        if rules.has(n, region, on):
            r = rules.lookup(n, region, on)
            t.add_row(n, str(r.value), r.unit, r.region_from, r.reference[:60])
    return t


def app(region: str = typer.Option("310104", help="GB/T 2260 code of the demo region"),
        people: int = typer.Option(5000, help="insured persons to generate"),
        employers: int = typer.Option(200, help="employers to generate"),
        months: int = typer.Option(3, help="monthly collection cycles to run"),
        serve: bool = typer.Option(True, help="end by serving the web portals")):
    """Create the database, load the law, build a region and run it; then say what to do next."""
    url = database_url()
    console.rule("[bold]shebao 社保 demo")
    console.print(f"1. database: {url}")
    upgrade(url)
    console.print("   migrations applied (shebao db upgrade)")
    rules = load_rules()
    console.print(f"2. law as data: {len(rules.params)} parameters, {rules.count_values()} dated "
                  f"values, regions {', '.join(sorted(rules.regions_defined()))}")
    on = dt.date(2026, 1, 1)
    console.print(_parameters_summary(region, on))
    engine = make_engine(url)
    done = ["database", "parameters"]
    next_steps = [
        "shebao rules show contribution.base.floor --region 310104 --date 2025-08-01",
        "shebao calc contribution --json '{\"region\": \"310000\", \"month\": \"2025-08\", "
        "\"wage\": \"12000\", \"kind\": \"employee\", \"injury_class\": 1}'",
        "shebao calc retirement-age --json '{\"birth_date\": \"1967-05-10\", \"category\": \"male\"}'",
    ]

    gen = _optional("shebao.registry.generate")
    if gen is not None and hasattr(gen, "demo_region"):
        console.print(f"3. registry: generating {people} persons and {employers} employers in {region}")
        summary = gen.demo_region(engine, region=region, people=people, employers=employers)
        console.print(f"   {summary}")
        done.append("registry")
    else:
        console.print("3. registry: not available in this build")

    coll = _optional("shebao.collection.demo")
    if coll is not None and "registry" in done:
        console.print(f"4. collection: {months} monthly cycles")
        for fig in coll.run_months(engine, region, months):
            console.print(f"   {fig}")
        done.append("collection")

    pay = _optional("shebao.benefits.demo")
    if pay is not None and "collection" in done:
        console.print("5. pensions")
        for line in pay.run(engine, region):
            console.print(f"   {line}")
        done.append("benefits")

    console.rule("done: " + ", ".join(done))
    console.print("Next, try:")
    for s in next_steps:
        console.print(f"  .venv/bin/{s}")
    web = _optional("shebao.channels.web.demo")
    if serve and web is not None and not os.environ.get("SHEBAO_DEMO_NO_SERVE"):
        web.serve_demo(engine, region)
