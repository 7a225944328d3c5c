"""Pension payroll speed and peak memory, with a row-at-a-time baseline in the same run.

    .venv/bin/python bench/payroll.py --pensioners 100000 [--backend both|sqlite|postgresql]
                                      [--sample 2000] [--chunk 50000] [--release]

Setup (not timed): a freshly migrated database (SQLite file, or a throw-away PostgreSQL
database on ``--pg-admin``'s server, dropped at the end) gets N pensioners of region 310000
bulk-loaded: person rows with a bank account, an individual pension account each (balance
seeded directly: some empty, some smaller than the account part, most larger), an approved
case and an active award each (amounts 1,500–9,000 yuan).

Timed, each in a fresh child process (peak resident memory = that process's VmHWM):

* ``set-based``: ``benefits.payroll.run`` for 2025-11 — keyset chunks of awards by person id;
  per chunk one statement in which the database computes the amounts in force and the
  account/pool split and inserts the payments (``INSERT … SELECT``, no text through Python),
  returning four integers per person (binary COPY → numpy); one ledger batch entry per chunk
  (per-person individual-account postings), cursor, audit;
* ``row-at-a-time`` baseline on the first ``--sample`` pensioners for 2025-12: per pensioner one
  SELECT, one INSERT of the payment, one ledger ``post_entry`` and a commit — the obvious
  implementation — extrapolated to N;
* ``release`` (with ``--release``): maker-checker, pain.001.001.09 build + XSD validation +
  CSV, payments marked sent, ledger entry.

Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

from shebao.devtools.scratch_db import scratch_database

REGION = "310000"
MONTH = dt.date(2025, 11, 1)
BASELINE_MONTH = dt.date(2025, 12, 1)


def _copy_or_many(conn, table: str, columns: list[str], rows) -> None:
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                             [tuple(r) for r in rows])


def seed(url: str, n: int) -> None:
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger

    eng = make_engine(url)
    ledger.open_chart(eng, Actor(id="bench", role="system"), REGION, schemes=("pension",))
    rng = np.random.default_rng(7)
    monthly = rng.integers(150_000, 900_000, n)
    apart = (monthly * rng.integers(20, 45, n)) // 100
    bal = np.where(rng.random(n) < 0.05, 0,
                   np.where(rng.random(n) < 0.05, apart // 2, apart * rng.integers(5, 200, n)))
    t = dt.datetime(2025, 10, 1, tzinfo=dt.timezone.utc)
    start = dt.date(2020, 1, 1)
    with eng.begin() as conn:
        pid0 = 1
        _copy_or_many(conn, "person", ["id", "citizen_id", "name", "sex", "birth_date",
                                       "pension_region", "bank_name", "bank_account", "status",
                                       "version", "source", "created_at", "updated_at"],
                      ((pid0 + i, f"B{i:017d}", f"退休{i}", "M", dt.date(1955, 1, 1), REGION,
                        "中国工商银行", f"6222{i:012d}", "active", 1, "bench", t, t)
                       for i in range(n)))
        _copy_or_many(conn, "ledger_account", ["code", "region", "scheme", "kind", "person_id",
                                               "normal_sign", "no_negative", "balance",
                                               "opened_at"],
                      ((f"{REGION}.pension.individual.{pid0 + i}", REGION, "pension",
                        "individual", pid0 + i, -1, True, -int(bal[i]), t) for i in range(n)))
        _copy_or_many(conn, "pension_case", ["id", "person_id", "region", "category", "claim",
                                             "retirement_date", "status", "opened_by",
                                             "opened_at", "total_fen", "account_fen"],
                      ((pid0 + i, pid0 + i, REGION, "male", "statutory", start, "approved",
                        "bench", t, int(monthly[i]), int(apart[i])) for i in range(n)))
        _copy_or_many(conn, "pension_award", ["id", "person_id", "case_id", "region",
                                              "start_month", "monthly_fen", "account_part_fen",
                                              "amount_from", "status", "created_at"],
                      ((pid0 + i, pid0 + i, pid0 + i, REGION, start, int(monthly[i]),
                        int(apart[i]), start, "active", t) for i in range(n)))
        if conn.dialect.name == "postgresql":
            for tb in ("person", "pension_case", "pension_award"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{tb}', 'id'), "
                                     f"(SELECT max(id) FROM {tb}))")
            conn.exec_driver_sql("ANALYZE")
    eng.dispose()


def _child_set_based(url, chunk, q):
    from shebao.benefits import payroll
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    t0 = time.perf_counter()
    r = payroll.run(eng, Actor(id="bench", role="system"), REGION, MONTH, chunk=chunk)
    dt_ = time.perf_counter() - t0
    q.put({"seconds": dt_, "payments": r.n_payments, "total_fen": r.total_fen,
           "maxrss_kib": peak_rss_kib()})


def _child_baseline(url, sample, q):
    """The obvious row-at-a-time implementation of the same run, for comparison."""
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line, account_code

    eng = make_engine(url)
    actor = Actor(id="bench", role="system")
    with eng.begin() as c:
        rid = c.execute(text(
            "INSERT INTO payroll_run (region, month, status, cursor_person_id, n_payments, "
            "total_fen, account_part_fen, created_by, created_at) VALUES (:r, :m, 'baseline', 0, "
            "0, 0, 0, 'bench', :t) RETURNING id"),
            {"r": REGION, "m": BASELINE_MONTH, "t": dt.datetime.now(dt.timezone.utc)}).scalar_one()
        ids = [r[0] for r in c.execute(text(
            "SELECT person_id FROM pension_award WHERE region = :r AND status = 'active' "
            "ORDER BY person_id LIMIT :n"), {"r": REGION, "n": sample})]
    t0 = time.perf_counter()
    total = 0
    for pid in ids:
        with eng.begin() as c:
            r = c.execute(text(
                "SELECT a.id, a.monthly_fen, a.account_part_fen, p.bank_name, p.bank_account, "
                "COALESCE(la.balance, 0) AS bal FROM pension_award a JOIN person p ON "
                "p.id = a.person_id LEFT JOIN ledger_account la ON la.code = :code "
                "WHERE a.person_id = :p"),
                {"p": pid, "code": account_code(REGION, "pension", "individual", pid)}).first()
            share = min(r.account_part_fen, max(-r.bal, 0))
            c.execute(text(
                "INSERT INTO payment (run_id, person_id, award_id, region, month, attempt, "
                "amount_fen, account_part_fen, bank_name, bank_account, end_to_end_id, status) "
                "VALUES (:run, :p, :a, :r, :m, 1, :amt, :sh, :bn, :ba, :e, 'computed')"),
                {"run": rid, "p": pid, "a": r.id, "r": REGION, "m": BASELINE_MONTH,
                 "amt": r.monthly_fen, "sh": share, "bn": r.bank_name, "ba": r.bank_account,
                 "e": f"BL{rid}-{pid}"})
            lines = [Line.credit(account_code(REGION, "pension", "benefits_payable"),
                                 r.monthly_fen)]
            if share:
                lines.append(Line.debit(account_code(REGION, "pension", "individual", pid), share))
            if r.monthly_fen - share:
                lines.append(Line.debit(account_code(REGION, "pension", "pooled_fund"),
                                        r.monthly_fen - share))
            ledger.post_entry(c, actor, f"baseline:{rid}:{pid}", EntryRequest(
                BASELINE_MONTH, tuple(lines), source="payroll"))
            total += r.monthly_fen
    dt_ = time.perf_counter() - t0
    q.put({"seconds": dt_, "payments": len(ids), "total_fen": total,
           "maxrss_kib": peak_rss_kib()})


def _child_release(url, out, q):
    from shebao.benefits import payouts, payroll
    from shebao.formats.pain001 import Debtor
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line, account_code

    eng = make_engine(url)
    sysa = Actor(id="bench", role="system")
    with eng.connect() as c:
        rid, total = c.execute(text("SELECT id, total_fen FROM payroll_run WHERE month = :m"),
                               {"m": MONTH}).first()
    ledger.post_entry(eng, sysa, "bench-fund", EntryRequest(MONTH, (
        Line.debit(account_code(REGION, "pension", "fund_bank"), total),
        Line.credit(account_code(REGION, "pension", "pooled_fund"), total)), source="bench"))
    maker = Actor(id="bench-maker", role="benefits_clerk")
    checker = Actor(id="bench-checker", role="benefits_clerk")
    payroll.submit(eng, maker, rid)
    payroll.approve(eng, checker, rid)
    t0 = time.perf_counter()
    rel = payouts.release(eng, maker, rid, out, Debtor("社会保险基金支出户", "31050161393600000001",
                                                       "中国建设银行上海分行"),
                          dt.date(2025, 11, 5), ("xml", "csv"))
    dt_ = time.perf_counter() - t0
    q.put({"seconds": dt_, "payments": rel.n_payments, "files": len(rel.files),
           "bytes": sum(Path(f["path"]).stat().st_size for f in rel.files),
           "maxrss_kib": peak_rss_kib()})


def peak_rss_kib() -> int:
    """Peak resident memory of *this* process image (VmHWM; unlike ru_maxrss it is not
    inherited from the parent across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child_seed(url, n, q):
    t0 = time.perf_counter()
    seed(url, n)
    q.put({"seconds": time.perf_counter() - t0})


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    res = q.get()
    p.join()
    if p.exitcode:
        raise SystemExit(f"child {target.__name__} failed ({p.exitcode})")
    return res


def run_backend(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="payroll_bench") as url:
        sd = _in_child(_child_seed, url, args.pensioners)
        print(f"[{backend}] seeded {args.pensioners} pensioners in "
              f"{sd['seconds']:.1f} s (not timed below)", flush=True)
        sb = _in_child(_child_set_based, url, args.chunk)
        bl = _in_child(_child_baseline, url, min(args.sample, args.pensioners))
        per_row = bl["seconds"] / max(bl["payments"], 1)
        print(f"[{backend}] set-based     : {sb['payments']} payments, "
              f"{sb['seconds']:.2f} s ({sb['payments'] / sb['seconds']:,.0f}/s), "
              f"peak RSS {sb['maxrss_kib'] / 1024:.0f} MiB", flush=True)
        print(f"[{backend}] row-at-a-time : {bl['payments']} payments (sample), "
              f"{bl['seconds']:.2f} s ({1 / per_row:,.0f}/s), peak RSS "
              f"{bl['maxrss_kib'] / 1024:.0f} MiB; extrapolated to {args.pensioners}: "
              f"{per_row * args.pensioners:.0f} s", flush=True)
        print(f"[{backend}] speed-up      : x{per_row * sb['payments'] / sb['seconds']:.1f}",
              flush=True)
        if args.release:
            out = tempfile.mkdtemp(prefix="payroll_files_")
            rl = _in_child(_child_release, url, out)
            print(f"[{backend}] release       : {rl['payments']} payments in {rl['files']} files "
                  f"({rl['bytes'] / 1e6:.0f} MB, pain.001 validated + CSV) "
                  f"{rl['seconds']:.2f} s, peak RSS {rl['maxrss_kib'] / 1024:.0f} MiB",
                  flush=True)
        return {"seed": sd, "set_based": sb, "row_at_a_time": bl,
                "speedup": round(per_row * sb["payments"] / sb["seconds"], 1),
                "release": rl if args.release else None}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pensioners", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2000, help="baseline sample size")
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--release", action="store_true", help="also time the file release")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    figures = {"pensioners": args.pensioners, "backends": {}}
    for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        figures["backends"][b] = run_backend(b, args)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results import save
    save("payroll", figures)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
