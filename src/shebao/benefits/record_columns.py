"""The contribution record of many persons in columns (pure numpy): what :mod:`.record`'s
``merge`` and ``compact`` and ``model.gather``'s removal of months after retirement do for one
person, for a whole chunk at once. The per-case path keeps using :mod:`.record`; the
agreement tests compute the same cases both ways.

    shebao_months(rows, e2e) -> months        # collection's rows → one row per person × month
    merge(legacy, months, pid, ret_mi, claim_region, wage_id, shebao_source)
        -> (periods, not_counted by case position)

Rows are dicts of equal-length arrays. ``legacy`` is ``history.legacy_columns``; ``months``
is :func:`shebao_months`; ``pid`` the chunk's person ids (sorted), ``ret_mi`` each one's
retirement month index and ``claim_region`` the int code of each one's claim region;
``wage_id(region, day) -> int`` names that region's average wage in force on a day (equal ids,
equal wages), for joining runs of months.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.core.periods import month_str

from .record import AFTER_RETIREMENT, UNPAID

_SPAN = 1 << 20                     # month indexes of one person: keys person × _SPAN + month


def shebao_months(rows: dict, e2e: list[str]) -> dict:
    """``history.shebao_months`` in columns: per person × month (ordered) the region, the base
    (the paid payers' bases, or all payers' when none paid), whether the pension line of some
    payer's bill is paid in full, and — for the months not paid — the bills."""
    keep = np.flatnonzero(rows["pension_fen"] > 0)
    r = {k: v[keep] for k, v in rows.items()}
    e2e = [e2e[i] for i in keep.tolist()]
    n = len(keep)
    if n == 0:
        z = np.zeros(0, np.int64)
        return {"person_id": z, "day": z, "region": z, "base": z, "paid": z.astype(bool),
                "bills": {}}
    new = np.ones(n, bool)
    new[1:] = (r["person_id"][1:] != r["person_id"][:-1]) | (r["day"][1:] != r["day"][:-1])
    starts = np.flatnonzero(new)
    paid_row = (r["line_fen"] > 0) & (r["line_paid_fen"] >= r["line_fen"])
    paid = np.add.reduceat(paid_row.astype(np.int64), starts) > 0
    any_base = np.add.reduceat(r["base_fen"], starts)
    paid_base = np.add.reduceat(r["base_fen"] * paid_row, starts)
    first_paid = np.minimum.reduceat(np.where(paid_row, np.arange(n), n), starts)
    region = np.where(paid, r["region"][np.minimum(first_paid, n - 1)], r["region"][starts])
    ends = np.append(starts[1:], n)
    bills = {g: [e2e[i] for i in range(int(starts[g]), int(ends[g])) if e2e[i]]
             for g in np.flatnonzero(~paid).tolist()}
    return {"person_id": r["person_id"][starts], "day": r["day"][starts], "region": region,
            "base": np.where(paid, paid_base, any_base), "paid": paid, "bills": bills}


def _month_index(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _first_day(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)


def merge(legacy: dict, months: dict, pid: np.ndarray, ret_mi: np.ndarray,
          claim_region: np.ndarray, wage_id, shebao_source: int) -> tuple[dict, dict[int, list]]:
    """The chunk's periods (columns: case, day, month_index, months, index_months, base,
    paid, region, source, shebao, superseded; ordered by case, then as ``merge`` sorts them)
    and the months not counted per case position (unpaid, then after retirement)."""
    mday = months["day"]
    mmi = _month_index(mday)
    mcase = np.searchsorted(pid, months["person_id"])
    # a legacy period is trimmed by the months shebao governs (a month's first day only)
    governed = mday == _first_day(mday)
    gk = np.sort(mcase[governed] * _SPAN + mmi[governed])
    lcase = np.searchsorted(pid, legacy["person_id"])
    lo = lcase * _SPAN + legacy["month_index"]
    overlap = np.searchsorted(gk, lo + legacy["months"]) - np.searchsorted(gk, lo)
    lk = np.flatnonzero(overlap < legacy["months"])
    paid_m = np.flatnonzero(months["paid"])
    nl, ns = len(lk), len(paid_m)
    cols = {
        "case": np.concatenate([lcase[lk], mcase[paid_m]]),
        "day": np.concatenate([legacy["day"][lk], mday[paid_m]]),
        "month_index": np.concatenate([legacy["month_index"][lk], mmi[paid_m]]),
        "months": np.concatenate([legacy["months"][lk] - overlap[lk], np.ones(ns, np.int64)]),
        "index_months": np.concatenate([legacy["months"][lk], np.ones(ns, np.int64)]),
        "base": np.concatenate([legacy["base"][lk], months["base"][paid_m]]),
        "paid": np.concatenate([legacy["paid"][lk], np.ones(ns, bool)]),
        "region": np.concatenate([legacy["region"][lk], months["region"][paid_m]]),
        "source": np.concatenate([legacy["source"][lk], np.full(ns, shebao_source)]),
        "shebao": np.concatenate([np.zeros(nl, bool), np.ones(ns, bool)]),
        "superseded": np.concatenate([overlap[lk], np.zeros(ns, np.int64)]),
    }
    # record.merge's order: by period start, shebao's month before a legacy period of the
    # same start, otherwise as listed (legacy in id order, then shebao's months)
    order = np.lexsort((np.arange(nl + ns), ~cols["shebao"], cols["day"], cols["case"]))
    cols = {k: v[order] for k, v in cols.items()}
    not_counted: dict[int, list] = {}
    for g, bills in months["bills"].items():
        not_counted.setdefault(int(mcase[g]), []).append(
            {"month": month_str(_date(int(mday[g]))), "region": f"{int(months['region'][g]):06d}",
             "why": "unpaid", "reason": UNPAID, "bills": bills})
    # shebao's months from the retirement month on are listed, not counted
    late = cols["shebao"] & (cols["month_index"] >= ret_mi[cols["case"]])
    for i in np.flatnonzero(late).tolist():
        not_counted.setdefault(int(cols["case"][i]), []).append(
            {"month": _date(int(cols["day"][i])).isoformat()[:7],
             "region": f"{int(cols['region'][i]):06d}", "why": "after_retirement",
             "reason": AFTER_RETIREMENT})
    cols = {k: v[~late] for k, v in cols.items()}
    return _compact(cols, claim_region, wage_id), not_counted


def _compact(cols: dict, claim_region: np.ndarray, wage_id) -> dict:
    """record.compact in columns: consecutive shebao months of one case with the same region,
    base and average wage in force joined into runs of at most 12."""
    n = len(cols["case"])
    if n == 0:
        return cols
    she = cols["shebao"]
    wid = np.zeros(n, np.int64)
    if she.any():                      # one look-up per (claim region, month), not per row
        key = claim_region[cols["case"][she]] * _SPAN + cols["day"][she]
        pairs, inv = np.unique(key, return_inverse=True)
        wid[she] = np.array([wage_id(k // _SPAN, k % _SPAN) for k in pairs.tolist()],
                            dtype=np.int64)[inv.reshape(-1)]
    join = np.zeros(n, bool)
    join[1:] = (she[1:] & she[:-1] & (cols["case"][1:] == cols["case"][:-1])
                & (cols["region"][1:] == cols["region"][:-1])
                & (cols["base"][1:] == cols["base"][:-1])
                & (cols["month_index"][1:] == cols["month_index"][:-1] + 1)
                & (cols["day"][1:] == _first_day(cols["day"][1:]))
                & (cols["day"][:-1] == _first_day(cols["day"][:-1]))
                & (wid[1:] == wid[:-1]))
    run = np.cumsum(~join)                              # run number of each row
    run_start = np.flatnonzero(~join)
    pos = np.arange(n) - run_start[run - 1]
    head = ~join | (pos % 12 == 0)                      # a run is cut after 12 months
    starts = np.flatnonzero(head)
    out = {k: v[starts] for k, v in cols.items()}
    size = np.diff(np.append(starts, n))
    out["months"] = np.where(out["shebao"], size, out["months"])
    out["index_months"] = np.where(out["shebao"], size, out["index_months"])
    out["base"] = np.where(out["shebao"], np.add.reduceat(cols["base"], starts), out["base"])
    return out


_EPOCH = dt.date(1970, 1, 1)


def _date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=day)
