"""Monthly living-certification run over N pensioners, beside a row-at-a-time baseline in the
same run.

    .venv/bin/python bench/certification.py --pensioners 1000000 [--backend postgresql|sqlite|both]
                                             [--sample 2000]

Setup (not timed): a freshly migrated throw-away database gets N pensioners of region 310000
bulk-loaded — person, approved case, active award (start 2020-01) — and their certification
state as a year of earlier runs leaves it: last certified on a day spread over the 13 months
before the run month (so about 1/13 have run out), 1% suspended since an earlier month. Feeds
for the run month: a certifying signal (hospital, travel, bank…) for 10% of the pensioners
(some of them suspended: they resume with back pay), a death date for 0.1%.

Timed, each in a fresh child process (peak resident memory = that process's VmHWM):

* ``set-based``: ``mobility.certification.run_month`` for 2025-06 — one statement per step
  over the region (enter, data comparison staged from numpy, deaths, expiry, payroll told in
  bulk), one transaction, one audit row;
* ``row-at-a-time`` baseline on the first ``--sample`` pensioners, for 2025-07 on the state
  the set-based run left: per pensioner read the state, the newest signal and the death date, apply
  the same pure rules (``mobility.model``), write the state and the event and, on a
  suspension or resumption, ``benefits.life_events.record_living_certification`` — one
  transaction each, the obvious implementation — extrapolated to N.

Writes ``bench/results/certification.json``. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from payroll import _copy_or_many, _in_child, peak_rss_kib  # noqa: E402
from results import loadavg, save  # noqa: E402

from shebao.devtools.scratch_db import scratch_database  # noqa: E402

REGION = "310000"
MONTH = dt.date(2025, 6, 1)
BASELINE_MONTH = dt.date(2025, 7, 1)
KINDS = ("hospital", "travel", "bank", "medical_settlement")


def seed(url: str, n: int) -> dict:
    from shebao.db.engine import make_engine

    eng = make_engine(url)
    rng = np.random.default_rng(15)
    t = dt.datetime(2025, 5, 1, tzinfo=dt.timezone.utc)
    start = dt.date(2020, 1, 1)
    monthly = rng.integers(150_000, 900_000, n)
    # last certification: a day in the 13 months before June 2025 (2024-05-01 .. 2025-05-31)
    last = np.datetime64("2024-05-01") + rng.integers(0, 396, n).astype("timedelta64[D]")
    suspended = rng.random(n) < 0.01
    signal = rng.random(n) < 0.10
    seen = np.datetime64("2025-05-01") + rng.integers(0, 30, n).astype("timedelta64[D]")
    dead = rng.random(n) < 0.001
    death = np.datetime64("2025-01-01") + rng.integers(0, 120, n).astype("timedelta64[D]")
    last_l, seen_l, death_l = (a.astype(dt.date).tolist() for a in (last, seen, death))
    with eng.begin() as conn:
        _copy_or_many(conn, "person", ["id", "citizen_id", "name", "sex", "birth_date",
                                       "pension_region", "status", "death_date", "version",
                                       "source", "created_at", "updated_at"],
                      ((i + 1, f"C{i:017d}", f"退休{i}", "M", dt.date(1955, 1, 1), REGION,
                        "deceased" if dead[i] else "active", death_l[i] if dead[i] else None,
                        1, "bench", t, t) for i in range(n)))
        _copy_or_many(conn, "pension_case", ["id", "person_id", "region", "category", "claim",
                                             "retirement_date", "status", "opened_by",
                                             "opened_at", "total_fen", "account_fen"],
                      ((i + 1, i + 1, REGION, "male", "statutory", start, "approved", "bench", t,
                        int(monthly[i]), 0) for i in range(n)))
        _copy_or_many(conn, "pension_award", ["id", "person_id", "case_id", "region",
                                              "start_month", "monthly_fen", "account_part_fen",
                                              "amount_from", "status", "created_at"],
                      ((i + 1, i + 1, i + 1, REGION, start, int(monthly[i]), 0, start, "active",
                        t) for i in range(n)))
        _copy_or_many(conn, "certification_state", ["person_id", "region", "state",
                                                    "last_certified_on", "last_method",
                                                    "suspended_from", "back_pay_months",
                                                    "updated_month"],
                      ((i + 1, REGION, "suspended" if suspended[i] else "certified",
                        dt.date(2024, 3, 1) if suspended[i] else last_l[i], "data",
                        dt.date(2025, 4, 1) if suspended[i] else None, 0, dt.date(2025, 5, 1))
                       for i in range(n)))
        idx = np.flatnonzero(signal)
        _copy_or_many(conn, "certification_signal", ["person_id", "kind", "seen_on", "source",
                                                     "recorded_at"],
                      ((int(i) + 1, KINDS[int(i) % len(KINDS)], seen_l[i], "bench feed", t)
                       for i in idx))
        if conn.dialect.name == "postgresql":
            for tb in ("person", "pension_case", "pension_award", "certification_signal"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{tb}', 'id'), "
                                     f"(SELECT max(id) FROM {tb}))")
            conn.exec_driver_sql("ANALYZE")
    eng.dispose()
    return {"signals": int(signal.sum()), "deaths": int(dead.sum()),
            "suspended_before": int(suspended.sum())}


def _child_seed(url, n, q):
    t0 = time.perf_counter()
    out = seed(url, n)
    q.put({"seconds": time.perf_counter() - t0, **out})


def _child_set_based(url, q):
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.mobility import certification

    eng = make_engine(url)
    t0 = time.perf_counter()
    r = certification.run_month(eng, Actor(id="bench", role="system"), REGION, MONTH)
    q.put({"seconds": time.perf_counter() - t0, "pensioners": r.pensioners,
           "data_certified": r.data_certified, "resumed": r.resumed,
           "back_pay_months": r.back_pay_months, "suspended": r.suspended,
           "deceased": r.deceased, "due": r.due, "notices": r.notices,
           "maxrss_kib": peak_rss_kib()})


def _d(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _child_baseline(url, sample, q):
    """The obvious implementation: one pensioner at a time, one transaction each."""
    from shebao.benefits import life_events
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.mobility import model

    eng = make_engine(url)
    actor = Actor(id="bench", role="system")
    with eng.connect() as c:
        ids = [r[0] for r in c.execute(text(
            "SELECT person_id FROM certification_state WHERE region = :r AND state <> 'deceased' "
            "ORDER BY person_id LIMIT :n"), {"r": REGION, "n": sample})]
    t0 = time.perf_counter()
    changed = 0
    for pid in ids:
        with eng.begin() as c:
            s = c.execute(text("SELECT * FROM certification_state WHERE person_id = :p"),
                          {"p": pid}).mappings().first()
            st = model.CertState(s["state"], _d(s["last_certified_on"]), _d(s["suspended_from"]))
            seen = c.execute(text(
                "SELECT max(seen_on) FROM certification_signal WHERE person_id = :p "
                "AND seen_on > :l AND seen_on < :n"),
                {"p": pid, "l": st.last_certified_on, "n": dt.date(2025, 8, 1)}).scalar()
            death = c.execute(text("SELECT death_date FROM person WHERE id = :p"),
                              {"p": pid}).scalar()
            before = st
            if death is not None:
                st = model.on_death(st, _d(death))
            else:
                if seen is not None:
                    st = model.on_certified(st, _d(seen), BASELINE_MONTH)
                st = model.on_month(st, BASELINE_MONTH, 12)
            if st != before:
                changed += 1
                c.execute(text(
                    "UPDATE certification_state SET state = :s, last_certified_on = :l, "
                    "suspended_from = :sf, resumed_from = :rf, back_pay_months = :b, "
                    "death_date = :dd, updated_month = :m WHERE person_id = :p"),
                    {"s": st.state, "l": st.last_certified_on, "sf": st.suspended_from,
                     "rf": st.resumed_from, "b": st.back_pay_months, "dd": st.death_date,
                     "m": BASELINE_MONTH, "p": pid})
                c.execute(text(
                    "INSERT INTO certification_event (person_id, event, on_date, recorded_by) "
                    "VALUES (:p, :e, :d, 'bench')"),
                    {"p": pid, "e": st.state[:10], "d": BASELINE_MONTH})
                if st.state != before.state and st.state != model.DECEASED:
                    life_events.record_living_certification(
                        c, actor, pid, 2025, st.state == model.CERTIFIED,
                        st.last_certified_on if st.state == model.CERTIFIED
                        else BASELINE_MONTH - dt.timedelta(days=1), "bench")
    q.put({"seconds": time.perf_counter() - t0, "pensioners": len(ids), "changed": changed,
           "maxrss_kib": peak_rss_kib()})


def run_backend(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="cert_bench") as url:
        sd = _in_child(_child_seed, url, args.pensioners)
        print(f"[{backend}] seeded {args.pensioners} pensioners ({sd['signals']} signals, "
              f"{sd['deaths']} deaths, {sd['suspended_before']} suspended) in "
              f"{sd['seconds']:.1f} s (not timed below)", flush=True)
        sb = _in_child(_child_set_based, url)
        bl = _in_child(_child_baseline, url, min(args.sample, args.pensioners))
        per_row = bl["seconds"] / max(bl["pensioners"], 1)
        extrapolated = per_row * args.pensioners
        print(f"[{backend}] set-based     : {sb['pensioners']} pensioners in "
              f"{sb['seconds']:.2f} s — {sb['data_certified']} certified by data, "
              f"{sb['resumed']} resumed ({sb['back_pay_months']} months back pay), "
              f"{sb['suspended']} suspended, {sb['deceased']} deceased, {sb['due']} due soon; "
              f"peak RSS {sb['maxrss_kib'] / 1024:.0f} MiB", flush=True)
        print(f"[{backend}] row-at-a-time : {bl['pensioners']} pensioners (sample) in "
              f"{bl['seconds']:.2f} s ({1 / per_row:,.0f}/s); extrapolated to "
              f"{args.pensioners}: {extrapolated:.0f} s", flush=True)
        print(f"[{backend}] speed-up      : x{extrapolated / sb['seconds']:.1f}; target ≤ 30 s: "
              f"{'met' if sb['seconds'] <= 30 else 'NOT met'}", flush=True)
        return {"seed": sd, "set_based": sb, "baseline_sample": bl,
                "baseline_extrapolated_seconds": round(extrapolated, 1),
                "speedup": round(extrapolated / sb["seconds"], 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pensioners", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2000, help="baseline sample size")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="postgresql")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args(argv)
    before = loadavg()
    figures = {}
    for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        figures[b] = run_backend(b, args)
    path = save("certification", {"args": vars(args), "figures": figures}, load_before=before)
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
