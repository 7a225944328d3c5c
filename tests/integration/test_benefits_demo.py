"""The pension stage of `shebao demo` end to end on SQLite and PostgreSQL: registry generate →
collection (2 months) → benefits demo; then the same again changes nothing."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text

from shebao.devtools import demo_benefits as demo
from shebao.benefits import decision_record
from shebao.benefits import history as H
from shebao.formats.iso20022 import validate
from shebao.devtools.demo_collection import run_months
from shebao.core.actor import SYSTEM
from shebao.core.money import to_fen
from shebao.devtools.generate_region import generate_region

REGION = "310104"


def _counts(engine) -> dict:
    with engine.connect() as c:
        q = {
            "cases": "SELECT COUNT(*) FROM pension_case",
            "history": "SELECT COUNT(*) FROM pension_history",
            "awards": "SELECT COUNT(*) FROM pension_award",
            "runs": "SELECT COUNT(*) FROM payroll_run",
            "payments": "SELECT COUNT(*) FROM payment",
            "paid_fen": "SELECT COALESCE(SUM(amount_fen), 0) FROM payment",
            "migration_entries": "SELECT COUNT(*) FROM ledger_entry "
                                 "WHERE source = 'benefits.legacy-migration'",
            "audit": "SELECT COUNT(*) FROM audit_log",
        }
        return {k: int(c.execute(text(v)).scalar_one()) for k, v in q.items()}


def _figure(lines: list[str], pattern: str) -> tuple:
    for ln in lines:
        m = re.search(pattern, ln)
        if m:
            return m.groups()
    raise AssertionError(f"no line matches {pattern!r} in {lines}")


def test_benefits_demo_after_generate_and_collection_and_again(engine, tmp_path):
    generate_region(engine, SYSTEM, people=300, employers=15, region=REGION,
                    today=dt.date(2026, 1, 1))
    run_months(engine, REGION, 2, out_dir=tmp_path / "collection")
    out = tmp_path / "benefits"
    lines = demo.run(engine, REGION, out_dir=out)
    text_ = "\n".join(lines)

    (month,) = _figure(lines, r"^demo month (\d{4}-\d{2}):")
    assert month > "2025-07"                       # after shebao's first collected month
    opened, in_all = map(int, _figure(lines, r"cases: (\d+) opened this run .*, (\d+) demo"))
    assert opened == in_all >= 1
    approved, short, incomplete = map(int, _figure(
        lines, r"approved .*: (\d+); short of the minimum contribution months: (\d+); "
               r"incomplete: (\d+)"))
    assert approved + short + incomplete == in_all and approved >= 1
    n_paid, total = _figure(lines, r"payroll \d{4}-\d{2}: (\d+) persons paid, total ([\d.]+)")
    (n_files,) = _figure(lines, r"payment files: (\d+) written")
    c1 = _counts(engine)
    assert c1["cases"] == in_all and c1["awards"] == approved and c1["runs"] == 1
    assert c1["payments"] == int(n_paid) and c1["paid_fen"] == to_fen(total)
    assert c1["migration_entries"] == 1 and c1["history"] > 0
    assert "legacy import (synthetic demo)" in text_

    # every case: month and category as the demo chose; record = legacy + shebao's own months
    with engine.connect() as c:
        cases = c.execute(text("SELECT id, person_id, status, retirement_date, decision, "
                               "total_fen FROM pension_case ORDER BY id")).all()
        sources = {r[0] for r in c.execute(text("SELECT DISTINCT source FROM pension_history"))}
        recs = H.history_rows(c, [r.person_id for r in cases])
        decisions = {r.id: decision_record.load(c, r.decision) for r in cases}
    assert sources == {"legacy import (synthetic demo)"}
    for r in cases:
        if r.status == "approved":
            inp = decisions[r.id]["inputs"]                # compact ones expanded
            assert inp["retirement_date"][:7] == month
            h = inp["history"]
            periods, _ = recs[r.person_id]
            counted = {"legacy": h["legacy"]["paid_months"] + h["legacy"]["deemed_months"],
                       "shebao": h["shebao"]["paid_months"]}
            # what the decision counted is exactly what the one source of truth gives, minus
            # shebao months from the retirement month on
            ret_month = dt.date.fromisoformat(inp["retirement_date"]).replace(day=1)
            assert counted["shebao"] == sum(p.months for p in periods if p.origin == "shebao"
                                            and p.period_start < ret_month)
            assert counted["legacy"] == sum(p.months for p in periods if p.origin == "legacy")
            assert {p["origin"] for p in h["periods"]} <= {"legacy", "shebao"}

    # the files: one pain.001 (valid against the XSD) and one CSV per page
    files = [ln.split()[0] for ln in lines if ln.startswith("  ") and str(out) in ln]
    assert len(files) == int(n_files) == 2
    xml = next(f for f in files if f.endswith(".pain.001.xml"))
    validate(open(xml, "rb").read(), "pain.001.001.09")
    assert open(next(f for f in files if f.endswith(".csv")), encoding="utf-8").read().count(
        "\n") == int(n_paid) + 1

    # a second `shebao demo`: no new case, no history twice, no second payroll or entry
    again = demo.run(engine, REGION, out_dir=out)
    c2 = _counts(engine)
    assert {k: v for k, v in c2.items() if k != "audit"} == \
        {k: v for k, v in c1.items() if k != "audit"}
    assert _figure(again, r"cases: (\d+) opened this run")[0] == "0"
    assert _figure(again, r"; (\d+) periods recorded this run")[0] == "0"

    def norm(ls):
        return [re.sub(r"\d+ (opened|periods recorded) this run", r"N \1 this run", x)
                for x in ls]
    assert norm(again) == norm(lines)
