"""Medical settlement, vectorised (rules.md §3; rules-2 §2, §3).

A claim is an itemised bill. Its lines are classified by the catalogue of the place of
treatment (甲 A / 乙 B / 丙 C / not listed); each class carries a first self-pay share
(``medical.catalogue_self_pay``), so a line splits into a self-paid part and an in-scope part.
Per claim, with the policy of the insured place:

    S        = Σ in-scope parts of the lines
    D        = deductible (first or later stay of the year, by person type), at most S
    raw      = Σ_band length([D, S] ∩ [lower, upper]) × (ratio − reduction)      rounded once
    basic    = raw, limited by what is left of the annual cap (in claim order per person)
    above    = in-scope part above the last band's upper bound
    serious  = (above + (raw − basic)) × serious ratio, limited by the layer's own annual cap
    account  = min(balance left, S − basic − serious) when the holder uses the account
    cash     = total − basic − serious − account

``reduction`` is the off-site category's cut in percentage points
(``medical.offsite.ratio_reduction``). Caps and the account are consumed in claim order per
person, exactly: with ``cum`` the running sum of a person's amounts in the batch,
``used_i = min(cum_i, avail) − min(cum_{i−1}, avail)``; so a million claims need no Python
loop. Every amount is integer fen; every rate an integer numerator over ``DEN``; each amount
is rounded once by ``core.money.round_half_up``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.money import round_half_up, to_fen
from shebao.rules.formulas.contribution import DEN, rate_num

CLASSES = ("A", "B", "C", "unlisted")          # catalogue class codes 0..3
PERSON_TYPES = ("in_service", "retired", "resident")
LEVELS = ("tertiary", "secondary", "primary")
OFFSITE = ("home", "long_term", "referral", "emergency", "temporary_other", "unregistered")


def self_pay_nums(table: dict) -> np.ndarray:
    """``medical.catalogue_self_pay`` record → numerators by class code (not listed: all)."""
    out = np.full(len(CLASSES), DEN, dtype=np.int64)
    for i, c in enumerate(CLASSES[:3]):
        if c not in table:
            raise RuleError(f"medical.catalogue_self_pay lacks class {c}")
        out[i] = rate_num(Decimal(table[c]))
    if np.any((out < 0) | (out > DEN)):
        raise RuleError("a self-pay share must lie between 0 and 1")
    return out


def split_lines(amount_fen, class_code, nums: np.ndarray):
    """Per line: (self-paid fen, in-scope fen)."""
    amt = np.asarray(amount_fen, dtype=np.int64)
    self_paid = round_half_up(amt * nums[np.asarray(class_code, dtype=np.int64)], DEN)
    return self_paid, amt - self_paid


@dataclass(frozen=True)
class BandTable:
    """Bands of every (person type, level) group: arrays (groups × bands) in fen / numerators;
    group index = person_type_index × len(LEVELS) + level_index. Unused bands have length 0."""

    lower: np.ndarray
    upper: np.ndarray
    ratio: np.ndarray

    @staticmethod
    def from_param(value: dict) -> "BandTable":
        nb = max(len(value.get(p, {}).get(lv, [])) for p in PERSON_TYPES for lv in LEVELS)
        ng = len(PERSON_TYPES) * len(LEVELS)
        lo, up, ra = (np.zeros((ng, max(nb, 1)), np.int64) for _ in range(3))
        for pi, p in enumerate(PERSON_TYPES):
            for li, lv in enumerate(LEVELS):
                bands = value.get(p, {}).get(lv)
                if bands is None:
                    raise RuleError(f"medical.inpatient_bands lacks {p}/{lv}")
                prev = 0
                for bi, (lower, upper, ratio) in enumerate(bands):
                    lf, uf, rn = to_fen(Decimal(lower)), to_fen(Decimal(upper)), rate_num(
                        Decimal(ratio))
                    if lf < prev or uf <= lf or not 0 <= rn <= DEN:
                        raise RuleError(f"medical.inpatient_bands {p}/{lv}: band {bi + 1} "
                                        "must follow the previous, have upper > lower and a "
                                        "ratio in [0, 1]")
                    lo[pi * len(LEVELS) + li, bi] = lf
                    up[pi * len(LEVELS) + li, bi] = uf
                    ra[pi * len(LEVELS) + li, bi] = rn
                    prev = uf
        return BandTable(lo, up, ra)

    def top(self) -> np.ndarray:
        return self.upper.max(axis=1)


def group_index(person_type, level) -> np.ndarray:
    return (np.asarray(person_type, np.int64) * len(LEVELS) + np.asarray(level, np.int64))


def band_fund(bands: BandTable, group, scope_fen, deductible_fen, reduction_num):
    """Fund share before caps, per claim: Σ length([D, S] ∩ band) × (ratio − reduction)."""
    s = np.asarray(scope_fen, np.int64)[:, None]
    d = np.asarray(deductible_fen, np.int64)[:, None]
    g = np.asarray(group, np.int64)
    lo, up, ra = bands.lower[g], bands.upper[g], bands.ratio[g]
    length = np.clip(np.minimum(s, up) - np.maximum(d, lo), 0, None)
    ratio = np.clip(ra - np.asarray(reduction_num, np.int64)[:, None], 0, None)
    raw = round_half_up((length * ratio).sum(axis=1), DEN)
    above = np.clip(s[:, 0] - np.maximum(d[:, 0], bands.top()[g]), 0, None)
    return raw, above


def running_limit(person, amount, available):
    """Amounts limited by what each person has left, consumed in order: rows are sorted by
    person (then claim order); ``available`` is per row (the person's, repeated)."""
    amount = np.asarray(amount, np.int64)
    n = len(amount)
    if n == 0:
        return amount.copy()
    person = np.asarray(person)
    start = np.ones(n, dtype=bool)
    start[1:] = person[1:] != person[:-1]
    cum = np.cumsum(amount)
    base = np.maximum.accumulate(np.where(start, cum - amount, 0))  # cum before each group
    cum = cum - base
    avail = np.maximum(np.asarray(available, np.int64), 0)
    return np.minimum(cum, avail) - np.minimum(cum - amount, avail)


def first_in_group(person) -> np.ndarray:
    person = np.asarray(person)
    start = np.ones(len(person), dtype=bool)
    start[1:] = person[1:] != person[:-1]
    return start


@dataclass
class Settled:
    """Per-claim results (int64 fen arrays)."""

    total: np.ndarray
    self_paid: np.ndarray
    scope: np.ndarray
    deductible: np.ndarray
    basic: np.ndarray
    serious: np.ndarray
    account: np.ndarray
    cash: np.ndarray


def group_cumsum(key, values) -> np.ndarray:
    """Running sum of ``values`` within runs of equal ``key`` (rows sorted by key), inclusive."""
    values = np.asarray(values, np.int64)
    if len(values) == 0:
        return values.copy()
    start = first_in_group(key)
    cum = np.cumsum(values)
    base = np.maximum.accumulate(np.where(start, cum - values, np.iinfo(np.int64).min))
    return cum - base


def settle(*, person, total, self_paid, scope, inpatient, group, first_stay, deductibles,
           reduction_num, bands: BandTable, cap_left, serious_num, serious_left,
           balance_left, use_account) -> Settled:
    """Settle claims sorted by person then claim order (arrays, one row per claim), one policy.

    ``deductibles``: (n, 2) first-stay / later-stay fen; ``first_stay``: bool per claim (the
    person's first inpatient stay of the year); ``cap_left`` / ``serious_left`` /
    ``balance_left``: what the person has left at the start of the batch (per row)."""
    scope = np.asarray(scope, np.int64)
    inp = np.asarray(inpatient, bool)
    ded = deductible(deductibles, first_stay, inp, scope)
    raw, above = band_fund(bands, group, scope, ded, reduction_num)
    return after_bands(person=person, account_key=person, total=total, self_paid=self_paid,
                       scope=scope, inpatient=inp, ded=ded, raw=raw, above=above,
                       cap_left=cap_left, serious_num=serious_num, serious_left=serious_left,
                       balance_left=balance_left, use_account=use_account)


def deductible(deductibles, first_stay, inpatient, scope) -> np.ndarray:
    d = np.asarray(deductibles, np.int64)
    ded = np.where(np.asarray(first_stay, bool), d[:, 0], d[:, 1])
    return np.where(np.asarray(inpatient, bool), np.minimum(ded, scope), 0)


def after_bands(*, person, account_key, total, self_paid, scope, inpatient, ded, raw, above,
                cap_left, serious_num, serious_left, balance_left, use_account) -> Settled:
    """Caps, the serious-illness layer and the account, given each claim's band amount.
    ``person`` groups the caps (a person × year × scheme key), ``account_key`` the account."""
    inp = np.asarray(inpatient, bool)
    raw, above = np.where(inp, raw, 0), np.where(inp, above, 0)
    basic = running_limit(person, raw, cap_left)
    serious_raw = round_half_up((above + raw - basic) * np.asarray(serious_num, np.int64), DEN)
    serious = running_limit(person, np.where(inp, serious_raw, 0), serious_left)
    want = np.where(np.asarray(use_account, bool), np.clip(scope - basic - serious, 0, None), 0)
    account = running_limit(account_key, want, balance_left)
    total = np.asarray(total, np.int64)
    return Settled(total, np.asarray(self_paid, np.int64), np.asarray(scope, np.int64),
                   np.asarray(ded, np.int64), basic, serious, account,
                   total - basic - serious - account)


@dataclass
class Policy:
    """The insured place's settlement policy on one date, resolved once (with its sources)."""

    region: str
    bands: BandTable
    deductibles: np.ndarray          # (person types × 2) first / later stay, fen
    cap: np.ndarray                  # per person type, fen
    serious_num: int
    serious_cap: int
    reduction: dict                  # off-site category → numerator
    sources: list


def policy(rules, region: str, on) -> Policy:
    sources: list = []

    def get(name):
        res = rules.lookup(name, region, on)
        sources.append(res.as_json())
        return res.value

    bands = BandTable.from_param(get("medical.inpatient_bands"))
    dv, cv = get("medical.inpatient_deductible"), get("medical.annual_cap")
    ded = np.array([[to_fen(Decimal(dv[p]["first_stay"])), to_fen(Decimal(dv[p]["later_stay"]))]
                    for p in PERSON_TYPES], np.int64)
    cap = np.array([to_fen(Decimal(cv[p])) for p in PERSON_TYPES], np.int64)
    si = get("medical.serious_illness")
    red = {"home": 0} | {k: rate_num(Decimal(v))
                         for k, v in get("medical.offsite.ratio_reduction").items()}
    missing = set(OFFSITE) - set(red)
    if missing:
        raise RuleError(f"medical.offsite.ratio_reduction lacks {sorted(missing)}")
    return Policy(region, bands, ded, cap, rate_num(Decimal(si["ratio"])),
                  to_fen(Decimal(si["cap"])), red, sources)


def catalogue_nums(rules, region: str, on) -> tuple[np.ndarray, dict]:
    """The place of treatment's self-pay numerators by class, and the parameter's source."""
    res = rules.lookup("medical.catalogue_self_pay", region, on)
    return self_pay_nums(res.value), res.as_json()


__all__ = ["Policy", "policy", "catalogue_nums", "CLASSES", "PERSON_TYPES", "LEVELS", "OFFSITE", "self_pay_nums", "split_lines",
           "BandTable", "group_index", "band_fund", "running_limit", "first_in_group",
           "group_cumsum", "deductible", "after_bands",
           "Settled", "settle"]
