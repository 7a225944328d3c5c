"""A person's pension contribution record as determination counts it (pure; read by
:mod:`.history`): legacy periods trimmed by the months shebao governs, plus shebao's own paid
months, each month once (:func:`merge`), runs of equal months joined for the decision
(:func:`compact`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from shebao.core.periods import add_months, month_index, month_str

LEGACY, SHEBAO = "legacy", "shebao"
SHEBAO_SOURCE = "shebao collection (assessed and paid)"
UNPAID = "assessed by shebao but the pension contribution is not paid in full"
AFTER_RETIREMENT = "assessed on or after the retirement month"


@dataclass(slots=True)
class Period:
    """A run of contribution months as determination counts them."""

    origin: str                 # legacy | shebao
    kind: str                   # paid | deemed
    region: str
    period_start: dt.date
    months: int                 # months counted
    base_total_fen: int | None  # Σ bases over index_months (None for deemed)
    index_months: int           # months the base total spans (the index = base / (wage × this))
    source: str
    superseded_months: int = 0  # legacy months replaced by shebao's own record

    def as_json(self) -> dict:
        return {"origin": self.origin, "kind": self.kind, "region": self.region,
                "period_start": self.period_start.isoformat(), "months": self.months,
                "base_total_fen": self.base_total_fen, "index_months": self.index_months,
                "source": self.source, "superseded_months": self.superseded_months}

    def copy(self) -> "Period":
        return Period(self.origin, self.kind, self.region, self.period_start, self.months,
                      self.base_total_fen, self.index_months, self.source,
                      self.superseded_months)


@dataclass
class ShebaoMonth:
    region: str
    month: dt.date
    base_fen: int
    paid: bool
    bills: tuple[str, ...]


def merge(legacy: list[dict], shebao: list[ShebaoMonth]) -> tuple[list[Period], list[dict]]:
    """One person's record: legacy periods trimmed by the months shebao governs, plus shebao's
    paid months (one period per month; see :func:`compact`). Returns
    (periods counted, months not counted with the reason)."""
    # a legacy period's months are first days of months: only such governed months can meet them
    governed = {month_index(m.month) for m in shebao if m.month.day == 1}
    periods: list[Period] = []
    for r in legacy:
        start = _date(r["period_start"]).replace(day=1)
        n = int(r["months"])
        s = month_index(start)
        overlap = sum(1 for k in range(s, s + n) if k in governed) if governed else 0
        if overlap == n:
            continue
        base = r["base_total_fen"]
        periods.append(Period(LEGACY, r["kind"], r["region"], start, n - overlap,
                              int(base) if base is not None else None, n, r["source"],
                              overlap))
    not_counted = [{"month": month_str(m.month), "region": m.region, "why": "unpaid",
                    "reason": UNPAID, "bills": list(m.bills)}
                   for m in shebao if not m.paid]
    periods += [Period(SHEBAO, "paid", m.region, m.month, 1, m.base_fen, 1, SHEBAO_SOURCE)
                for m in shebao if m.paid]
    periods.sort(key=lambda p: (p.period_start, p.origin != SHEBAO))
    return periods, not_counted


def until_retirement(periods: list[Period], not_counted: list[dict], ret_month: dt.date
                     ) -> tuple[list[Period], list[dict]]:
    """shebao's own months from the retirement month on are not part of the record: they are
    listed among the months not counted."""
    late = [r for r in periods if r.origin == SHEBAO and r.period_start >= ret_month]
    return ([r for r in periods if not (r.origin == SHEBAO and r.period_start >= ret_month)],
            list(not_counted) + [
                {"month": r.period_start.isoformat()[:7], "region": r.region,
                 "why": "after_retirement", "reason": AFTER_RETIREMENT} for r in late])


def compact(periods: list[Period], wage_of: Callable[[dt.date], object]) -> list[Period]:
    """Run consecutive shebao months together (same region, same monthly base, same average
    wage in force per ``wage_of``) so a decision lists a year as one line; the average index is
    unchanged (each month's index is the run's index)."""
    out: list[Period] = []
    last: Period | None = None
    for p in periods:
        if (p.origin == SHEBAO and last is not None and last.origin == SHEBAO
                and last.region == p.region and last.months < 12
                and last.base_total_fen == p.base_total_fen * last.months
                and _follows(last.period_start, last.months, p.period_start)
                and wage_of(last.period_start) == wage_of(p.period_start)):
            last.months += 1
            last.index_months += 1
            last.base_total_fen += p.base_total_fen
            continue
        p = p.copy()
        out.append(p)
        last = p
    return out


def _follows(start: dt.date, months: int, d: dt.date) -> bool:
    """``add_months(start, months) == d``, by integer month arithmetic for a month's first."""
    if start.day == 1:
        return d.day == 1 and month_index(d) == month_index(start) + months
    return add_months(start, months) == d


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else \
        dt.date.fromisoformat(str(v)[:10])
