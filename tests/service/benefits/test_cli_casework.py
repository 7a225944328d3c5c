"""`shebao benefit …` end to end through the real executable: a claim from the counter to
the award, the decision notice as a PDF, the overdue list, maker ≠ checker."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from shebao.db.engine import make_engine
from tests.support.accounts import cli_accounts

from .conftest import make_person
from .test_casework import R, _history
from .test_cli import _sh


def test_benefit_cli_claim_to_award_notice_and_overdue(db_url, tmp_path):
    eng = make_engine(db_url)
    pid = make_person(eng, dt.date(1985, 5, 1), seq=61, region=R)
    _history(eng, pid, 3)
    env = cli_accounts(eng, tmp_path, {"clerk-a": ("benefits_clerk", "310000"),
                                       "clerk-b": ("benefits_clerk", "310000")})
    eng.dispose()
    facts = json.dumps({"registered_on": "2025-08-10", "involuntary": True,
                        "seeking_work": True})
    bad = _sh(env, "benefit", "apply", "--kind", "pension-ish", "--person", str(pid),
              "--region", R, "--facts", facts, "--actor", "clerk-a")
    assert bad.returncode == 2 and "kind" in bad.stderr
    r = _sh(env, "benefit", "apply", "--kind", "unemployment", "--person", str(pid),
            "--region", R, "--facts", facts, "--actor", "clerk-a")
    assert r.returncode == 0, r.stderr
    cid = str(json.loads(r.stdout)["case_id"])
    # nothing is due yet today; a day far ahead finds the case overdue
    od = _sh(env, "benefit", "overdue", "--region", R, "--on", "2099-01-01", "--actor", "clerk-a")
    assert [c["id"] for c in json.loads(od.stdout)["overdue"]] == [int(cid)]
    comp = _sh(env, "benefit", "compute", cid, "--actor", "clerk-a")
    assert comp.returncode == 0, comp.stderr
    # 36 paid months → 12 months of 2466.00
    assert json.loads(comp.stdout)["facts"]["months"] == 12
    assert _sh(env, "benefit", "submit", cid, "--actor", "clerk-a").returncode == 0
    same = _sh(env, "benefit", "approve", cid, "--actor", "clerk-a")
    assert same.returncode == 2
    ok = _sh(env, "benefit", "approve", cid, "--actor", "clerk-b")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "granted"
    pdf = tmp_path / "notice.pdf"
    n = _sh(env, "benefit", "notice", cid, "--lang", "zh", "--out", str(pdf),
            "--actor", "clerk-a")
    assert n.returncode == 0, n.stderr
    assert Path(pdf).read_bytes().startswith(b"%PDF")
    aw = _sh(env, "benefit", "awards", "--person", str(pid), "--actor", "clerk-a")
    lines = json.loads(aw.stdout)[0]["lines"]
    assert [(ln["code"], ln["amount"]) for ln in lines] == [
        ("unemployment_benefit", "2466.00"), ("medical_premium", "246.60")]
