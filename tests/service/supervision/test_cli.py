"""``shebao monitor`` and ``shebao supervision`` end to end through the real executable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shebao.core.actor import Actor
from shebao.db.engine import make_engine
from shebao.ledger.chart import open_chart
from tests.support.accounts import cli_accounts
from tests.support.supervision_seed import AS_OF, seed_monitoring

SHEBAO = str(Path(sys.executable).with_name("shebao"))


def _sh(env, *args):
    env = {**os.environ, **env}
    env.pop("SHEBAO_ACTOR", None)
    return subprocess.run([SHEBAO, *args], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_monitor_and_inspection_commands(db_url, tmp_path):
    eng = make_engine(db_url)
    hits = seed_monitoring(eng)
    open_chart(eng, Actor("system", "system"), "310104", ("pension",))
    env = cli_accounts(eng, tmp_path, {"insp-a": ("inspector", "310000"),
                                       "insp-b": ("inspector", "310000"),
                                       "clerk": ("collection_clerk", "310000")})
    eng.dispose()
    env["SHEBAO_DATABASE_URL"] = db_url
    refused = _sh(env, "monitor", "run", "--region", "310000", "--actor", "clerk")
    assert refused.returncode == 2 and "supervision.monitor.run" in refused.stderr
    r = _sh(env, "monitor", "run", "--region", "310000", "--as-of", AS_OF.isoformat(), "--json",
            "--actor", "insp-a")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["new"] == len(hits)
    r = _sh(env, "monitor", "alerts", "--rule", "pension_after_death", "--json", "--actor", "insp-a")
    alert = json.loads(r.stdout)[0]
    assert alert["subject_id"] == hits["pension_after_death"]
    r = _sh(env, "supervision", "inspect", "--alert", str(alert["id"]), "--actor", "insp-a")
    assert r.returncode == 0, r.stderr
    case = str(json.loads(r.stdout)["case_id"])
    assert _sh(env, "supervision", "decide", case, "--decision", "recover", "--amount", "7600",
               "--actor", "insp-a").returncode == 0
    same = _sh(env, "supervision", "approve", case, "--actor", "insp-a")
    assert same.returncode == 2
    ok = _sh(env, "supervision", "approve", case, "--actor", "insp-b")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["recovery_id"]
    bad = _sh(env, "monitor", "run", "--as-of", "2026-13-01", "--actor", "insp-a")
    assert bad.returncode == 2 and "as_of" in bad.stderr
