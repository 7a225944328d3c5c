"""The rules and calc commands, run as a user runs them (the installed console script)."""
import json
import subprocess
import sys
from pathlib import Path

SHEBAO = str(Path(sys.executable).parent / "shebao")


def run(*args):
    return subprocess.run([SHEBAO, *args], capture_output=True, text=True, timeout=120)


def test_rules_check_counts():
    r = run("rules", "check")
    assert r.returncode == 0 and r.stdout.startswith("ok: ") and "dated values" in r.stdout


def test_rules_check_refuses_a_bad_tree(tmp_path):
    (tmp_path / "x.yaml").write_text("description: d\nunit: u\nvalues: {national: {2020-01-01: 1}}\n")
    r = run("rules", "check", "--path", str(tmp_path))
    assert r.returncode == 2 and "missing 'reference'" in r.stderr


def test_rules_show_inherited_value():
    r = run("rules", "show", "contribution.base.floor", "--region", "310104", "--date", "2025-08-01")
    assert r.returncode == 0
    assert "7460" in r.stdout and "inherited from 310000" in r.stdout and "reference:" in r.stdout


def test_calc_prints_one_json_object():
    r = run("calc", "contribution", "--json",
            '{"region": "310000", "month": "2025-08", "wage": "50000", "kind": "flexible"}')
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["lines"][1]["amount"] == "2984.16"


def test_calc_bad_input_exits_2_naming_the_field_and_prints_no_result():
    r = run("calc", "contribution", "--json", '{"region": "310000", "month": "2025-08", "kind": "employee"}')
    assert r.returncode == 2 and r.stdout == "" and "'wage'" in r.stderr
    r = run("calc", "contribution", "--json", "{not json")
    assert r.returncode == 2 and r.stdout == "" and "'json'" in r.stderr
