"""The citizen's record at national load: ``GET /me`` (the citizen page) and
``GET /api/v1/persons/{id}`` (a clerk's API read) at a fixed arrival rate, every read audited,
on PostgreSQL with 1M persons and 12M contribution rows; before/after in one run.

    PYTHONPATH=src .venv/bin/python bench/citizen_load.py --people 1000000 --rate 200 \
        --seconds 30 [--workers 2] [--sweep 100,150] [--keep-world | --world DBNAME]

World (a scratch database, dropped at the end unless ``--keep-world``; ``--world`` reuses a
kept one): ``load_population`` (accounts opened at enrolment), one month assessed by
``collection.assess`` (real contribution rows and ledger postings), then those rows copied to
the following months until there are ``--rows`` contribution rows (12 per person by default).
``--citizens`` citizen accounts (their ``/me``) and ``--clerks`` collection clerks of the
district (the API reads random persons of it), all on the district's one audit chain: the worst
case for the chain's lock. Sessions are opened directly (``security.service.start_session``)
and the cookies signed with the server's key, so logins are not what is measured; a citizen's
browser sends back the CSRF cookie the first page gave it, as a browser does.

Load (``bench/loadgen.py``): open loop — request k is due at ``k / rate`` seconds; latency is
counted from the due time (a late start counts against the server, no coordinated omission);
one asyncio loop over raw keep-alive HTTP/1.1 connections, so the generator takes little of the
machine's CPU (its share is measured and printed). Half the requests are ``/me``, half the
API. Each run serves through the real CLI, ``shebao serve --db URL --dev --workers N``:

* ``baseline``: 1 worker (default threads), reads audited inline in their own transactions
  (``SHEBAO_AUDIT_APPENDER=off``: the audit behaviour before issue #19; the per-request
  savings of this code apply to it as well);
* ``now``: ``--workers`` workers of ``--threads`` request threads each, a page's reads in one
  read-only transaction and their audit rows group-committed (``security.audit_appender``);
* ``--sweep``: ``now`` again at each of these rates (the highest rate that meets the aim).

Per run: latency per kind, CPU per request of the server's processes and of the database's
backends, the load generator's CPU and the machine's busy share (the machine is shared). After
each run ``audit verify`` must hold and the reads must match the requests answered: one
``registry.person.read`` row per API answer (the clerks) and per ``/me`` answer (the citizens).
Figures to ``bench/results/citizen_load.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")   # account creation is not what is measured
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from itsdangerous import URLSafeSerializer  # noqa: E402
from sqlalchemy import text  # noqa: E402

import loadgen  # noqa: E402
from results import loadavg, save  # noqa: E402
from shebao.channels.web.csrf import session_token  # noqa: E402
from shebao.core.actor import SYSTEM, Actor  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402
from shebao.devtools.scratch_db import pg_url, scratch_database  # noqa: E402
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
    tag = secrets.token_hex(3)          # a reused world keeps the accounts of earlier runs
    for k, pid in enumerate(rnd.sample(pids, citizens)):
        u = sec.create_user(engine, SYSTEM, username=f"bench-citizen-{tag}-{k}",
                            password=secrets.token_urlsafe(18) + "-7a", role="citizen",
                            scope=REGION, person_id=pid)
        cookies.append(signer.dumps(sec.start_session(engine, u, kind="web")))
    for k in range(clerks):
        u = sec.create_user(engine, SYSTEM, username=f"bench-clerk-{tag}-{k}",
                            password=secrets.token_urlsafe(18) + "-7a", role="collection_clerk",
                            scope=REGION)
        tokens.append(sec.start_session(engine, u, kind="api"))
    engine.dispose()
    return cookies, tokens, pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, key: str, workers: int, appender: bool,
                 threads: int | None = None) -> tuple:
    port = _free_port()
    env = {**os.environ, "SHEBAO_SECRET_KEY": key, "SHEBAO_ENV": "dev",
           "SHEBAO_AUDIT_APPENDER": "on" if appender else "off",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    env.pop("SHEBAO_AUDIT_ANCHOR_EVERY", None)
    proc = subprocess.Popen([sys.executable, "-c",
                             "from shebao.channels.cli.main import main; main()", "serve",
                             "--db", url, "--dev", "--port", str(port), "--workers",
                             str(workers)] + (["--threads", str(threads)] if threads else []),
                            env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/login", timeout=10)     # a cold worker may take a while
            return proc, base
        except requests.RequestException:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=60)
    raise SystemExit("server did not start")


def plan(key: str, cookies, tokens, pids, n: int) -> list[tuple[str, bytes]]:
    """``n`` requests, alternately a citizen's ``/me`` and a clerk's API read of a random
    person of the district."""
    rnd = random.Random(11)
    out = []
    for k in range(n):
        if k % 2 == 0:
            c = cookies[rnd.randrange(len(cookies))]
            out.append(("me", loadgen.request("/me", {
                "Cookie": f"shebao_session={c}; csrftoken={session_token(key, c)}"})))
        else:
            out.append(("api", loadgen.request(f"/api/v1/persons/{rnd.choice(pids)}", {
                "Authorization": f"Bearer {tokens[rnd.randrange(len(tokens))]}",
                "X-Purpose": "benchmark: case review"})))
    return out


def _backends(admin, dbname: str) -> list[int]:
    with admin.connect() as c:
        return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                              {"d": dbname}).scalars())


def load(url: str, admin, proc, base: str, reqs: list, rate: float, seconds: float,
         warmup: float) -> dict:
    """Open loop at ``rate``/s for warmup + seconds; latency of the measured part, CPU of the
    whole send (server processes, database backends, generator, machine)."""
    dbname = url.rsplit("/", 1)[1]
    port = int(base.rsplit(":", 1)[1])
    s0 = loadgen.cpu_seconds(loadgen.process_tree(proc.pid))
    d0 = loadgen.cpu_seconds(_backends(admin, dbname))
    m0 = loadgen.machine_busy()
    out = loadgen.run("127.0.0.1", port, reqs, rate=rate, warmup=warmup, seconds=seconds)
    m1 = loadgen.machine_busy()
    s1 = loadgen.cpu_seconds(loadgen.process_tree(proc.pid))
    d1 = loadgen.cpu_seconds(_backends(admin, dbname))
    sent = len(reqs) - out["not_sent"]
    server = sum(s1.values()) - sum(s0.get(p, 0) for p in s1)
    database = sum(d1.values()) - sum(d0.get(p, 0) for p in d1)
    out.update(server_cpu_ms_per_request=round(1e3 * server / max(sent, 1), 2),
               database_cpu_ms_per_request=round(1e3 * database / max(sent, 1), 2),
               machine_busy_percent=round(100 * (m1[0] - m0[0]) / max(m1[1] - m0[1], 1e-9),
                                          1))
    return out


def audit_rows(url: str) -> tuple[int, dict, bool, str | None]:
    """(last audit row id, {role: registry.person.read rows}, chain verified, problem)."""
    engine = make_engine(url)
    with engine.connect() as c:
        v = audit.verify(c)
        last = c.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()
        reads = dict(c.execute(text(
            "SELECT role, count(*) FROM audit_log WHERE action = 'registry.person.read' "
            "GROUP BY role")).all())
    engine.dispose()
    return int(last), reads, v.ok, v.reason


def _line(label: str, res: dict) -> str:
    kinds = "  ".join(f"{k}: {v['rps']:.0f} req/s p50 {v['p50_ms']:.0f} ms p99 "
                      f"{v['p99_ms']:.0f} ms errors {v['errors']}"
                      for k, v in res.items() if isinstance(v, dict) and "rps" in v)
    return (f"  {label:10s} {res['rate']:.0f}/s workers {res['workers']} × threads "
            f"{res['threads']} appender "
            f"{'on ' if res['appender'] else 'off'}  {kinds}  not sent (server saturated) "
            f"{res['not_sent']}\n             cpu per request: server "
            f"{res['server_cpu_ms_per_request']} ms, database "
            f"{res['database_cpu_ms_per_request']} ms; load generator "
            f"{res['loadgen_cpu_percent']}% of one core; machine busy "
            f"{res['machine_busy_percent']}%  audit "
            f"{'intact' if res['audit_verified'] else 'BROKEN'} (+{res['audit_rows']} rows; "
            f"person reads = answers: {'yes' if res['reads_match_answers'] else 'NO'})")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=0, help="contribution rows (default 12/person)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4,
                    help="request threads per worker of the 'now' runs (shebao serve --threads)")
    ap.add_argument("--citizens", type=int, default=200)
    ap.add_argument("--clerks", type=int, default=8)
    ap.add_argument("--runs", default="baseline,now")
    ap.add_argument("--sweep", default="", help="also run 'now' at these rates (comma list)")
    ap.add_argument("--keep-world", action="store_true", help="keep the world's database")
    ap.add_argument("--world", default="", help="reuse a kept world's database (its name)")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    a = ap.parse_args(argv)
    rows = a.rows or 12 * a.people
    before = loadavg()
    figures: dict = {"people": a.people, "rate": a.rate, "seconds": a.seconds,
                     "workers": a.workers, "threads": a.threads, "runs": {}}
    key = secrets.token_urlsafe(48)
    admin = make_engine(a.pg_admin, isolation_level="AUTOCOMMIT")
    world = (contextlib.nullcontext(pg_url(a.world, a.pg_admin)) if a.world else
             scratch_database("postgresql", admin=a.pg_admin, prefix="shebao_citizen",
                              keep=a.keep_world))
    with world as url:
        t = time.perf_counter()
        if a.world:
            figures["world"] = {"reused": a.world}
        else:
            figures["world"] = build_world(url, a.people, rows)
        print(f"world: {url.rsplit('/', 1)[1]} {figures['world']} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
        cookies, tokens, pids = accounts(url, key, a.citizens, a.clerks)
        runs = {"baseline": (1, False, None), "now": (a.workers, True, a.threads)}
        todo = [(r.strip(), a.rate) for r in a.runs.split(",") if r.strip()]
        todo += [("now", float(x)) for x in a.sweep.split(",") if x.strip()]
        for label, rate in todo:
            workers, appender, threads = runs[label]
            n0, reads0, _, _ = audit_rows(url)
            proc, base = start_server(url, key, workers, appender, threads)
            try:
                res = load(url, admin, proc, base,
                           plan(key, cookies, tokens, pids, int(rate * (a.warmup + a.seconds))),
                           rate, a.seconds, a.warmup)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            n1, reads1, ok, why = audit_rows(url)
            answered = res.pop("answered")
            citizen = reads1.get("citizen", 0) - reads0.get("citizen", 0)
            clerk = reads1.get("collection_clerk", 0) - reads0.get("collection_clerk", 0)
            res.update(rate=rate, workers=workers, threads=threads or 40, appender=appender,
                       audit_rows=n1 - n0,
                       audit_verified=ok, audit_problem=why, answered=answered,
                       person_reads={"citizen": citizen, "clerk": clerk},
                       reads_match_answers=(citizen == answered.get("me", 0)
                                            and clerk == answered.get("api", 0)))
            name = label if rate == a.rate else f"{label}@{rate:g}"
            figures["runs"][name] = res
            print(_line(name, res), flush=True)
    admin.dispose()
    print(f"aim: {a.rate:.0f} req/s with p99 ≤ 50 ms; load average before {before} after "
          f"{loadavg()} (the machine is shared; the load generator runs on it too)",
          flush=True)
    save("citizen_load", figures, load_before=before)


if __name__ == "__main__":
    main()
