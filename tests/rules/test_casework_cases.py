"""Runs the benefit casework law cases in tests/rules/casework/*.yaml through the same pure
computations the case services use (``shebao.benefits.<kind>``).

    - name: what the case shows
      kind: unemployment | injury_recognition | injury_appraisal | injury_costs | injury_death
            | maternity | survivors
      region: "310104"
      facts: {...}                      # the facts of the claim
      # the arithmetic, in comments
      expect:
        eligible: true                  # optional
        outcome: recognised             # optional
        facts: {months: 18}             # optional: facts the computation adds
        lines: [{code, amount, ...}]    # optional: the lines, in order, each a subset match
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from shebao.benefits import casework_compute
from shebao.rules import load_rules

HERE = Path(__file__).parent / "casework"


def _plain(v):
    if isinstance(v, float):
        raise ValueError(f"write {v!r} as a string; floats are not allowed in law cases")
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


CASES = [pytest.param(c, id=f"{p.stem}:{c['name']}")
         for p in sorted(HERE.glob("*.yaml"))
         for c in yaml.safe_load(p.read_text(encoding="utf-8"))]


def test_every_kind_has_cases():
    assert {c.values[0]["kind"] for c in CASES} == set(casework_compute.COMPUTE)


@pytest.mark.parametrize("case", CASES)
def test_casework_case(case):
    assert set(case) <= {"name", "kind", "region", "facts", "expect"}
    got = casework_compute.compute(load_rules(), case["kind"], case["region"],
                                   _plain(case["facts"])).as_json()
    exp = _plain(case["expect"])
    for key in ("eligible", "outcome"):
        if key in exp:
            assert got[key] == exp[key], (key, got["reasons"], got["arithmetic"])
    for k, v in exp.get("facts", {}).items():
        assert got["facts"].get(k) == v, (k, got["facts"])
    if "lines" in exp:
        assert len(got["lines"]) == len(exp["lines"]), got["lines"]
        for want, line in zip(exp["lines"], got["lines"]):
            for k, v in want.items():
                assert line[k] == v, (k, line, got["arithmetic"])
