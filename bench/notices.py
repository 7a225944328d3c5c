"""Notice delivery throughput: N notices (default 100 000) delivered by worker processes
through RabbitMQ, beside the polling path as the baseline, in one run on one database.

The world: a scratch PostgreSQL database, N persons with an SMS preference and one pending
notice each (``arrears.notice``, rendered in Chinese). Each path starts ``--workers`` real
``shebao notices worker`` processes writing to a capture gateway (an SQLite file: what a
person would receive), and is timed from the start of the processes until the outbox shows
every notice sent; then the capture is checked: every notice accepted exactly once. Between
the paths the outbox is reset to pending and the capture emptied. Target (issue #17): the
broker path ≤ 60 s for 100 000.

    PYTHONPATH=src .venv/bin/python bench/notices.py [--notices 100000] [--workers 2]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update

from shebao.db.engine import make_engine
from shebao.devtools.scratch_db import scratch_database
from shebao.notices.adapters import CaptureAdapter
from shebao.notices.tables import notice, notice_attempt, notice_preference

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import loadavg, save  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
BROKER = os.environ.get("SHEBAO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def seed(engine, n: int) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    data = json.dumps({"amount_fen": 123456, "bills": 2, "late_fee_fen": 617,
                       "as_of_date": "2026-11-15"})
    step = 10_000
    with engine.begin() as c:
        for lo in range(1, n + 1, step):
            hi = min(lo + step, n + 1)
            c.execute(insert(notice_preference), [
                {"recipient_type": "person", "recipient_id": str(i), "channels": "sms",
                 "lang": "zh_CN", "phone": f"138{i:08d}", "updated_at": now,
                 "updated_by": "bench"} for i in range(lo, hi)])
            c.execute(insert(notice), [
                {"created_at": now, "region": "310104", "recipient_type": "person",
                 "recipient_id": str(i), "template": "arrears.notice", "data": data,
                 "dedup_key": f"bench:{i}", "status": "pending", "attempts": 0,
                 "next_attempt_at": now} for i in range(lo, hi)])


def reset(engine) -> None:
    with engine.begin() as c:
        c.execute(delete(notice_attempt))
        c.execute(update(notice).values(status="pending", attempts=0, channel=None,
                                        delivered_at=None, last_error=None,
                                        next_attempt_at=dt.datetime.now(dt.timezone.utc)))


def sent(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).where(notice.c.status == "sent")).scalar()


def run_path(url: str, n: int, workers: int, capture: Path, extra: list[str],
             batch: int | None) -> dict:
    env = {**os.environ, "SHEBAO_DATABASE_URL": url,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "shebao.channels.cli.main", "notices", "worker", "--capture",
           str(capture), "--quiet", "--poll-seconds", "0.2", *extra]
    if batch:
        cmd += ["--batch-size", str(batch)]
    engine = make_engine(url)
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(workers)]
    try:
        while sent(engine) < n:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a worker exited: "
                                 + b"".join(p.stderr.read() for p in procs
                                            if p.poll() is not None).decode()[-2000:])
            time.sleep(0.25)
        seconds = time.perf_counter() - t0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.communicate(timeout=60)
    engine.dispose()
    cap = CaptureAdapter(str(capture))
    counts = cap.counts()
    cap.close()
    return {"seconds": round(seconds, 2), "per_second": round(n / seconds),
            "accepted": counts["accepted"], "gateway_calls": counts["calls"],
            "exactly_once": counts["accepted"] == n == counts["distinct_keys_called"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notices", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=None,
                    help="override notices.delivery batch_size")
    args = ap.parse_args()
    before = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench_notices_"))
    with scratch_database("postgresql", prefix="bench_notices") as url:
        engine = make_engine(url)
        t = time.perf_counter()
        seed(engine, args.notices)
        print(f"seeded {args.notices} notices in {time.perf_counter() - t:.1f} s", flush=True)
        out = {}
        out["polling"] = run_path(url, args.notices, args.workers, tmp / "poll.sqlite", [],
                                  args.batch_size)
        print(f"polling : {out['polling']}", flush=True)
        reset(engine)
        queue = f"shebao.notices.bench.{uuid.uuid4().hex[:8]}"
        out["broker"] = run_path(url, args.notices, args.workers, tmp / "broker.sqlite",
                                 ["--broker", BROKER, "--queue", queue], args.batch_size)
        print(f"broker  : {out['broker']}", flush=True)
        import pika
        conn = pika.BlockingConnection(pika.URLParameters(BROKER))
        conn.channel().queue_delete(queue)
        conn.close()
        engine.dispose()
    b, p = out["broker"], out["polling"]
    print(f"\n{args.notices} notices, {args.workers} worker processes, PostgreSQL, "
          f"capture gateway")
    print(f"  {'path':<8} {'seconds':>8} {'notices/s':>10} {'exactly once':>13}")
    for name in ("polling", "broker"):
        r = out[name]
        print(f"  {name:<8} {r['seconds']:>8} {r['per_second']:>10} {str(r['exactly_once']):>13}")
    target = b["seconds"] <= 60 * args.notices / 100_000
    print(f"  broker path within 60 s per 100k: {target}")
    save("notices", {"args": vars(args), "polling": p, "broker": b,
                     "broker_within_target": target}, load_before=before)


if __name__ == "__main__":
    main()
