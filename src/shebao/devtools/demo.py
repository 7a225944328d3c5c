"""``shebao demo`` (what ``make demo`` runs): a working platform on the embedded SQLite default.

Each stage uses only public service functions: database → parameters → a generated region →
monthly collection cycles → pension payroll → the web server.
"""
from __future__ import annotations

import datetime as dt
import os

from rich.console import Console
from rich.table import Table

from shebao.core.regions import NATIONAL, name as region_name
from shebao.db.engine import database_url, make_engine
from shebao.db.migrate import upgrade
from shebao.rules import load_rules

from . import demo_admin, demo_benefits, demo_collection, generate_region
from .demo_users import demo_account, seed_demo_users

console = Console()


def _parameters_summary(region: str, on: dt.date) -> Table:
    rules = load_rules()
    t = Table(title=f"Parameters in force for {region} {region_name(region) or ''} on {on}")
    for col in ("parameter", "value", "unit", "from"):
        t.add_column(col, overflow="fold")
    for n in ("contribution.base.floor", "contribution.base.ceiling", "pension.calc_base",
              "contribution.pension.employer_rate", "contribution.pension.employee_rate",
              "contribution.medical.employer_rate", "contribution.unemployment.employer_rate",
              "collection.late_fee_rate", "pension.account_interest_rate"):
        if rules.has(n, region, on):
            r = rules.lookup(n, region, on)
            t.add_row(n, str(r.value), r.unit, r.region_from)
    return t


def run_demo(*, region: str = "310104", people: int = 5000, employers: int = 200,
             months: int = 3, serve: bool = True) -> None:
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
    console.print("   (each value's legal reference: shebao rules show NAME --region CODE --date D)")
    engine = make_engine(url)
    done = ["database", "parameters"]
    next_steps = [
        "shebao rules show contribution.base.floor --region 310104 --date 2025-08-01",
        "shebao calc contribution --json '{\"region\": \"310000\", \"month\": \"2025-08\", "
        "\"wage\": \"12000\", \"kind\": \"employee\", \"injury_class\": 1}'",
        "shebao calc retirement-age --json '{\"birth_date\": \"1967-05-10\", \"category\": \"male\"}'",
    ]

    existing = _count(engine, "SELECT COUNT(*) FROM person")
    if existing:
        console.print(f"3. registry: {existing} persons already there (delete ./var to start "
                      f"afresh)")
    else:
        console.print(f"3. registry: generating {people} persons and {employers} employers "
                      f"in {region}")
        admin = demo_account(engine, "admin", "administrator", NATIONAL, "管理员")
        res = generate_region.generate_region(engine, admin, people=people,
                                              employers=employers, region=region, today=on)
        console.print(f"   {res.as_json()}")
    done.append("registry")
    next_steps += ["shebao quality report", "shebao dedup run"]

    console.print(f"4. collection: {months} monthly cycles (assess → bill → bank → post → "
                  f"reconcile → arrears)")
    figs = demo_collection.run_months(engine, region, months)
    console.print(_figures_table(figs))
    done.append("collection")
    next_steps += [f"shebao collect reconcile --region {region} --month {figs[-1]['month']}",
                   "shebao ledger check"]

    console.print("5. pensions")
    for line in demo_benefits.run(engine, region):
        console.print(f"   {line}")
    done.append("benefits")

    console.print("6. administration: organisation, outsourcing, training, fund accounts")
    for line in demo_admin.run(engine, region, on):
        console.print(f"   {line}")
    done.append("administration")
    next_steps += [f"shebao reports statement --region {region} --scheme pension "
                   f"--from {on.year - 1}-01-01 --to {on} --actor admin"]

    console.rule("done: " + ", ".join(done))
    console.print("Next, try:")
    for s in next_steps:
        console.print(f"  .venv/bin/{s}")
    if serve and not os.environ.get("SHEBAO_DEMO_NO_SERVE"):
        from shebao.channels.cli.serve import serve as serve_web

        person_id, employer_id = _demo_citizen_and_employer(engine, region)
        console.rule("web portals")
        seed_demo_users(engine, region=region, person_id=person_id, employer_id=employer_id,
                        out=console.print)
        demo_admin.assign_staff(engine, region, on)
        console.print("staff back office /staff · citizen portal /me · employer portal /employer "
                      "· API /api/v1/docs — Ctrl-C stops the server")
        engine.dispose()
        serve_web(host="127.0.0.1", port=int(os.environ.get("SHEBAO_PORT", "8000")),
                  db=url, dev=True)


def _count(engine, sql: str) -> int:
    from sqlalchemy import text

    with engine.connect() as c:
        return int(c.execute(text(sql)).scalar_one())


def _demo_citizen_and_employer(engine, region: str):
    """An employed person of the region and their employer, for the demo portal logins."""
    from sqlalchemy import text

    with engine.connect() as c:
        row = c.execute(text(
            "SELECT e.person_id, e.employer_id FROM employment e "
            "ORDER BY e.person_id LIMIT 1")).first()
    return (row[0], row[1]) if row else (None, None)


def _figures_table(figs: list[dict]) -> Table:
    """One column per month, one row per figure (reads well on a narrow terminal)."""
    t = Table(title="collection, month by month (amounts in yuan)")
    t.add_column("figure")
    for f in figs:
        t.add_column(f["month"], justify="right")
    rows = ["persons", "assessed", "bills", "debits", "collected", "suspense", "partial",
            "overpaid", "outstanding", "reimport_posted", "reconciled", "in_arrears",
            "flagged_for_supervision", "late_fees", "late_fees_charged_in_run",
            "late_fees_not_yet_charged"]
    for r in rows:
        t.add_row(r.replace("_", " "), *[str(f.get(r, "")) for f in figs])
    return t
