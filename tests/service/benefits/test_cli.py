"""The payroll and pension commands end to end through the real `shebao` executable."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from shebao.db.engine import make_engine

from .conftest import fund_pool, make_award, make_person

SHEBAO = str(Path(sys.executable).with_name("shebao"))


def _sh(db_url, *args):
    env = {**os.environ, "SHEBAO_DATABASE_URL": db_url}
    return subprocess.run([SHEBAO, *args], capture_output=True, text=True, env=env, timeout=120)


def test_payroll_cli_maker_checker_release(db_url, tmp_path):
    eng = make_engine(db_url)
    pid = make_person(eng, dt.date(1960, 3, 1), seq=51)
    make_award(eng, pid, 250000, 0)
    fund_pool(eng, "310000", 10_000_000, dt.date(2025, 1, 1), "cli-pool")
    eng.dispose()
    bad = _sh(db_url, "payroll", "run", "--region", "310000", "--month", "2025-13")
    assert bad.returncode == 2 and "month" in bad.stderr
    r = _sh(db_url, "payroll", "run", "--region", "310000", "--month", "2025-11",
            "--actor", "clerk-a")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["payments"], out["total"]) == (1, "2500.00")
    run_id = str(out["run_id"])
    assert _sh(db_url, "payroll", "submit", "--run", run_id, "--actor", "clerk-a").returncode == 0
    same = _sh(db_url, "payroll", "approve", "--run", run_id, "--actor", "clerk-a")
    assert same.returncode == 2 and "never approve their own" in same.stderr
    assert _sh(db_url, "payroll", "approve", "--run", run_id, "--actor", "clerk-b").returncode == 0
    rel = _sh(db_url, "payroll", "release", "--run", run_id, "--out", str(tmp_path),
              "--execution-date", "2025-11-05", "--debtor-account", "31050161393600000001",
              "--debtor-bank", "中国建设银行上海分行", "--actor", "clerk-a")
    assert rel.returncode == 0, rel.stderr
    files = json.loads(rel.stdout)["files"]
    assert {f["format"] for f in files} == {"xml", "csv"}
    assert all(Path(f["path"]).exists() for f in files)
