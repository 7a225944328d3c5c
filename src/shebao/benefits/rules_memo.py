"""The rules as one chunk of pension cases asks them (pure; used by :mod:`.model`): the same
question gets the same answer, so a chunk of a month's retirements looks each parameter up once
instead of once per case. The answers are the ``Rules`` object's own, unchanged."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.money import to_fen
from shebao.rules.formulas.retirement import statutory_retirement


class ChunkRules:
    """The rules for one chunk of cases: the same question (name, region, day) gets the same
    answer, so each is looked up once per chunk (and its JSON, which every decision naming it
    shares read-only, built once); anything else is the wrapped ``Rules``."""

    def __init__(self, rules):
        self.rules = rules
        self._lookup: dict[tuple, object] = {}
        self._json: dict[tuple, dict] = {}
        self._retire: dict[tuple, object] = {}
        self._fen: dict[tuple, int] = {}

    def __getattr__(self, name):
        return getattr(self.rules, name)

    def __contains__(self, name: str) -> bool:
        return name in self.rules

    def lookup(self, name: str, region: str, on: dt.date):
        key = (name, region, on)
        try:
            r = self._lookup[key]
        except KeyError:
            try:
                r = self.rules.lookup(name, region, on)
            except RuleError as exc:
                r = exc
            self._lookup[key] = r
        if isinstance(r, RuleError):
            raise r
        return r

    def value(self, name: str, region: str, on: dt.date):
        return self.lookup(name, region, on).value

    def get(self, name: str, region: str, on: dt.date, default=None):
        try:
            return self.value(name, region, on)
        except RuleError:
            return default

    def lookup_json(self, name: str, region: str, on: dt.date) -> dict:
        key = (name, region, on)
        j = self._json.get(key)
        if j is None:
            j = self._json[key] = self.lookup(name, region, on).as_json()
        return j

    def fen_of(self, yuan) -> int:
        """``to_fen`` of a parameter's value (a handful of wages per chunk)."""
        key = (type(yuan), yuan)
        f = self._fen.get(key)
        if f is None:
            f = self._fen[key] = to_fen(yuan)
        return f

    def statutory(self, birth: dt.date, category: str, region: str):
        key = (birth, category, region)
        r = self._retire.get(key)
        if r is None:
            r = self._retire[key] = statutory(self.rules, birth, category, region)
        return r


def statutory(rules, birth: dt.date, category: str, region: str):
    if isinstance(rules, ChunkRules):
        return rules.statutory(birth, category, region)
    return statutory_retirement(rules, np.array([birth.year]), np.array([birth.month]),
                                np.array([birth.day]), category, region)


def fen_of(rules, yuan) -> int:
    if isinstance(rules, ChunkRules):
        return rules.fen_of(yuan)
    return to_fen(yuan)


def json_of(rules, name: str, region: str, on: dt.date) -> dict:
    if isinstance(rules, ChunkRules):
        return rules.lookup_json(name, region, on)
    return rules.lookup(name, region, on).as_json()
