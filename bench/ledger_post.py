"""Batch posting speed vs a bare bulk insert of the same rows, SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_post.py [--persons 100000] [--runs 3] [--backend both]

Each run posts one batch — a contribution run for one region: an aggregated entry per scheme
(pension, medical) with one posting per person to the individual accounts — through
``ledger.service.post_batch`` (validation, content hash, idempotency key, entry + posting
rows with the database's balance and append-only guards, set-based balance update, audit
record, commit). In the same run the same rows go into an unconstrained, unindexed table
with the same bulk path (binary COPY on PostgreSQL, executemany on SQLite) and commit.
The ratio is what the invariants cost. Prints figures; asserts nothing about time.

PostgreSQL: a database ``ledger_bench_<random>`` is created on ``--pg-admin``'s server and
dropped at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.db.bulk import day_number, insert_columns
from shebao.db.engine import make_engine
from shebao.devtools.scratch_db import scratch_database
from shebao.ledger import model, service

ACTOR = Actor(id="bench", role="system")
REGION = "310000"
SCHEMES = ("pension", "medical")


def make_batch(persons: int, run: int) -> model.Batch:
    rng = np.random.default_rng(run)
    pids = np.arange(1, persons + 1, dtype=np.int64)
    return model.Batch([model.contribution_entry(
        REGION, s, dt.date(2025, 1, 1) + dt.timedelta(days=31 * run), debit_kind="bank_transit",
        person_ids=pids, pooled_fen=rng.integers(5_000, 300_000, persons),
        individual_fen=rng.integers(1_000, 80_000, persons), source="bench")
        for s in SCHEMES])


def bare_insert(engine, rows: tuple[np.ndarray, ...]) -> float:
    """The same rows into an unconstrained table by the project's bulk path (binary COPY on
    PostgreSQL, executemany on SQLite)."""
    e, a, m, d = rows
    t0 = time.perf_counter()
    with engine.begin() as conn:
        insert_columns(conn, "bench_bare", [("entry_id", "i8"), ("account_id", "i8"),
                                            ("amount", "i8"), ("effective_date", "date")],
                       {"entry_id": e, "account_id": a, "amount": m,
                        "effective_date": d})
    return time.perf_counter() - t0


def run_backend(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="ledger_bench") as url:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_bare (entry_id BIGINT, account_id BIGINT, "
                              "amount BIGINT, effective_date DATE)"))
        t0 = time.perf_counter()
        service.open_chart(engine, ACTOR, REGION, SCHEMES)
        for s in SCHEMES:
            service.open_individual_accounts(engine, ACTOR, REGION, s, range(1, args.persons + 1))
        t_open = time.perf_counter() - t0
        ledger_t, bare_t, n_post = [], [], 0
        for run in range(args.runs):
            batch = make_batch(args.persons, run)
            t0 = time.perf_counter()
            res = service.post_batch(engine, ACTOR, f"bench:{run}", batch)
            ledger_t.append(time.perf_counter() - t0)
            n_post = res.n_postings
            # the same rows, bare: read back what was posted (not timed), insert them bare
            with engine.connect() as c:
                rows = np.array(c.execute(text(
                    "SELECT entry_id, account_id, amount FROM ledger_posting "
                    "WHERE entry_id IN (" + ",".join(map(str, res.entry_ids)) + ")")).all(),
                    dtype=np.int64)
            days = np.full(len(rows), day_number(batch.entries[0].effective_date), np.int64)
            bare_t.append(bare_insert(engine, (rows[:, 0], rows[:, 1], rows[:, 2], days)))
        from shebao.ledger import check
        t0 = time.perf_counter()
        rep = check.run_check(engine)
        t_check = time.perf_counter() - t0
        engine.dispose()
    led, bare = statistics.median(ledger_t), statistics.median(bare_t)
    return {"backend": backend, "postings": n_post, "ledger_s": led, "bare_s": bare,
            "ledger_rate": n_post / led, "bare_rate": n_post / bare, "open_s": t_open,
            "check_s": t_check, "check_ok": rep.ok, "runs": args.runs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"batch of {args.persons:,} persons × {len(SCHEMES)} schemes per run, "
          f"median of {args.runs} runs")
    print(f"{'backend':<11}{'postings/run':>13}{'ledger post/s':>15}{'bare insert/s':>15}"
          f"{'ratio':>8}{'ledger s':>10}{'bare s':>9}{'check s':>9}")
    figures = {"persons": args.persons, "runs": args.runs, "backends": {}}
    for b in backends:
        r = run_backend(b, args)
        figures["backends"][b] = r
        print(f"{b:<11}{r['postings']:>13,}{r['ledger_rate']:>15,.0f}{r['bare_rate']:>15,.0f}"
              f"{r['bare_rate'] / r['ledger_rate']:>7.2f}x{r['ledger_s']:>10.2f}"
              f"{r['bare_s']:>9.2f}{r['check_s']:>9.2f}"
              f"{'' if r['check_ok'] else '  CHECK FAILED'}")
    _save("ledger_post", figures)
    return 0


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    sys.exit(main())
