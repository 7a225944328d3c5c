"""Runs every law case in tests/rules/*.yaml through its calculator.

A case file is a list of cases:

    - name: what the case shows
      calc: pension                      # a calculator name (shebao calc NAME)
      input: {...}                       # the JSON request; dates may be YAML dates
      # the arithmetic, in comments
      output: {...}                      # expected fields (a subset of the answer; exact match)
    - name: a malformed request
      calc: contribution
      input: {...}
      error: {field: wage}               # expected InputError naming this field

Amounts are written as strings ("4351.90"); a float in a case file is refused, so nobody's
case can pass by floating-point luck.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from shebao.core.errors import InputError
from shebao.rules.calculators import calculate

HERE = Path(__file__).parent


def _plain(v, where):
    if isinstance(v, float):
        raise ValueError(f"{where}: write {v!r} as a string; floats are not allowed in law cases")
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x, where) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x, where) for x in v]
    return v


def _cases():
    for path in sorted(HERE.glob("*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for i, case in enumerate(cases):
            where = f"{path.name}#{i + 1}"
            yield pytest.param(path.name, {k: _plain(v, where) if k in ("input", "output", "error")
                                           else v for k, v in case.items()},
                               id=f"{path.stem}:{case.get('name', i)}")


CASES = list(_cases())


def test_there_are_law_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("file, case", CASES)
def test_law_case(file, case):
    assert set(case) <= {"name", "calc", "input", "output", "error"}, f"{file}: unknown keys"
    assert ("output" in case) != ("error" in case), f"{file}: give exactly one of output/error"
    if "error" in case:
        with pytest.raises(InputError) as info:
            calculate(case["calc"], case["input"])
        assert info.value.field == case["error"]["field"], str(info.value)
        return
    got = calculate(case["calc"], case["input"])
    for key, expected in case["output"].items():
        assert key in got, f"{case['name']}: answer lacks {key!r}: {got}"
        assert got[key] == expected, f"{case['name']}: {key} = {got[key]!r}, expected {expected!r}"
