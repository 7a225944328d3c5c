"""A mixed payroll — pensions and the lines of benefit awards (unemployment benefit with the
medical premium the fund pays) in one run — with a row-at-a-time baseline in the same run.

    .venv/bin/python bench/mixed_payroll.py --pensioners 1000000 --awards 50000
                                            [--backend postgresql|sqlite|both] [--sample 2000]

Setup (not timed): ``bench/payroll.py``'s N pensioners, plus M other persons each with an
active unemployment award of two monthly lines (2,466.00 to the person, 246.60 to the medical
fund), bulk-loaded.

Timed, each in a fresh child process: ``set-based`` = ``benefits.payroll.run`` for 2025-11
(the pension phase, then the award phase: per chunk one statement that selects the payable
lines once and inserts their payments and fund transfers, one ledger batch); ``row-at-a-time`` = per award line one SELECT,
one INSERT of the payment, one ledger ``post_entry`` and a commit, on ``--sample`` lines,
extrapolated to the M × 2 lines. Besides the wall-clock time (which other processes on a
shared machine inflate: the load average is recorded) the CPU seconds of the run's client and
of its PostgreSQL backends. Prints figures, writes bench/results/mixed_payroll.json; asserts
nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import payroll as pension_bench  # noqa: E402  (bench/payroll.py: the pensioners' seed)
import results  # noqa: E402

from shebao.devtools.scratch_db import scratch_database  # noqa: E402

REGION, MONTH = pension_bench.REGION, pension_bench.MONTH
BASELINE_MONTH = dt.date(2025, 12, 1)


def seed_awards(url: str, n_pensioners: int, m: int) -> None:
    from shebao.core.actor import Actor
    from shebao.db.dialect import after_explicit_ids
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger

    eng = make_engine(url)
    ledger.open_chart(eng, Actor(id="bench", role="system"), REGION,
                      schemes=("unemployment", "medical", "injury", "maternity"))
    t = dt.datetime(2025, 10, 1, tzinfo=dt.timezone.utc)
    p0 = n_pensioners + 1
    start, end = dt.date(2025, 8, 1), dt.date(2027, 2, 1)
    with eng.begin() as conn:
        cp = pension_bench._copy_or_many
        cp(conn, "person", ["id", "citizen_id", "name", "sex", "birth_date", "pension_region",
                            "bank_name", "bank_account", "status", "version", "source",
                            "created_at", "updated_at"],
           ((p0 + i, f"U{i:017d}", f"失业{i}", "M", dt.date(1985, 1, 1), REGION, "中国工商银行",
             f"6228{i:012d}", "active", 1, "bench", t, t) for i in range(m)))
        cp(conn, "benefit_award", ["id", "case_id", "person_id", "region", "kind", "status",
                                   "created_by", "created_at"],
           ((i + 1, i + 1, p0 + i, REGION, "unemployment", "active", "bench", t)
            for i in range(m)))
        cols = ["id", "award_id", "person_id", "region", "scheme", "kind", "code", "amount_fen",
                "start_month", "end_month", "payee_type", "payee_id", "fund_account", "basis",
                "status", "source", "created_at"]
        rows = []
        for i in range(m):
            rows.append((2 * i + 1, i + 1, p0 + i, REGION, "unemployment", "monthly",
                         "unemployment_benefit", 246600, start, end, "person", p0 + i,
                         "pooled_fund", "失业保险条例 第十八条", "active", "decision", t))
            rows.append((2 * i + 2, i + 1, p0 + i, REGION, "unemployment", "monthly",
                         "medical_premium", 24660, start, end, "fund", 1, "pooled_fund",
                         "社会保险法 第四十八条", "active", "decision", t))
        cp(conn, "benefit_award_line", cols, rows)
        after_explicit_ids(conn, list(("person", "benefit_award", "benefit_award_line")))   # sequences past the ids, statistics
    eng.dispose()


def _child_seed(url, n, m, q):
    t0 = time.perf_counter()
    pension_bench.seed(url, n)
    seed_awards(url, n, m)
    q.put({"seconds": time.perf_counter() - t0})


def _child_set_based(url, chunk, q):
    from shebao.benefits import payroll
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    backends = _backend_cpu(eng)
    t0, c0 = time.perf_counter(), time.process_time()
    r = payroll.run(eng, Actor(id="bench", role="system"), REGION, MONTH, chunk=chunk)
    secs = time.perf_counter() - t0
    cpu = {"client": round(time.process_time() - c0, 2), "server": backends()}
    with eng.connect() as c:
        by = dict(c.execute(text("SELECT scheme, COUNT(*) FROM payment WHERE run_id = :r "
                                 "GROUP BY scheme"), {"r": r.run_id}).all())
        tr = c.execute(text("SELECT COUNT(*) FROM benefit_transfer WHERE run_id = :r"),
                       {"r": r.run_id}).scalar_one()
    q.put({"seconds": secs, "payments": r.n_payments, "by_scheme": by, "transfers": tr,
           "maxrss_kib": pension_bench.peak_rss_kib(), "cpu": cpu})


def _backend_cpu(eng):
    """CPU seconds the run's PostgreSQL backends spend (from /proc, when the server runs on
    this machine): a figure the other processes sharing the CPUs do not inflate, beside the
    wall-clock time they do. Returns a function giving the seconds used since now, or None."""
    import os

    from sqlalchemy import event

    start: dict[int, float] = {}

    def used(pid: int) -> float | None:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    @event.listens_for(eng, "connect")
    def _connected(dbapi_conn, _record):
        pid = getattr(getattr(dbapi_conn, "info", None), "backend_pid", None)
        if pid is not None:
            start[pid] = used(pid) or 0.0

    def total():
        got = [(used(p), s) for p, s in start.items()]
        if not got or any(u is None for u, _ in got):
            return None
        return round(sum(u - s for u, s in got), 2)
    return total


def _child_baseline(url, sample, q):
    """The obvious implementation of the award phase: per line a SELECT, an INSERT, a ledger
    entry, a commit."""
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
            "SELECT id FROM benefit_award_line WHERE region = :r AND status = 'active' "
            "ORDER BY id LIMIT :n"), {"r": REGION, "n": sample})]
    t0 = time.perf_counter()
    for lid in ids:
        with eng.begin() as c:
            ln = c.execute(text(
                "SELECT l.award_id, l.person_id, l.amount_fen, l.payee_type, p.bank_name, "
                "p.bank_account FROM benefit_award_line l JOIN person p ON p.id = l.person_id "
                "WHERE l.id = :l"), {"l": lid}).first()
            if ln.payee_type == "fund":
                lines = (Line.debit(account_code(REGION, "unemployment", "pooled_fund"),
                                    ln.amount_fen),
                         Line.credit(account_code(REGION, "unemployment", "transfer_clearing"),
                                     ln.amount_fen),
                         Line.debit(account_code(REGION, "medical", "transfer_clearing"),
                                    ln.amount_fen),
                         Line.credit(account_code(REGION, "medical", "pooled_fund"),
                                     ln.amount_fen))
            else:
                c.execute(text(
                    "INSERT INTO payment (run_id, person_id, award_id, region, month, attempt, "
                    "amount_fen, account_part_fen, bank_name, bank_account, end_to_end_id, "
                    "status, scheme, line_id) VALUES (:run, :p, :a, :r, :m, 1, :amt, 0, :bn, "
                    ":ba, :e, 'computed', 'unemployment', :l)"),
                    {"run": rid, "p": ln.person_id, "a": ln.award_id, "r": REGION,
                     "m": BASELINE_MONTH, "amt": ln.amount_fen, "bn": ln.bank_name,
                     "ba": ln.bank_account, "e": f"BA{rid}-{lid}", "l": lid})
                lines = (Line.debit(account_code(REGION, "unemployment", "pooled_fund"),
                                    ln.amount_fen),
                         Line.credit(account_code(REGION, "unemployment", "benefits_payable"),
                                     ln.amount_fen))
            ledger.post_entry(c, actor, f"baseline-award:{rid}:{lid}", EntryRequest(
                BASELINE_MONTH, lines, source="payroll"))
    q.put({"seconds": time.perf_counter() - t0, "lines": len(ids),
           "maxrss_kib": pension_bench.peak_rss_kib()})


def run_backend(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="mixed_payroll_bench") as url:
        sd = pension_bench._in_child(_child_seed, url, args.pensioners, args.awards)
        print(f"[{backend}] seeded {args.pensioners} pensioners + {args.awards} awards in "
              f"{sd['seconds']:.1f} s (not timed)", flush=True)
        sb = pension_bench._in_child(_child_set_based, url, args.chunk)
        bl = pension_bench._in_child(_child_baseline, url, min(args.sample, 2 * args.awards))
        per_line = bl["seconds"] / max(bl["lines"], 1)
        print(f"[{backend}] set-based mixed run : {sb['payments']} payments "
              f"{sb['by_scheme']} + {sb['transfers']} fund transfers in {sb['seconds']:.2f} s, "
              f"peak RSS {sb['maxrss_kib'] / 1024:.0f} MiB; CPU client {sb['cpu']['client']} s"
              f", database {sb['cpu']['server']} s", flush=True)
        print(f"[{backend}] row-at-a-time awards: {bl['lines']} lines in {bl['seconds']:.2f} s; "
              f"extrapolated to {2 * args.awards} lines: {per_line * 2 * args.awards:.0f} s "
              f"(pensions not included)", flush=True)
        return {"set_based_seconds": round(sb["seconds"], 2),
                "set_based_cpu_seconds": sb["cpu"], "payments": sb["payments"],
                "by_scheme": sb["by_scheme"], "transfers": sb["transfers"],
                "peak_rss_mib": round(sb["maxrss_kib"] / 1024),
                "baseline_lines": bl["lines"], "baseline_seconds": round(bl["seconds"], 2),
                "baseline_award_lines_extrapolated_seconds":
                    round(per_line * 2 * args.awards, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pensioners", type=int, default=100_000)
    ap.add_argument("--awards", type=int, default=5_000)
    ap.add_argument("--sample", type=int, default=2000, help="baseline sample (award lines)")
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="postgresql")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    load = results.loadavg()
    figures = {"pensioners": args.pensioners, "awards": args.awards}
    for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        figures[b] = run_backend(b, args)
    print("wrote", results.save("mixed_payroll", figures, load_before=load))


if __name__ == "__main__":
    main()
