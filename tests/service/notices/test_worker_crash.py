"""Exactly-once delivery under a worker crash, measured at the capture adapter: a real worker
process (``shebao notices worker``) is killed with SIGKILL in the middle of a batch — after
the gateway accepted some messages of the batch and before the outbox marked them sent — and
restarted. Every notice then reaches the gateway exactly once (none lost, none accepted
twice: the resends carry the same idempotency key), and the outbox shows every notice sent.
Polling and through RabbitMQ, on SQLite and PostgreSQL."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shebao.notices.adapters import CaptureAdapter
from shebao.notices.tables import notice

from .conftest import put_notices, put_prefs

SRC = Path(__file__).resolve().parents[3] / "src"
BROKER = os.environ.get("SHEBAO_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
N = 400


def _worker(db_url, capture, *extra):
    env = {**os.environ, "SHEBAO_DATABASE_URL": db_url,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "shebao.channels.cli.main", "notices", "worker", "--capture",
         str(capture), "--capture-delay", "0.01", "--batch-size", "50", "--lease-seconds", "3",
         "--poll-seconds", "0.2", "--quiet", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _sent(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).where(notice.c.status == "sent")).scalar()


def _until(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode", ["polling", "broker"])
def test_kill_9_mid_batch_then_restart_delivers_each_notice_exactly_once(
        engine, db_url, tmp_path, mode):
    extra = []
    queue = None
    if mode == "broker":
        queue = f"shebao.notices.test.{uuid.uuid4().hex[:12]}"
        extra = ["--broker", BROKER, "--queue", queue]
    put_prefs(engine, range(1, N + 1), phone=None)
    ids = put_notices(engine, range(1, N + 1))
    cap_path = tmp_path / "capture.sqlite"
    cap = CaptureAdapter(str(cap_path))
    first = _worker(db_url, cap_path, *extra)
    try:
        # mid-batch: the gateway holds messages the outbox has not yet marked sent
        _until(lambda: cap.counts()["accepted"] >= 120
               and cap.counts()["accepted"] - _sent(engine) >= 5, 120, "a batch in flight")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    at_kill = cap.counts()
    sent_at_kill = _sent(engine)
    assert at_kill["accepted"] > sent_at_kill          # the crash window was hit
    assert sent_at_kill < N

    second = _worker(db_url, cap_path, *extra)
    try:
        _until(lambda: _sent(engine) == N, 120, "all notices sent after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err.decode()[-2000:]
    if queue:
        import pika
        conn = pika.BlockingConnection(pika.URLParameters(BROKER))
        conn.channel().queue_delete(queue)
        conn.close()

    counts = cap.counts()
    accepted = cap.accepted()
    cap.close()
    # none lost, none twice at the gateway
    assert counts["accepted"] == N
    assert sorted(m["notice_id"] for m in accepted) == sorted(ids)
    assert len({m["key"] for m in accepted}) == N
    # the notices in flight at the kill were sent again and recognised by their key
    assert counts["calls"] > counts["accepted"]
    assert counts["distinct_keys_called"] == N
    with engine.connect() as c:
        by_status = dict(c.execute(select(notice.c.status, func.count())
                                   .group_by(notice.c.status)).all())
    assert by_status == {"sent": N}
