"""The citizen's record at national load: ``GET /me`` (the citizen page) and
``GET /api/v1/persons/{id}`` (a clerk's API read) at a fixed arrival rate, every read audited,
on PostgreSQL with 1M persons and 12M contribution rows; before/after in one run.

    PYTHONPATH=src .venv/bin/python bench/citizen_load.py --people 1000000 --rate 200 \
        --seconds 30 [--workers 2]

World (a scratch database, dropped at the end): ``load_population``
(accounts opened at enrolment), one month assessed by ``collection.assess`` (real contribution
rows and ledger postings), then those rows copied to the following months until there are
``--rows`` contribution rows (12 per person by default). ``--citizens`` citizen accounts (their
``/me``) and ``--clerks`` collection clerks of the district (the API reads random persons of
it), all on the district's one audit chain: the worst case for the chain's lock. Sessions are
opened directly (``security.service.start_session``) and the cookies signed with the server's
key, so logins are not what is measured.

Load: open loop — request k is due at ``k / rate`` seconds; ``--threads`` client threads take
the due requests in turn; latency is counted from the due time (a late start counts against
the server, no coordinated omission). Half the requests are ``/me``, half the API. Each run
serves through the real CLI, ``shebao serve --db URL --dev --workers N``:

* ``baseline``: 1 worker, reads audited inline in their own transactions
  (``SHEBAO_AUDIT_APPENDER=off``: the behaviour before issue #19);
* ``now``: ``--workers`` workers, reads' audit rows group-committed (``security.audit_appender``).

After each run ``audit verify`` must hold and the audit rows must match the requests answered.
Figures to ``bench/results/citizen_load.json``. The load generator runs on the same machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")   # account creation is not what is measured
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from itsdangerous import URLSafeSerializer  # noqa: E402
from sqlalchemy import text  # noqa: E402

from results import loadavg, save  # noqa: E402
from shebao.core.actor import SYSTEM, Actor  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402
from shebao.devtools.scratch_db import scratch_database  # noqa: E402
from shebao.security import audit  # noqa: E402
from shebao.security import service as sec  # noqa: E402

REGION = "310104"
FIRST = dt.date(2025, 1, 1)


def build_world(url: str, people: int, rows: int) -> dict:
    from shebao.collection.assess import assess
    from shebao.devtools.synthetic_population import load_population
    engine = make_engine(url)
    t0 = time.perf_counter()
    pop = load_population(engine, REGION, people, seed=7)
    t1 = time.perf_counter()
    r = assess(engine, Actor(id="bench", role="collection_clerk"), REGION, FIRST)
    t2 = time.perf_counter()
    months = 1
    with engine.begin() as c:
        cols = [x[0] for x in c.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'contribution' AND column_name NOT IN ('id', 'month') ORDER BY ordinal_position"))]
        names = ", ".join(cols)
        while r.rows * months < rows:
            c.execute(text(f"INSERT INTO contribution (month, {names}) SELECT "
                           f"CAST(month + make_interval(months => :k) AS date), {names} "
                           f"FROM contribution WHERE month = :m"), {"k": months, "m": FIRST})
            months += 1
        total = c.execute(text("SELECT count(*) FROM contribution")).scalar_one()
    with make_engine(url, isolation_level="AUTOCOMMIT").connect() as c:
        c.exec_driver_sql("VACUUM ANALYZE")
    t3 = time.perf_counter()
    engine.dispose()
    return {"persons": pop.persons, "contribution_rows": int(total), "months": months,
            "load_seconds": round(t1 - t0, 1), "assess_seconds": round(t2 - t1, 1),
            "copy_seconds": round(t3 - t2, 1)}


def accounts(url: str, key: str, citizens: int, clerks: int) -> tuple[list, list, list]:
    """(signed citizen cookies, clerk bearer tokens, person ids the clerks read)."""
    engine = make_engine(url)
    with engine.connect() as c:
        pids = [int(x) for x in c.execute(text(
            "SELECT DISTINCT person_id FROM contribution WHERE month = :m"), {"m": FIRST})
            .scalars()]
    rnd = random.Random(5)
    signer = URLSafeSerializer(key, "session")
    cookies, tokens = [], []
    for k, pid in enumerate(rnd.sample(pids, citizens)):
        u = sec.create_user(engine, SYSTEM, username=f"bench-citizen-{k}",
                            password=secrets.token_urlsafe(18) + "-7a", role="citizen",
                            scope=REGION, person_id=pid)
        cookies.append(signer.dumps(sec.start_session(engine, u, kind="web")))
    for k in range(clerks):
        u = sec.create_user(engine, SYSTEM, username=f"bench-clerk-{k}",
                            password=secrets.token_urlsafe(18) + "-7a", role="collection_clerk",
                            scope=REGION)
        tokens.append(sec.start_session(engine, u, kind="api"))
    engine.dispose()
    return cookies, tokens, pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, key: str, workers: int, appender: bool) -> tuple:
    port = _free_port()
    env = {**os.environ, "SHEBAO_SECRET_KEY": key, "SHEBAO_ENV": "dev",
           "SHEBAO_AUDIT_APPENDER": "on" if appender else "off",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    env.pop("SHEBAO_AUDIT_ANCHOR_EVERY", None)
    proc = subprocess.Popen([sys.executable, "-c",
                             "from shebao.channels.cli.main import main; main()", "serve",
                             "--db", url, "--dev", "--port", str(port), "--workers",
                             str(workers)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(base + "/login", timeout=1)
            return proc, base
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("server did not start")


def load(base: str, cookies, tokens, pids, rate: float, seconds: float, warmup: float,
         threads: int) -> dict:
    """Open loop at ``rate``/s for warmup + seconds; figures of the measured part."""
    n = int(rate * (warmup + seconds))
    nxt = [0]
    lock = threading.Lock()
    lat = {"me": [], "api": []}
    bad = {"me": 0, "api": 0}
    dropped = [0]
    t0 = time.perf_counter() + 0.5
    give_up = t0 + warmup + seconds + 10      # a saturated server: the rest is not sent
    rnd = random.Random(11)
    plan = [("me" if k % 2 == 0 else "api", rnd.randrange(len(cookies)),
             rnd.randrange(len(tokens)), rnd.choice(pids)) for k in range(n)]

    def client():
        s = requests.Session()
        mine = {"me": [], "api": []}
        errs = {"me": 0, "api": 0}
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= n:
                break
            due = t0 + k / rate
            if time.perf_counter() > give_up:
                with lock:
                    dropped[0] += 1
                continue
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            kind, ci, ti, pid = plan[k]
            if kind == "me":
                r = s.get(base + "/me", cookies={"shebao_session": cookies[ci]},
                          allow_redirects=False)
            else:
                r = s.get(f"{base}/api/v1/persons/{pid}",
                          headers={"Authorization": f"Bearer {tokens[ti]}",
                                   "X-Purpose": "benchmark: case review"})
            done = time.perf_counter()
            if due >= t0 + warmup:
                mine[kind].append(done - due)
                errs[kind] += r.status_code != 200
        with lock:
            for kk in mine:
                lat[kk].extend(mine[kk])
                bad[kk] += errs[kk]

    ts = [threading.Thread(target=client) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out = {"not_sent": dropped[0]}
    for kind, xs in lat.items():
        xs.sort()
        q = statistics.quantiles(xs, n=100, method="inclusive") if len(xs) > 1 else [0] * 99
        out[kind] = {"requests": len(xs), "rps": round(len(xs) / seconds, 1),
                     "p50_ms": round(q[49] * 1e3, 1), "p90_ms": round(q[89] * 1e3, 1),
                     "p99_ms": round(q[98] * 1e3, 1), "max_ms": round(xs[-1] * 1e3, 1)
                     if xs else 0, "errors": bad[kind]}
    return out


def audit_rows(url: str) -> tuple[int, bool, str | None]:
    engine = make_engine(url)
    with engine.connect() as c:
        v = audit.verify(c)
        n = c.execute(text("SELECT count(*) FROM audit_log WHERE action IN "
                           "('registry.person.read', 'ledger.statement.read', "
                           "'collection.declarations.read')")).scalar_one()
    engine.dispose()
    return int(n), v.ok, v.reason


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=0, help="contribution rows (default 12/person)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=48, help="client threads")
    ap.add_argument("--citizens", type=int, default=200)
    ap.add_argument("--clerks", type=int, default=8)
    ap.add_argument("--runs", default="baseline,now")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    a = ap.parse_args(argv)
    rows = a.rows or 12 * a.people
    before = loadavg()
    figures: dict = {"people": a.people, "rate": a.rate, "seconds": a.seconds,
                     "workers": a.workers, "threads": a.threads, "runs": {}}
    key = secrets.token_urlsafe(48)
    with scratch_database("postgresql", admin=a.pg_admin, prefix="shebao_citizen") as url:
        t = time.perf_counter()
        figures["world"] = build_world(url, a.people, rows)
        print(f"world: {figures['world']} ({time.perf_counter() - t:.0f} s)", flush=True)
        cookies, tokens, pids = accounts(url, key, a.citizens, a.clerks)
        runs = {"baseline": (1, False), "now": (a.workers, True)}
        for label in [r.strip() for r in a.runs.split(",") if r.strip()]:
            workers, appender = runs[label]
            n0, _, _ = audit_rows(url)
            proc, base = start_server(url, key, workers, appender)
            try:
                res = load(base, cookies, tokens, pids, a.rate, a.seconds, a.warmup,
                           a.threads)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            n1, ok, why = audit_rows(url)
            res.update(workers=workers, appender=appender, audit_rows=n1 - n0,
                       audit_verified=ok, audit_problem=why)
            figures["runs"][label] = res
            print(f"  {label:8s} workers {workers} appender {'on ' if appender else 'off'}  "
                  + "  ".join(f"{k}: {v['rps']:.0f} req/s p50 {v['p50_ms']:.0f} ms p99 "
                              f"{v['p99_ms']:.0f} ms errors {v['errors']}"
                              for k, v in res.items() if isinstance(v, dict))
                  + f"  not sent (server saturated) {res['not_sent']}"
                  + f"  audit {'intact' if ok else 'BROKEN'} (+{n1 - n0} read rows)",
                  flush=True)
    print(f"aim: {a.rate:.0f} req/s with p99 ≤ 50 ms; load average before {before} after "
          f"{loadavg()} (the machine is shared; the load generator runs on it too)",
          flush=True)
    save("citizen_load", figures, load_before=before)


if __name__ == "__main__":
    main()
