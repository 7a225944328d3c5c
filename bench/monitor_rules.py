"""Every monitoring rule over N insured and twelve months of pension payments on PostgreSQL,
with a row-at-a-time baseline in the same run.

    PYTHONPATH=src .venv/bin/python bench/monitor_rules.py [--people 1000000] [--sample 2000]

Setup (reported apart, not part of the figure): a throw-away database on the local server
(``devtools.scratch_db``), N insured of 310104 bulk-loaded by
``devtools.synthetic_population.load_population``, then in a few set-based statements: sex and
birth dates; a quarter of the persons not in the resident scheme pensioners (case, award, twelve payroll runs and their
payments for 2025-01…12: 3 payments per insured at N = 1M); one pensioner in 997 dead in March
but still paid; shared payroll accounts; the employees' wage declarations (some employers far
below the minimum wage); an arrears list with long arrears; recent hires near retirement age at
some employers; resident pension enrolments kept by some pensioners.

Timed:

* ``set-based``: ``supervision.monitor.run`` over the region (every rule in force, one
  statement per rule, alerts merged by fingerprint), then a second run (all alerts known:
  the deduplication path);
* ``row-at-a-time`` baseline for the first rule only (pension paid after death): per
  pensioner of the first ``--sample``, one SELECT of the person and one of their payments —
  the obvious implementation — extrapolated to all pensioners.

Writes ``bench/results/monitor_rules.json``.
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import text

from results import loadavg, save
from shebao.core.actor import Actor
from shebao.db.engine import make_engine
from shebao.devtools.scratch_db import scratch_database
from shebao.devtools.synthetic_population import load_population
from shebao.supervision import monitor

REGION = "310104"
AS_OF = "2025-12-31"
SETUP = [
    # sex and birth dates 1940-01-01 … 2004-12-31 spread by id
    "UPDATE person SET sex = CASE WHEN id % 2 = 0 THEN 'M' ELSE 'F' END, "
    "birth_date = DATE '1940-01-01' + ((id * 7919) % 23741)::int",
    # a quarter of the persons draw a pension
    "INSERT INTO pension_case (person_id, region, claim, status, opened_by, opened_at) "
    "SELECT id, :r, 'statutory', 'approved', 'bench', now() FROM person WHERE id % 4 = 0 "
    "AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE e.person_id = person.id "
    "AND e.scheme = 'resident_pension')",
    "INSERT INTO pension_award (person_id, case_id, region, start_month, monthly_fen, "
    "account_part_fen, amount_from, status, created_at) SELECT c.person_id, c.id, :r, "
    "DATE '2020-01-01', 200000 + (c.person_id * 31) % 600000, 0, DATE '2020-01-01', 'active', "
    "now() FROM pension_case c",
    "INSERT INTO payroll_run (region, month, status, created_by, created_at) "
    "SELECT :r, m::date, 'released', 'bench', now() FROM generate_series(DATE '2025-01-01', "
    "DATE '2025-12-01', interval '1 month') m",
    "INSERT INTO payment (run_id, person_id, award_id, region, month, attempt, amount_fen, "
    "account_part_fen, status, end_to_end_id) SELECT r.id, a.person_id, a.id, :r, r.month, 1, "
    "a.monthly_fen, 0, 'paid', 'B' || r.id || '-' || a.person_id FROM payroll_run r "
    "CROSS JOIN pension_award a",
    # dead in March 2025, still paid
    "UPDATE person SET status = 'deceased', death_date = DATE '2025-03-15' WHERE id % 3988 = 0",
    # shared payroll accounts: groups of pensioners on one account
    "UPDATE person SET bank_account = '62220000SHARED' || ((id / 4000) % 50) "
    "WHERE id % 4000 = 0",
    # declarations of the employees (their spell's wage); a few employers far below minimum
    "INSERT INTO base_declaration (region, kind, person_id, employer_id, year, effective_from, "
    "wage_fen, base_fen, clamp, reason, source, declared_by, declared_at) SELECT :r, "
    "'employee', e.person_id, e.employer_id, 2025, DATE '2025-07-01', CASE WHEN "
    "e.employer_id % 211 = 0 THEN 100000 ELSE e.wage_fen END, greatest(e.wage_fen, 746000), 0, "
    "'bench', 'bench', 'bench', now() FROM employment e",
    # an arrears list: one employer in 100, some of them long overdue
    "INSERT INTO arrears_flag (region, as_of, employer_id, bills, outstanding_fen, late_fee_fen, "
    "max_days, reason, actor, at) SELECT :r, DATE '2025-12-31', id, 3, 5000000, 50000, "
    "CASE WHEN id % 3 = 0 THEN 240 ELSE 100 END, 'bench', 'bench', now() FROM employer "
    "WHERE id % 100 = 0",
    # recent hires of people near retirement at one employer in 50
    "UPDATE employment SET start_date = DATE '2025-10-01' FROM person p WHERE p.id = "
    "employment.person_id AND employment.employer_id % 50 = 0 AND p.birth_date < DATE '1967-01-01'",
    # some pensioners keep a resident pension enrolment
    "INSERT INTO enrolment (person_id, origin_person_id, scheme, region, kind, start_date, status, "
    "source, created_at, created_by) SELECT a.person_id, a.person_id, 'resident_pension', :r, "
    "'resident', DATE '2019-01-01', 'active', 'bench', now(), 'bench' FROM pension_award a "
    "WHERE a.person_id % 1009 = 0 AND NOT EXISTS (SELECT 1 FROM enrolment e WHERE "
    "e.person_id = a.person_id AND e.scheme = 'resident_pension')",
    "ANALYZE",
]


def row_at_a_time(engine, sample: int) -> tuple[float, int, int]:
    """Pension after death, one pensioner at a time: (seconds, pensioners, found)."""
    found = 0
    t0 = time.perf_counter()
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text(
            "SELECT person_id FROM pension_award WHERE status = 'active' ORDER BY person_id "
            "LIMIT :n"), {"n": sample})]
        for pid in ids:
            death = conn.execute(text("SELECT death_date FROM person WHERE id = :p"),
                                 {"p": pid}).scalar()
            if death is None:
                continue
            paid = conn.execute(text("SELECT count(*), coalesce(sum(amount_fen), 0) FROM payment "
                                     "WHERE person_id = :p AND month > :d AND status IN "
                                     "('computed', 'sent', 'paid')"), {"p": pid, "d": death}).one()
            found += paid[0] > 0
    return time.perf_counter() - t0, len(ids), found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=2000)
    args = ap.parse_args()
    load = loadavg()
    inspector = Actor("bench-inspector", "inspector", "310000")
    with scratch_database("postgresql", prefix="shebao_monitor") as url:
        engine = make_engine(url)
        t0 = time.perf_counter()
        load_population(engine, REGION, args.people, seed=1, open_accounts=False)
        with engine.begin() as conn:
            for sql in SETUP:
                conn.execute(text(sql), {"r": REGION})
        with engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("person", "employment", "pension_award", "payment",
                                "base_declaration", "arrears_flag")}
        t_setup = time.perf_counter() - t0
        print(f"setup {t_setup:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
              flush=True)
        import datetime as dt
        d = dt.date.fromisoformat(AS_OF)
        t0 = time.perf_counter()
        first = monitor.run(engine, inspector, "310000", d)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = monitor.run(engine, inspector, "310000", d)
        t_second = time.perf_counter() - t0
        t_rows, n_rows, found_rows = row_at_a_time(engine, args.sample)
        pensioners = counts["pension_award"]
        t_base = t_rows * pensioners / max(n_rows, 1)
        engine.dispose()
    print(f"{args.people:,} insured, {counts['payment']:,} payments (12 months), "
          f"{len(first['per_rule'])} rules")
    print(f"  set-based, first run      {t_first:8.2f} s   (target ≤ 60 s): "
          f"{first['found']:,} alerts")
    for code, n in first["per_rule"].items():
        print(f"      {code:<30} {n:>7,}")
    print(f"  set-based, second run     {t_second:8.2f} s   ({second['new']} new, "
          f"{second['repeated']:,} seen again)")
    print(f"  row-at-a-time baseline    {t_base:8.1f} s   for ONE rule (pension after death), "
          f"extrapolated from {n_rows:,} pensioners ({t_rows:.2f} s, {found_rows} found)")
    save("monitor_rules", {"people": args.people, "counts": counts,
                           "setup_seconds": round(t_setup, 1),
                           "first_run_seconds": round(t_first, 2),
                           "second_run_seconds": round(t_second, 2),
                           "per_rule": first["per_rule"], "alerts": first["found"],
                           "baseline_one_rule_seconds_extrapolated": round(t_base, 1),
                           "baseline_sample": n_rows, "baseline_sample_seconds": round(t_rows, 2)},
         load_before=load)


if __name__ == "__main__":
    main()
