"""`shebao demo` end to end on a fresh SQLite file (without the blocking web server)."""
import os
import subprocess
import sys
from pathlib import Path

SHEBAO = str(Path(sys.executable).parent / "shebao")


def test_demo_runs_every_landed_stage(tmp_path):
    env = {**os.environ, "SHEBAO_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
           "SHEBAO_DEMO_NO_SERVE": "1", "COLUMNS": "160"}
    r = subprocess.run([SHEBAO, "demo", "--people", "400", "--employers", "20", "--months", "2"],
                       capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "migrations applied" in out and "parameters" in out
    assert "contribution.base.floor" in out and "7460" in out
    assert "generating 400 persons" in out
    assert "reconciled" in out and "True" in out
    assert "Next, try:" in out
    # run again: nothing is generated twice
    r2 = subprocess.run([SHEBAO, "demo", "--people", "400", "--employers", "20", "--months", "2"],
                        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert "already there" in r2.stdout
