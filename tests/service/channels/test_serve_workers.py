"""``shebao serve --workers N``: N worker processes on one port, one signing key, sessions in the
database — a session opened once is honoured by whichever worker answers, and every read of
the citizen page is audited on an intact chain."""
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import requests
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from shebao.core.actor import SYSTEM
from shebao.devtools.synthetic_population import citizen_ids
from shebao.registry import service as reg
from shebao.security import audit
from shebao.security import service as sec
from shebao.security.tables import audit_log

SRC = Path(__file__).resolve().parents[3] / "src"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def test_two_workers_share_sessions_and_audit_every_read(engine):
    db_url = engine.url.render_as_string(hide_password=False)
    os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")
    key = secrets.token_urlsafe(48)
    cid = citizen_ids("310104", np.arange(1)).astype(str)[0]
    pid = reg.register_person(engine, SYSTEM, citizen_id=cid, name="张三")
    user = sec.create_user(engine, SYSTEM, username="c-workers", role="citizen",
                           password=secrets.token_urlsafe(18) + "-7a", scope="310104",
                           person_id=pid)
    cookie = URLSafeSerializer(key, "session").dumps(sec.start_session(engine, user))
    with engine.connect() as c:
        before = c.execute(select(func.count()).select_from(audit_log)).scalar_one()
    port = _port()
    env = {**os.environ, "SHEBAO_SECRET_KEY": key, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c",
                             "from shebao.channels.cli.main import main; main()", "serve",
                             "--db", db_url, "--dev", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                requests.get(base + "/login", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # still starting (a busy CI)
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                time.sleep(0.1)
        workers = [p for p in _children(proc.pid)
                   if "python" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="ignore")]
        assert len(workers) >= 2
        codes = []
        for _ in range(12):          # a new connection each: either worker may answer
            r = requests.get(base + "/me", cookies={"shebao_session": cookie},
                             headers={"Connection": "close"}, allow_redirects=False)
            codes.append((r.status_code, r.headers.get("location")))
            assert "张" in r.text, codes
        assert codes == [(200, None)] * 12
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with engine.connect() as c:
        reads = c.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.action == "registry.person.read",
            audit_log.c.actor == "c-workers")).scalar_one()
        assert audit.verify(c).ok
        assert c.execute(select(func.count()).select_from(audit_log)).scalar_one() > before
    assert reads == 12
