"""The transfer, certification, compare and scenario commands through the real executable."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from shebao.db.engine import make_engine
from tests.support.accounts import cli_accounts

from .conftest import BJ, SH, add_history, fund_account, fund_pool, make_award, make_person

SHEBAO = str(Path(sys.executable).with_name("shebao"))


def _sh(env, *args):
    env = {**os.environ, **env}
    env.pop("SHEBAO_ACTOR", None)
    return subprocess.run([SHEBAO, *args], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_transfer_and_certification_commands(db_url, tmp_path):
    eng = make_engine(db_url)
    pid = make_person(eng, dt.date(1985, 6, 1), seq=41)
    add_history(eng, pid, SH, {2020: 1_000_000})
    fund_account(eng, SH, pid, 960_000, dt.date(2020, 12, 31))
    fund_pool(eng, SH, 10_000_000, dt.date(2020, 12, 31))
    make_award(eng, make_person(eng, dt.date(1955, 1, 1), seq=42), 300_000)
    env = cli_accounts(eng, tmp_path, {"sh-a": ("benefits_clerk", SH), "sh-b": ("benefits_clerk", SH),
                                       "bj": ("benefits_clerk", BJ)})
    eng.dispose()
    r = _sh(env, "transfer", "apply", "--person", str(pid), "--to", BJ, "--date", "2025-03-03",
            "--actor", "bj")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    tid = str(t["id"])
    assert t["steps"][0]["due_on"] == "2025-03-24"
    assert _sh(env, "transfer", "letter", tid, "--actor", "sh-a").returncode == 2   # wrong end
    assert _sh(env, "transfer", "letter", tid, "--actor", "bj").returncode == 0
    r = _sh(env, "transfer", "prepare-out", tid, "--actor", "sh-a")
    assert r.returncode == 0, r.stderr
    # 12% × 120,000 = 14,400.00 pooled; the account 9,600.00
    assert (json.loads(r.stdout)["pooled_fen"], json.loads(r.stdout)["account_fen"]) == \
        (1_440_000, 960_000)
    assert _sh(env, "transfer", "approve-out", tid, "--actor", "sh-a").returncode == 2
    assert _sh(env, "transfer", "approve-out", tid, "--actor", "sh-b").returncode == 0
    r = _sh(env, "transfer", "record-in", tid, "--actor", "bj")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "recorded"
    q = _sh(env, "transfer", "queue", "--actor", "bj")
    assert q.returncode == 0 and json.loads(q.stdout) == []
    r = _sh(env, "certification", "run", "--region", SH, "--month", "2025-06", "--actor", "sh-a")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["suspended"] == 1     # certified at the award start, 2024-05
    bad = _sh(env, "certification", "run", "--region", SH, "--month", "2025-13", "--actor", "sh-a")
    assert bad.returncode == 2 and "month" in bad.stderr


def test_compare_and_scenario_commands(db_url, tmp_path):
    eng = make_engine(db_url)
    make_award(eng, make_person(eng, dt.date(1955, 1, 1), seq=43), 500_000,
               start=dt.date(2020, 1, 1))
    env = cli_accounts(eng, tmp_path, {"sh-a": ("benefits_clerk", SH)})
    eng.dispose()
    r = _sh(env, "compare", "--regions", "310000,110000", "--date", "2025-07-01", "--prefix",
            "contribution.base.", "--json")
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert rows["contribution.base.floor"]["regions"]["110000"]["value"] == "7162"
    text = _sh(env, "compare", "--regions", "310000,110000", "--date", "2025-07-01", "--diff")
    assert text.returncode == 0 and "parameters differ" in text.stdout
    assert _sh(env, "compare", "--regions", "310000", "--date", "2025-07-01").returncode == 2
    ov = tmp_path / "reform.yaml"
    ov.write_text("pension.indexation:\n  national: {2025-07-01: 0.05}\n", encoding="utf-8")
    chart = tmp_path / "reform.svg"
    r = _sh(env, "scenario", "--region", SH, "--date", "2025-07-01", "--overlay", str(ov),
            "--chart", str(chart), "--json", "--actor", "sh-a")
    assert r.returncode == 0, r.stderr
    # 5,000 × 1.05 − 5,000 × 1.02 = 150 a month → 1,800 a year
    assert json.loads(r.stdout)["difference"]["pensions"] == 180_000
    assert chart.read_text(encoding="utf-8").startswith("<svg")
