"""Pension determination of a month's retirements, set-based, beside a row-at-a-time baseline.

    .venv/bin/python bench/retirements.py --persons 100000 [--backend postgresql|sqlite|both]
                                          [--sample 200]

Setup (not timed): N men of region 310000 born 1965-08-15 (statutory retirement 2025-10-15),
each with fifteen legacy paid years (one ``pension_history`` row a year, bases around the
average wage) and an individual pension account credited by one ledger batch (COPY).

Timed, in fresh child processes: ``set-based`` = ``determination.open_batch`` for 2025-10 (the
persons reaching the age, the cases opened and computed in chunks: record, index, account
interest, the three amounts, the decision JSON); ``row-at-a-time`` = ``open_case_for`` person
by person (one case opened and computed per transaction) on ``--sample`` other persons,
extrapolated to N. Writes bench/results/retirements.json; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import payroll as pension_bench  # noqa: E402  (COPY helper, child processes, peak RSS)
import results  # noqa: E402

from shebao.devtools.scratch_db import scratch_database  # noqa: E402

REGION = "310000"
MONTH = dt.date(2025, 10, 1)
BIRTH = dt.date(1965, 8, 15)


def seed(url: str, n: int) -> None:
    from shebao.core.actor import Actor
    from shebao.core.money import to_fen
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger
    from shebao.ledger.model import Batch, contribution_entry
    from shebao.rules import load_rules

    eng = make_engine(url)
    sysa = Actor(id="bench", role="system")
    ledger.open_chart(eng, sysa, REGION, schemes=("pension",))
    rules = load_rules()
    wages = {y: to_fen(rules.value("wage.average_monthly", REGION, dt.date(y, 7, 1)))
             for y in range(2010, 2025)}
    rng = np.random.default_rng(11)
    factor = rng.integers(60, 300, n)
    t = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
    with eng.begin() as conn:
        cp = pension_bench._copy_or_many
        cp(conn, "person", ["id", "citizen_id", "name", "sex", "birth_date", "pension_region",
                            "bank_name", "bank_account", "status", "version", "source",
                            "created_at", "updated_at"],
           ((i + 1, f"R{i:017d}", f"退休{i}", "M", BIRTH, REGION, "中国工商银行",
             f"6222{i:012d}", "active", 1, "bench", t, t) for i in range(n)))
        cp(conn, "pension_history", ["person_id", "region", "period_start", "months",
                                     "base_total_fen", "kind", "source", "recorded_at",
                                     "recorded_by"],
           ((i + 1, REGION, dt.date(y, 7, 1), 12, int(wages[y] * factor[i] // 100) * 12, "paid",
             "bench", t, "bench") for i in range(n) for y in range(2010, 2025)))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('person', 'id'), "
                                 "(SELECT max(id) FROM person))")
    pids = np.arange(1, n + 1, dtype=np.int64)
    be = contribution_entry(REGION, "pension", dt.date(2024, 12, 31), debit_kind="fund_bank",
                            person_ids=pids, pooled_fen=np.zeros(n, np.int64),
                            individual_fen=rng.integers(5_000_000, 40_000_000, n),
                            source="bench")
    ledger.post_batch(eng, sysa, "bench:accounts", Batch([be]), open_missing=True)
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    eng.dispose()


def _child_seed(url, n, q):
    t0 = time.perf_counter()
    seed(url, n)
    q.put({"seconds": time.perf_counter() - t0})


def _child_batch(url, q):
    from shebao.benefits import determination as det
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    t0 = time.perf_counter()
    r = det.open_batch(eng, Actor(id="bench", role="system"), REGION, MONTH)
    q.put({"seconds": time.perf_counter() - t0, "opened": r.opened, "by_status": r.by_status,
           "maxrss_kib": pension_bench.peak_rss_kib()})


def _child_baseline(url, n, sample, q):
    """Row at a time: one person's case opened and computed per call, on persons the batch
    did not take (their cases are withdrawn first so each can be opened again)."""
    from sqlalchemy import text

    from shebao.benefits import determination as det
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    actor = Actor(id="bench", role="system")
    ids = list(range(n - sample + 1, n + 1))
    with eng.begin() as c:
        c.execute(text("DELETE FROM pension_case WHERE person_id > :lo"), {"lo": n - sample})
    t0 = time.perf_counter()
    for pid in ids:
        det.open_case_for(eng, actor, pid, REGION)
    q.put({"seconds": time.perf_counter() - t0, "cases": len(ids),
           "maxrss_kib": pension_bench.peak_rss_kib()})


def run_backend(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="retirements_bench") as url:
        sd = pension_bench._in_child(_child_seed, url, args.persons)
        print(f"[{backend}] seeded {args.persons} persons in {sd['seconds']:.1f} s (not timed)",
              flush=True)
        sb = pension_bench._in_child(_child_batch, url)
        bl = pension_bench._in_child(_child_baseline, url, args.persons,
                                     min(args.sample, args.persons))
        per = bl["seconds"] / max(bl["cases"], 1)
        print(f"[{backend}] set-based     : {sb['opened']} cases {sb['by_status']} in "
              f"{sb['seconds']:.2f} s, peak RSS {sb['maxrss_kib'] / 1024:.0f} MiB", flush=True)
        print(f"[{backend}] row-at-a-time : {bl['cases']} cases in {bl['seconds']:.2f} s; "
              f"extrapolated to {args.persons}: {per * args.persons:.0f} s", flush=True)
        return {"set_based_seconds": round(sb["seconds"], 2), "opened": sb["opened"],
                "by_status": sb["by_status"], "peak_rss_mib": round(sb["maxrss_kib"] / 1024),
                "baseline_cases": bl["cases"], "baseline_seconds": round(bl["seconds"], 2),
                "baseline_extrapolated_seconds": round(per * args.persons, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="postgresql")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    load = results.loadavg()
    figures = {"persons": args.persons}
    for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        figures[b] = run_backend(b, args)
    print("wrote", results.save("retirements", figures, load_before=load))


if __name__ == "__main__":
    main()
