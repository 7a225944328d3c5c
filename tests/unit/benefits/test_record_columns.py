"""record_columns (the chunk's records in numpy) against record.merge → until_retirement →
compact person by person, on many random records: legacy periods overlapping shebao's months,
unpaid months with their bills, months after retirement, long runs of one base across the
July wage change and past 12 months."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.benefits import record_columns as RC
from shebao.benefits.record import (SHEBAO_SOURCE, ShebaoMonth, compact, merge,
                                    until_retirement)
from shebao.core.periods import add_months

SOURCES = ["legacy import", 'old "B"']
EPOCH = dt.date(1970, 1, 1)


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _wage_of(d: dt.date) -> int:
    """The claim region's average wage in force: it changes in July of even years only (an
    unchanged wage lets a run of one base pass 12 months: it is cut there)."""
    y = d.year if d.month >= 7 else d.year - 1
    return y - y % 2


def _world(rng, persons: int):
    legacy, months, ret = {}, {}, {}
    for p in range(1, persons + 1):
        ret[p] = dt.date(2026, int(rng.integers(1, 13)), 1)
        rows = []
        for k in range(int(rng.integers(0, 5))):
            start = dt.date(int(rng.integers(2021, 2026)), int(rng.integers(1, 13)), 1)
            n = int(rng.integers(1, 13))
            paid = rng.random() < 0.8
            rows.append(dict(id=k, period_start=start, months=n, region="310104",
                             kind="paid" if paid else "deemed",
                             base_total_fen=int(rng.integers(1, 9)) * 100_000 * n if paid
                             else None, source=SOURCES[k % 2]))
        # keep one row per start (the table's unique key), ordered by start then id
        seen, uniq = set(), []
        for r in sorted(rows, key=lambda r: (r["period_start"], r["id"])):
            if r["period_start"] not in seen:
                seen.add(r["period_start"])
                uniq.append(r)
        legacy[p] = uniq
        start = dt.date(int(rng.integers(2023, 2026)), int(rng.integers(1, 13)), 1)
        base = int(rng.integers(1, 3)) * 500_000
        ms = []
        for i in range(int(rng.integers(0, 30))):
            if rng.random() < 0.05:
                base = int(rng.integers(1, 3)) * 500_000          # a new base breaks the run
            paid = rng.random() < 0.85
            ms.append(ShebaoMonth("310104" if rng.random() < 0.97 else "310115",
                                  add_months(start, i), base, paid,
                                  () if paid else (f"E{p}-{i}a", f"E{p}-{i}b")[
                                      :int(rng.integers(0, 3))]))
        months[p] = ms
    return legacy, months, ret


def _cut_at_12(rows) -> bool:
    """A run of 12 months followed by the same base's next month (cut, not joined)."""
    return any(a.origin == b.origin == "shebao" and a.months == 12 and a.region == b.region
               and b.period_start == add_months(a.period_start, 12)
               and a.base_total_fen // 12 == b.base_total_fen // b.months
               for a, b in zip(rows, rows[1:]))


def _columns(legacy, months):
    L = {k: [] for k in ("person_id", "day", "month_index", "months", "base", "paid",
                         "region", "source")}
    for p, rows in legacy.items():
        for r in rows:
            d = r["period_start"]
            L["person_id"].append(p)
            L["day"].append(_days(d))
            L["month_index"].append(d.year * 12 + d.month - 1)
            L["months"].append(r["months"])
            L["base"].append(-1 if r["base_total_fen"] is None else r["base_total_fen"])
            L["paid"].append(r["kind"] == "paid")
            L["region"].append(int(r["region"]))
            L["source"].append(SOURCES.index(r["source"]))
    L = {k: np.array(v, dtype=bool if k == "paid" else np.int64) for k, v in L.items()}
    L["index_months"] = L["months"].copy()
    L["sources"] = list(SOURCES)
    S = {k: [] for k in ("person_id", "day", "region", "base", "paid")}
    bills = {}
    for p, ms in months.items():
        for m in ms:
            if not m.paid:
                bills[len(S["person_id"])] = list(m.bills)
            S["person_id"].append(p)
            S["day"].append(_days(m.month))
            S["region"].append(int(m.region))
            S["base"].append(m.base_fen)
            S["paid"].append(m.paid)
    S = {k: np.array(v, dtype=bool if k == "paid" else np.int64) for k, v in S.items()}
    S["bills"] = bills
    return L, S


def test_columns_give_each_persons_record():
    rng = np.random.default_rng(5)
    for _ in range(5):
        legacy, months, ret = _world(rng, 60)
        L, S = _columns(legacy, months)
        pid = np.arange(1, 61, dtype=np.int64)
        ret_mi = np.array([ret[p].year * 12 + ret[p].month - 1 for p in pid.tolist()])
        wage_ids: dict = {}

        def wage_id(region, day):
            return wage_ids.setdefault(_wage_of(EPOCH + dt.timedelta(days=day)), len(wage_ids))

        cols, nc = RC.merge(L, S, pid, ret_mi, np.full(len(pid), 310104), wage_id,
                            len(SOURCES))
        sources = SOURCES + [SHEBAO_SOURCE]
        for i, p in enumerate(pid.tolist()):
            rows, not_counted = merge(legacy[p], months[p])
            rows, not_counted = until_retirement(rows, not_counted, ret[p])
            want = [(r.origin, r.kind, r.region, r.period_start, r.months, r.base_total_fen,
                     r.index_months, r.source, r.superseded_months)
                    for r in compact(rows, _wage_of)]
            sel = np.flatnonzero(cols["case"] == i)
            got = [("shebao" if cols["shebao"][j] else "legacy",
                    "paid" if cols["paid"][j] else "deemed", f"{cols['region'][j]:06d}",
                    EPOCH + dt.timedelta(days=int(cols["day"][j])), int(cols["months"][j]),
                    None if cols["base"][j] < 0 else int(cols["base"][j]),
                    int(cols["index_months"][j]), sources[cols["source"][j]],
                    int(cols["superseded"][j])) for j in sel.tolist()]
            assert got == want, p
            assert nc.get(i, []) == not_counted, p
        # the worlds had what the test is about: a run cut at 12 months, trimmed legacy
        # periods, unpaid months with bills, months after retirement
        assert any(_cut_at_12(compact(merge(legacy[p], months[p])[0], _wage_of))
                   for p in pid.tolist())
        assert cols["superseded"].any()
        assert {x["why"] for v in nc.values() for x in v} == {"unpaid", "after_retirement"}


def test_shebao_months_fold_payers_of_a_month():
    # two payers in a month: the paid one's region and base; none paid: all bases, the bills
    rows = {"person_id": np.array([1, 1, 1, 1, 2]), "region": np.array([310104, 310115,
                                                                         310104, 310115,
                                                                         310104]),
            "day": np.array([100, 100, 131, 131, 100]),
            "pension_fen": np.array([5, 5, 5, 5, -5]),
            "base_fen": np.array([300, 700, 300, 700, 900]),
            "line_fen": np.array([10, 10, 10, -1, 10]),
            "line_paid_fen": np.array([0, 10, 3, -1, 10])}
    m = RC.shebao_months(rows, ["a", "b", "c", "", "d"])
    assert m["person_id"].tolist() == [1, 1] and m["day"].tolist() == [100, 131]
    assert m["paid"].tolist() == [True, False]
    assert m["region"].tolist() == [310115, 310104] and m["base"].tolist() == [700, 1000]
    assert m["bills"] == {1: ["c"]}
