"""The one dispatch from a claim's kind to its pure computation (services and law cases)."""
from __future__ import annotations

from shebao.core.errors import InputError

from . import injury, maternity, survivors, unemployment
from .claims import Computation

COMPUTE = {"unemployment": unemployment.compute,
           "injury_recognition": injury.compute_recognition,
           "injury_appraisal": injury.compute_appraisal,
           "injury_costs": injury.compute_costs,
           "injury_death": injury.compute_death,
           "maternity": maternity.compute,
           "survivors": survivors.compute}


def compute(rules, kind: str, region: str, facts: dict) -> Computation:
    if kind not in COMPUTE:
        raise InputError(f"unknown benefit kind {kind!r} (one of {', '.join(COMPUTE)})",
                         field="kind", value=kind)
    return COMPUTE[kind](rules, region, facts)
