"""Login storm: server memory and latency under 200 concurrent sign-ins of unknown users.

Every sign-in costs one argon2id check (64 MiB, RFC 9106 low-memory profile) whether or not
the user exists, so a storm of sign-ins multiplies the server's memory. The app caps how many
hashes run at once (``SHEBAO_HASH_CONCURRENCY``, ``security/passwords.py``). This bench starts
the app under uvicorn on 127.0.0.1 with a scratch SQLite database, once without the cap
(the baseline: every request thread hashes at once) and once per cap given, fires the same
storm at each (``--logins`` requests, all at once, from as many client threads), and prints
the server's RSS before and after, its peak RSS (VmHWM) and the p50/p99 latency. It stops by
itself: each run ends when every request has been answered (or timed out).

    PYTHONPATH=src .venv/bin/python bench/login_storm.py --logins 200 --caps 0,2,4
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from shebao.devtools.scratch_db import scratch_database

SERVER = """
import sys, uvicorn
from shebao.channels.web import create_app
from shebao.channels.web.app import SERVER_OPTIONS
from shebao.security import passwords
passwords.set_hash_concurrency(int(sys.argv[3]) or None)      # 0: no cap (the baseline)
uvicorn.run(create_app(sys.argv[1], mode="dev", login_rate_limit=10**6), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning", access_log=False, **SERVER_OPTIONS)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mem(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of the process, in MiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) // 1024
    return out


def run(url: str, cap: int, logins: int) -> dict:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SHEBAO_ARGON2_FAST"}  # real cost
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), str(cap)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/login", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        # one sign-in first, so the baseline RSS includes the hasher's first allocation
        requests.post(f"{base}/api/v1/auth/token", json={"username": "warm-up",
                                                          "password": "x" * 12}, timeout=60)
        before = _mem(proc.pid)

        def one(i: int) -> tuple[int, float]:
            t = time.perf_counter()
            r = requests.post(f"{base}/api/v1/auth/token",
                              json={"username": f"ghost-{cap}-{i}", "password": f"guess-{i}-pw"},
                              timeout=300)
            return r.status_code, time.perf_counter() - t

        t0 = time.perf_counter()
        with ThreadPoolExecutor(logins) as ex:
            results = list(ex.map(one, range(logins)))
        wall = time.perf_counter() - t0
        after = _mem(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    lat = sorted(d for _, d in results)
    codes = sorted({c for c, _ in results})
    return {"cap": cap or "none", "rss_before": before["VmRSS"], "rss_after": after["VmRSS"],
            "rss_peak": after["VmHWM"], "p50": statistics.median(lat),
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "wall": wall, "codes": codes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logins", type=int, default=200)
    ap.add_argument("--caps", default="0,2", help="hash caps to compare; 0 = no cap")
    args = ap.parse_args()
    rows = []
    for cap in [int(c) for c in args.caps.split(",")]:
        with scratch_database("sqlite", prefix="shebao_login_storm") as url:
            rows.append(run(url, cap, args.logins))
    print(f"{args.logins} concurrent sign-ins of unknown users (argon2id m=64 MiB, t=3, p=4)")
    print(f"{'hash cap':>8} {'RSS before':>11} {'RSS after':>10} {'RSS peak':>9} "
          f"{'p50 s':>7} {'p99 s':>7} {'wall s':>7}  answers")
    for r in rows:
        print(f"{r['cap']!s:>8} {r['rss_before']:>8} MiB {r['rss_after']:>6} MiB "
              f"{r['rss_peak']:>5} MiB {r['p50']:>7.2f} {r['p99']:>7.2f} {r['wall']:>7.1f}  "
              f"{r['codes']}")
    _save("login_storm", {"logins": args.logins, "runs": rows})


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    main()
