"""Calculators: one JSON object in, one JSON object out (``shebao calc NAME --json '{…}'``).

A calculator is a function ``(request: dict) -> dict`` registered under a name. It validates
every field it reads through :mod:`shebao.rules.calculators.fields` (which raises
``InputError(field=…)``), computes with the same vectorised formulas the batch runs use
(arrays of length one), and returns amounts as decimal strings in yuan ("2984.16").

The portal's estimators and the API call these same functions. Every calculator module is
listed at the end of this file.
"""
from __future__ import annotations

from typing import Callable

Calculator = Callable[[dict], dict]
_REGISTRY: dict[str, Calculator] = {}


def register(name: str):
    def deco(fn: Calculator) -> Calculator:
        _REGISTRY[name] = fn
        return fn
    return deco


def registry() -> dict[str, Calculator]:
    return dict(_REGISTRY)


def calculate(name: str, request: dict) -> dict:
    from shebao.core.errors import InputError

    calcs = registry()
    if name not in calcs:
        raise InputError(f"unknown calculator {name!r}; known: {', '.join(sorted(calcs))}",
                         field="name")
    if not isinstance(request, dict):
        raise InputError("request must be a JSON object", field="json")
    return calcs[name](request)


# The calculators (each module registers its own with ``@register``; imported after
# ``register`` exists).
from . import benefits, contribution, identity, retirement  # noqa: E402,F401
from . import fund  # noqa: E402,F401 - fund warning and projection step (#14)
from . import mobility  # noqa: E402,F401
from . import medical  # noqa: E402,F401
