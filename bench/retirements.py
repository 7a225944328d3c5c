"""Pension determination of a month's retirements, set-based, beside a row-at-a-time baseline.

    .venv/bin/python bench/retirements.py --persons 100000 [--backend postgresql|sqlite|both]
                                          [--sample 200] [--shebao-months 24]

Setup (not timed): N men of region 310000 born 1965-08-15 (statutory retirement 2025-10-15),
each with fifteen legacy paid years (one ``pension_history`` row a year, bases around the
average wage) and an individual pension account credited by one ledger batch (COPY). With
``--shebao-months N`` everyone also has the N months before retirement assessed and collected
by shebao itself (contribution rows, employers' bills with their pension lines paid; one
employer's last month unpaid), which trim or replace the legacy years they overlap — the
record of a retiree some years after shebao went live.

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


EMPLOYERS = 100      # payers of the seeded shebao months (bills per employer × month)


def seed_shebao_months(url: str, n: int, months: int) -> None:
    """``months`` months before the retirement month that shebao assessed and collected for
    every person (one contribution row each, the employer's bill with its pension line paid in
    full — except employer 1's last month, left unpaid: its employees' month is not counted),
    overlapping the legacy years they replace (2023-07 is trimmed, 2024-07 dropped)."""
    from shebao.collection import model
    from shebao.core.periods import add_months
    from shebao.db.bulk import day_number, insert_columns
    from shebao.db.dialect import after_explicit_ids
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    t = dt.datetime(2025, 9, 30, tzinfo=dt.timezone.utc)
    first = add_months(MONTH, -months)
    pid = np.arange(1, n + 1, dtype=np.int64)
    payer = pid % EMPLOYERS + 1
    base = (np.random.default_rng(12).integers(60, 300, n) * 100_000) // 10
    pen = {c: i for i, c in enumerate(model.AMOUNT_COLUMNS)}
    with eng.begin() as conn:
        for k in range(months):
            m = add_months(first, k)
            cols = {"run_id": 1, "region": REGION, "month": m, "person_id": pid,
                    "payer_type": "E", "payer_id": payer, "wage_fen": base, "base_fen": base,
                    "clamp": 0, "basis": 0, "injury_num": 0}
            amounts = {c: np.zeros(n, np.int64) for c in pen}
            amounts["pension_er_pool"] = base * 16 // 100
            amounts["pension_ee_ind"] = base * 8 // 100
            cols.update(amounts)
            cols["total_fen"] = amounts["pension_er_pool"] + amounts["pension_ee_ind"]
            insert_columns(conn, "contribution", [
                ("run_id", "i8"), ("region", "S"), ("month", "date"), ("person_id", "i8"),
                ("payer_type", "S"), ("payer_id", "i8"), ("wage_fen", "i8"), ("base_fen", "i8"),
                ("clamp", "i2"), ("basis", "i2"), ("injury_num", "i8")]
                + [(c, "i8") for c in pen] + [("total_fen", "i8")], cols)
            line = np.bincount(payer, weights=cols["total_fen"], minlength=EMPLOYERS + 1
                               )[1:].astype(np.int64)
            bid = np.arange(1, EMPLOYERS + 1) + k * EMPLOYERS
            paid = line.copy()
            if k == months - 1:
                paid[0] = 0
            insert_columns(conn, "bill", [
                ("id", "i8"), ("region", "S"), ("month", "date"), ("payer_type", "S"),
                ("payer_id", "i8"), ("e2e_id", "S"), ("total_fen", "i8"), ("paid_fen", "i8"),
                ("status", "T"), ("due_date", "date"), ("created_at", "ts"),
                ("updated_at", "ts")], {
                "id": bid, "region": REGION, "month": m, "payer_type": "E",
                "payer_id": np.arange(1, EMPLOYERS + 1),
                "e2e_id": [model.e2e_id(REGION, m, "E", e) for e in range(1, EMPLOYERS + 1)],
                "total_fen": line, "paid_fen": paid,
                "status": ["paid" if x else "open" for x in paid.tolist()],
                "due_date": np.full(EMPLOYERS, day_number(m) + 14), "created_at": t,
                "updated_at": t})
            insert_columns(conn, "bill_line", [
                ("id", "i8"), ("bill_id", "i8"), ("scheme", "S"), ("employer_fen", "i8"),
                ("employee_fen", "i8"), ("amount_fen", "i8"), ("paid_fen", "i8")], {
                "id": bid, "bill_id": bid, "scheme": "pension", "employer_fen": line * 2 // 3,
                "employee_fen": line - line * 2 // 3, "amount_fen": line, "paid_fen": paid})
        after_explicit_ids(conn, list(("contribution", "bill", "bill_line")))   # sequences past the ids, statistics
    eng.dispose()


def _child_seed(url, n, months, q):
    t0 = time.perf_counter()
    seed(url, n)
    if months:
        seed_shebao_months(url, n, months)
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
        sd = pension_bench._in_child(_child_seed, url, args.persons, args.shebao_months)
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
    ap.add_argument("--shebao-months", type=int, default=0,
                    help="months shebao itself collected before retirement, for everyone")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    load = results.loadavg()
    figures = {"persons": args.persons, "shebao_months": args.shebao_months}
    for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        figures[b] = run_backend(b, args)
    name = "retirements" + (f"_shebao{args.shebao_months}" if args.shebao_months else "")
    print("wrote", results.save(name, figures, load_before=load))


if __name__ == "__main__":
    main()
