"""The merge of legacy history and shebao's own months (pure, no database)."""
import datetime as dt

from shebao.benefits.record import SHEBAO_SOURCE, Period, ShebaoMonth, compact, merge


def _legacy(start, months, base, kind="paid"):
    return {"period_start": start, "months": months, "base_total_fen": base, "kind": kind,
            "region": "310104", "source": "legacy import"}


def _m(month, base=1_000_000, paid=True):
    return ShebaoMonth("310104", month, base, paid, ("SB-bill",))


def test_shebao_months_trim_legacy_and_only_paid_count():
    legacy = [_legacy(dt.date(2025, 1, 1), 9, 9 * 800_000),
              _legacy(dt.date(1990, 1, 1), 12, None, kind="deemed"),
              _legacy(dt.date(2025, 7, 1), 2, 2 * 500_000)]            # wholly superseded
    shebao = [_m(dt.date(2025, 7, 1)), _m(dt.date(2025, 8, 1)),
              _m(dt.date(2025, 9, 1), paid=False)]
    periods, not_counted = merge(legacy, shebao)
    assert [(p.origin, p.period_start.isoformat(), p.months, p.index_months,
             p.superseded_months) for p in periods] == [
        ("legacy", "1990-01-01", 12, 12, 0),
        ("legacy", "2025-01-01", 6, 9, 3),        # Jul, Aug, Sep are shebao's (even unpaid Sep)
        ("shebao", "2025-07-01", 1, 1, 0),
        ("shebao", "2025-08-01", 1, 1, 0)]
    assert periods[1].base_total_fen == 9 * 800_000    # the index of the period is kept
    assert [x["month"] for x in not_counted] == ["2025-09"]
    assert periods[2].source == SHEBAO_SOURCE


def test_compact_runs_equal_months_and_breaks_on_base_wage_or_gap():
    ps = [Period("shebao", "paid", "310104", dt.date(2025, m, 1), 1, b, 1, SHEBAO_SOURCE)
          for m, b in ((1, 100), (2, 100), (3, 100), (4, 200), (6, 200), (7, 200))]
    out = compact(ps, lambda d: "w1" if d < dt.date(2025, 7, 1) else "w2")
    assert [(p.period_start.month, p.months, p.base_total_fen, p.index_months) for p in out] == [
        (1, 3, 300, 3), (4, 1, 200, 1), (6, 1, 200, 1), (7, 1, 200, 1)]
    assert ps[0].months == 1                           # the input is not changed
