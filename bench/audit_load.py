"""Audit chain under load: latency and throughput of the citizen page ``GET /me`` (or, with
``--page staff``, the staff person page) with many concurrent clients, one audit chain for the
platform vs one chain per region, in one run.

Every ``/me`` appends audit rows (the record read, the statements, the declarations), so the
page measures the audit append path under contention. The world: a few districts generated on
a scratch PostgreSQL database (``devtools.scratch_db``), one citizen account per client, the
clients spread over the districts. For each mode the web app runs in its own uvicorn process on
127.0.0.1 — ``single`` (one chain, one lock: the old behaviour), ``region`` (a chain per
district), ``region/8`` (each district's chain in 8 lanes) — and the chain is verified after.
(``single`` measured like the code before chains, commit cea5bc7, served on the same database
while that code could still read the schema — two runs, 20 clients × 25 s: 16.0 and 18.2 req/s,
p99 1 776 and 1 694 ms, against 17.0 and 16.0 req/s, p99 1 822 and 2 183 ms.)

    PYTHONPATH=src .venv/bin/python bench/audit_load.py --clients 20 --seconds 25
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")   # logins are not what is measured

import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

from shebao.core.actor import SYSTEM  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402
from shebao.devtools.generate_region import generate_region  # noqa: E402
from shebao.devtools.scratch_db import scratch_database  # noqa: E402
from shebao.security import audit  # noqa: E402
from shebao.security import service as sec  # noqa: E402

SERVER = """
import sys, uvicorn
from shebao.channels.web import create_app
uvicorn.run(create_app(sys.argv[1], mode="dev", login_rate_limit=10**6), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def build_world(url: str, regions: list[str], people: int, employers: int, clients: int,
                page: str) -> list[tuple[str, str, str]]:
    """Generate the districts; one account per client, round-robin over districts: a citizen
    reading ``/me``, or (``page="staff"``) a collection clerk of the district reading the staff
    page of one of its persons. Returns (username, password, path) per client."""
    engine = make_engine(url)
    for i, region in enumerate(regions):
        generate_region(engine, SYSTEM, people=people, employers=employers, region=region,
                        seed=11 + i, today=dt.date(2026, 1, 1))
    logins = []
    with engine.connect() as c:
        by_region = {r: [row.id for row in c.execute(text(
            "SELECT id FROM person WHERE residence_region = :r ORDER BY id LIMIT :n"),
            {"r": r, "n": clients})] for r in regions}
    for k in range(clients):
        region = regions[k % len(regions)]
        pid = by_region[region][k // len(regions)]
        pw = secrets.token_urlsafe(18) + "-7a"   # letters, digits and a symbol: any policy
        if page == "staff":
            user, role, ids, path = f"bench-clerk-{k}", "collection_clerk", {}, \
                f"/staff/persons/{pid}"
        else:
            user, role, ids, path = f"bench-citizen-{k}", "citizen", {"person_id": pid}, "/me"
        sec.create_user(engine, SYSTEM, username=user, password=pw, role=role, scope=region,
                        **ids)
        logins.append((user, pw, path))
    engine.dispose()
    return logins


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, mode: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    chains, _, lanes = mode.partition("/")
    env = {**os.environ, "SHEBAO_AUDIT_CHAINS": chains, "SHEBAO_AUDIT_LANES": lanes or "1"}
    env.pop("SHEBAO_AUDIT_ANCHOR_EVERY", None)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
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


def login(base: str, username: str, password: str) -> requests.Session:
    s = requests.Session()
    s.headers["Origin"] = base
    s.get(base + "/login")
    s.headers["X-CSRF-Token"] = s.cookies.get("csrftoken")
    r = s.post(base + "/login", data={"username": username, "password": password},
               allow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"login of {username} failed: {r.status_code} {r.text[:200]}")
    return s


def load(base: str, logins, seconds: float, warmup: float) -> dict:
    sessions = [(login(base, u, p), path) for u, p, path in logins]
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    t_start = time.perf_counter()
    t_measure, t_end = t_start + warmup, t_start + warmup + seconds

    def client(s: requests.Session, path: str):
        mine, bad = [], 0
        while True:
            t0 = time.perf_counter()
            if t0 >= t_end:
                break
            r = s.get(base + path, allow_redirects=False)
            t1 = time.perf_counter()
            if t0 >= t_measure:
                mine.append(t1 - t0)
                bad += r.status_code != 200
        with lock:
            lat.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=sp) for sp in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    if len(lat) < 2:
        raise SystemExit(f"only {len(lat)} requests finished in {seconds:g} s: run longer")
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {"requests": len(lat), "rps": len(lat) / seconds, "p50": q[49] * 1e3,
            "p90": q[89] * 1e3, "p99": q[98] * 1e3, "max": lat[-1] * 1e3, "errors": errors[0]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--regions", default="310101,310104,310105,310106",
                    help="districts generated; the citizens are spread over them")
    ap.add_argument("--people", type=int, default=300, help="persons per district")
    ap.add_argument("--employers", type=int, default=20, help="employers per district")
    ap.add_argument("--modes", default="single,region,region/8",
                    help="runs, in order: SHEBAO_AUDIT_CHAINS[/SHEBAO_AUDIT_LANES]")
    ap.add_argument("--page", default="me", choices=["me", "staff"],
                    help="me: citizens on GET /me; staff: district clerks on a person's page")
    ap.add_argument("--backend", default="postgresql", choices=["postgresql", "sqlite"])
    a = ap.parse_args(argv)
    regions = [r.strip() for r in a.regions.split(",") if r.strip()]
    runs = [m.strip() for m in a.modes.split(",") if m.strip()]
    results = []
    with scratch_database(a.backend, prefix="shebao_bench_audit") as url:
        t0 = time.perf_counter()
        logins = build_world(url, regions, a.people, a.employers, a.clients, a.page)
        print(f"world: {len(regions)} districts × {a.people} persons, {a.clients} logins "
              f"({time.perf_counter() - t0:.1f} s); {a.clients} clients × {a.seconds:g} s on "
              f"GET {logins[0][2] if a.page == 'me' else '/staff/persons/{id}'} per run",
              flush=True)
        for label in runs:
            proc, base = start_server(url, label)
            try:
                res = load(base, logins, a.seconds, a.warmup)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            engine = make_engine(url)
            with engine.connect() as c:
                v = audit.verify(c)
            engine.dispose()
            res.update(label=label, verified=v.ok, chains=len(v.chains), rows=v.rows)
            results.append(res)
            print(f"  {label}: {res['requests']} requests, p99 {res['p99']:.0f} ms", flush=True)
    _save("audit_load", {"clients": a.clients, "seconds": a.seconds, "page": a.page,
                         "backend": a.backend, "runs": results})
    head = f"{'run':8} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} " \
           f"{'max ms':>7} {'errors':>6}  audit chain after"
    print(head)
    for r in results:
        print(f"{r['label']:8} {r['requests']:8d} {r['rps']:7.1f} {r['p50']:7.0f} {r['p90']:7.0f} "
              f"{r['p99']:7.0f} {r['max']:7.0f} {r['errors']:6d}  "
              f"{'intact' if r['verified'] else 'BROKEN'}: {r['rows']} rows, {r['chains']} chains")


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    main()
