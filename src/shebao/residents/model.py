"""Resident schemes, pure: the uninsured by region and age group, the campaign window.

The resident pension arithmetic (account, award = basic + account ÷ 139) is
``shebao.rules.formulas.resident``, shared with the ``resident_pension`` calculator.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.core.errors import InputError

EPOCH = np.datetime64("1970-01-01", "D")
KINDS = ("resident", "student")


def ages(birth_days: np.ndarray, on: dt.date) -> np.ndarray:
    """Completed years of age on ``on`` (birthdays counted by month and day)."""
    b = (EPOCH + np.asarray(birth_days, np.int64).astype("timedelta64[D]")).astype(
        "datetime64[D]")
    by = b.astype("datetime64[Y]").astype(np.int64) + 1970
    bm = b.astype("datetime64[M]").astype(np.int64) % 12 + 1
    bd = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    before = (bm > on.month) | ((bm == on.month) & (bd > on.day))
    return on.year - by - before.astype(np.int64)


def age_group_labels(bounds: list[int]) -> list[str]:
    return [f"{lo}-{hi - 1}" for lo, hi in zip(bounds, bounds[1:])] + [f"{bounds[-1]}+"]


def uninsured_table(matrix: np.ndarray, on: dt.date, bounds: list[int],
                    signed_up: np.ndarray | None = None) -> list[dict]:
    """``matrix`` (person, birth days, region, pension 1/0, medical 1/0) → per region × age
    group: people, uninsured for pension, uninsured for medical, uninsured for both; with
    ``signed_up`` (person ids of a campaign) also ``enrolled``: those of them signed up."""
    if len(matrix) == 0:
        return []
    b = np.asarray(sorted(int(x) for x in bounds), np.int64)
    g = np.searchsorted(b, ages(matrix[:, 1], on), side="right") - 1
    keep = g >= 0
    m, g = matrix[keep], g[keep]
    labels = age_group_labels(b.tolist())
    key = np.column_stack([m[:, 2], g])
    uk, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    cols = [np.ones(len(m), np.int64), 1 - m[:, 3], 1 - m[:, 4], (1 - m[:, 3]) * (1 - m[:, 4])]
    if signed_up is not None:
        cols.append(np.isin(m[:, 0], np.asarray(signed_up, np.int64)).astype(np.int64))
    sums = np.zeros((len(uk), len(cols)), np.int64)
    for i, c in enumerate(cols):
        np.add.at(sums[:, i], inv, c)
    return [{"region": f"{int(r):06d}", "age_group": labels[int(a)], "people": int(s[0]),
             "no_pension": int(s[1]), "no_medical": int(s[2]), "uninsured": int(s[3]),
             **({"enrolled": int(s[4])} if signed_up is not None else {})}
            for (r, a), s in zip(uk, sums)]


def window(year: int, value: dict) -> tuple[dt.date, dt.date]:
    """The campaign window for insurance year ``year``: MM-DD bounds in the year before."""
    try:
        opens = dt.date.fromisoformat(f"{year - 1}-{value['opens']}")
        closes = dt.date.fromisoformat(f"{year - 1}-{value['closes']}")
    except (KeyError, ValueError):
        raise InputError("resident.enrolment_window must give opens/closes as MM-DD",
                         field="year") from None
    return opens, closes


__all__ = ["ages", "age_group_labels", "uninsured_table", "window", "KINDS"]
