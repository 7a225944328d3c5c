"""The payroll and pension commands end to end through the real `shebao` executable."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from shebao.db.engine import make_engine
from tests.support.accounts import cli_accounts, write_credentials

from .conftest import fund_pool, make_award, make_person

SHEBAO = str(Path(sys.executable).with_name("shebao"))


def _sh(env, *args):
    env = {**os.environ, **env}
    env.pop("SHEBAO_ACTOR", None)
    # stdin is not a terminal, so the CLI never prompts (a missing password is an error)
    return subprocess.run([SHEBAO, *args], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_payroll_cli_maker_checker_release(db_url, tmp_path):
    eng = make_engine(db_url)
    pid = make_person(eng, dt.date(1960, 3, 1), seq=51)
    make_award(eng, pid, 250000, 0)
    fund_pool(eng, "310000", 10_000_000, dt.date(2025, 1, 1), "cli-pool")
    env = cli_accounts(eng, tmp_path, {"clerk-a": ("benefits_clerk", "310000"),
                                       "clerk-b": ("benefits_clerk", "310000")})
    eng.dispose()
    bad = _sh(env, "payroll", "run", "--region", "310000", "--month", "2025-13")
    assert bad.returncode == 2 and "month" in bad.stderr
    r = _sh(env, "payroll", "run", "--region", "310000", "--month", "2025-11",
            "--actor", "clerk-a")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["payments"], out["total"]) == (1, "2500.00")
    run_id = str(out["run_id"])
    assert _sh(env, "payroll", "submit", "--run", run_id, "--actor", "clerk-a").returncode == 0
    same = _sh(env, "payroll", "approve", "--run", run_id, "--actor", "clerk-a")
    assert same.returncode == 2 and "never approve their own" in same.stderr
    assert _sh(env, "payroll", "approve", "--run", run_id, "--actor", "clerk-b").returncode == 0
    rel = _sh(env, "payroll", "release", "--run", run_id, "--out", str(tmp_path),
              "--execution-date", "2025-11-05", "--debtor-account", "31050161393600000001",
              "--debtor-bank", "中国建设银行上海分行", "--actor", "clerk-a")
    assert rel.returncode == 0, rel.stderr
    files = json.loads(rel.stdout)["files"]
    assert {f["format"] for f in files} == {"xml", "csv"}
    assert all(Path(f["path"]).exists() for f in files)


def test_payroll_cli_refuses_invented_actors(db_url, tmp_path):
    """Security probe B4: `payroll submit --actor a`, `payroll approve --actor b` with no such
    accounts approved a run. Now both are refused (exit 2) and the run stays as it was."""
    eng = make_engine(db_url)
    pid = make_person(eng, dt.date(1960, 3, 1), seq=52)
    make_award(eng, pid, 250000, 0)
    fund_pool(eng, "310000", 10_000_000, dt.date(2025, 1, 1), "cli-pool-b4")
    env = cli_accounts(eng, tmp_path, {"clerk-a": ("benefits_clerk", "310000")})
    eng.dispose()
    r = _sh(env, "payroll", "run", "--region", "310000", "--month", "2025-11", "--actor", "clerk-a")
    assert r.returncode == 0, r.stderr
    run_id = str(json.loads(r.stdout)["run_id"])
    invented = write_credentials(tmp_path / "invented",
                                 {"a": "Made-up-password-1", "b": "Made-up-password-2"})
    env_invented = {**env, "SHEBAO_CREDENTIALS": str(invented)}
    sub = _sh(env_invented, "payroll", "submit", "--run", run_id, "--actor", "a")
    assert sub.returncode == 2 and "'a' not signed in" in sub.stderr
    assert _sh(env, "payroll", "submit", "--run", run_id, "--actor", "clerk-a").returncode == 0
    app = _sh(env_invented, "payroll", "approve", "--run", run_id, "--actor", "b")
    assert app.returncode == 2 and "'b' not signed in" in app.stderr
    eng = make_engine(db_url)
    with eng.connect() as c:
        status = c.execute(text("SELECT status FROM payroll_run WHERE id = :r"),
                           {"r": int(run_id)}).scalar_one()
    eng.dispose()
    assert status == "submitted"
