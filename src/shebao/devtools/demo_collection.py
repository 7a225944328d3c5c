"""What ``shebao demo`` (``make demo``) runs for the collection bureau.

``run_months(engine, region, months, *, start="2025-07", out_dir=None, seed=7) -> list[dict]``
runs the whole monthly cycle ``months`` times for a region that the registry has populated:

    (first month: a few flexible workers choose a base, a few residents a tier)
    assess + bills → pain.008 export → the simulated bank answers with a camt.053 statement
    → import (match, partial/over-payment, suspense, ledger; late settlements charged)
    → late-fee run 30 days after the due date → reconcile → arrears

and (second month) a late wage declaration followed by a correction run of the first month,
which posts only the difference. Returns one dict of figures per month (amounts in yuan as
strings), in the order run; each is also safe to print as is.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months, month_str, parse_month

from shebao.collection import bank, bills, declarations
from shebao.collection.arrears import arrears
from shebao.collection.assess import assess
from shebao.collection.latefee import charge_late_fees
from shebao.collection.reconcile import reconcile

from .demo_users import demo_account



def _first_choices(engine, clerk: Actor, region: str, month: dt.date, limit: int = 10) -> int:
    """A few flexible workers choose a base and a few residents a tier (through the services)."""
    from shebao.rules.loader import load_rules
    from shebao.core.money import to_fen
    rules = load_rules()
    floor = to_fen(rules.value("contribution.base.floor", region, month))
    tiers = [int(t) for t in rules.value("resident.pension_tiers", region, month)["tiers"]]
    with engine.connect() as c:
        flex = [r[0] for r in c.execute(text(
            "SELECT DISTINCT person_id FROM enrolment WHERE region = :r AND kind = 'flexible' "
            "AND scheme = 'pension' AND start_date <= :m AND (end_date IS NULL OR end_date >= :m)"
            " ORDER BY person_id LIMIT :n"), {"r": region, "n": limit, "m": month})]
        res = [r[0] for r in c.execute(text(
            "SELECT DISTINCT person_id FROM enrolment WHERE region = :r AND kind = 'resident' "
            "AND scheme = 'resident_pension' AND start_date <= :m AND (end_date IS NULL OR "
            "end_date >= :m) ORDER BY person_id LIMIT :n"), {"r": region, "n": limit, "m": month})]
    n = 0
    for i, pid in enumerate(flex):
        declarations.choose_flexible_base(engine, clerk, person_id=pid, month=month,
                                     base_fen=floor + 50_000 * (i % 5))
        n += 1
    for i, pid in enumerate(res):
        for year in (month.year, month.year + 1):
            declarations.choose_resident_tier(engine, clerk, person_id=pid, year=year,
                                         tier_yuan=tiers[i % len(tiers)])
        n += 1
    return n


def _late_declaration(engine, clerk: Actor, region: str, month: dt.date) -> dict | None:
    with engine.connect() as c:
        r = c.execute(text(
            "SELECT en.person_id, en.employer_id FROM enrolment en WHERE en.region = :r AND "
            "en.kind = 'employee' AND en.scheme = 'pension' AND en.start_date <= :m AND "
            "(en.end_date IS NULL OR en.end_date >= :m) ORDER BY en.person_id LIMIT 1"),
            {"r": region, "m": month}).first()
    if r is None:
        return None
    # the declaration year in force in ``month`` (its adjustment date is on or before it)
    year = month.year if declarations.effective_date(region, month.year) <= month else month.year - 1
    try:
        d = declarations.declare_wage(engine, clerk, person_id=r[0], employer_id=r[1],
                                 year=year, wage_fen=2_500_000)
    except InputError:
        return None
    return d.as_dict()


def run_months(engine, region: str, months: int, *, start: str = "2025-07", out_dir=None,
               seed: int = 7, clerk: Actor | None = None) -> list[dict]:
    """``clerk``: the collection clerk acting (default the demo's ``collector`` account of the
    region)."""
    clerk = clerk or demo_account(engine, "collector", "collection_clerk", region, "征缴经办")
    out_dir = Path(out_dir or Path("var") / "collection" / "demo")
    out_dir.mkdir(parents=True, exist_ok=True)
    first = parse_month(start)
    figures = []
    for k in range(months):
        m = add_months(first, k)
        fig: dict = {"month": month_str(m), "region": region}
        if k == 0:
            fig["choices"] = _first_choices(engine, clerk, region, m)
        r = assess(engine, clerk, region, m)
        b = bills.make_bills(engine, clerk, region, m)
        fig.update(persons=r.persons, assessed=fen_to_yuan_str(r.total_fen), bills=b.bills)
        if k == 1:
            late = _late_declaration(engine, clerk, region, first)
            if late:
                c = assess(engine, clerk, region, first)
                bills.make_bills(engine, clerk, region, first)
                fig["late_declaration"] = {"base": late["base"], "reason": late["reason"]}
                fig["correction_of_" + month_str(first)] = {
                    "rows": c.rows, "difference": fen_to_yuan_str(c.total_fen)}
        try:
            x = bank.export_bank(engine, clerk, region, m, out_dir=out_dir)
        except Exception as exc:  # noqa: BLE001 - nothing to collect is a figure, not a crash
            fig["export"] = str(exc)
            figures.append(fig)
            continue
        st = bank.simulate_bank(x.path, seed=seed + k)
        imp = bank.import_bank(engine, clerk, st, region=region,
                               kept_dir=out_dir / "rejected")
        again = bank.import_bank(engine, clerk, st, region=region,
                                 kept_dir=out_dir / "rejected")
        due = dt.date.fromisoformat(_due(engine, region, m)[:10])
        as_of = due + dt.timedelta(days=30)
        charged = (charge_late_fees(engine, clerk, region, as_of)
                   if as_of <= dt.date.today() else None)
        rec = reconcile(engine, clerk, region, m)
        arr = arrears(engine, clerk, region, as_of)
        outstanding = sum(row["outstanding"] for row in rec.rows)
        fig.update(debits=x.transactions, collected=imp.as_dict()["applied"],
                   suspense=imp.as_dict()["suspense"], partial=imp.partial,
                   overpaid=imp.overpaid, unmatched=imp.unmatched,
                   reimport_posted=again.new, outstanding=fen_to_yuan_str(outstanding),
                   reconciled=rec.ok, in_arrears=len(arr.payers),
                   flagged_for_supervision=len(arr.flagged),
                   late_fees=fen_to_yuan_str(sum(p["late_fee_fen"] for p in arr.payers)),
                   late_fees_charged_in_run=fen_to_yuan_str(charged.fen) if charged else "0.00",
                   late_fees_not_yet_charged=fen_to_yuan_str(
                       sum(p["late_fee_not_charged_fen"] for p in arr.payers)))
        figures.append(fig)
    return figures


def _due(engine, region: str, m: dt.date) -> str:
    with engine.connect() as c:
        d = c.execute(text("SELECT MIN(due_date) FROM bill WHERE region = :r AND month = :m"),
                      {"r": region, "m": m}).scalar_one()
    return str(d)
