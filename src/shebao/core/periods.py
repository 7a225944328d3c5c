"""Months and dates: contribution periods are calendar months ("YYYY-MM")."""
from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> dt.date:
    """"2025-07" → date(2025, 7, 1). Raises ValueError with the reason."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a month in the form YYYY-MM: {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def month_str(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(d: dt.date, months: int) -> dt.date:
    """Add months, clamping the day to the end of the target month (1990-01-31 + 1 → 02-28)."""
    total = d.year * 12 + (d.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    if d.day <= 28:                 # every month has the day: no clamping to look up
        return dt.date(y, m, d.day)
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def month_index(d: dt.date) -> int:
    """The month as one integer (year × 12 + month − 1): month spans by integer arithmetic
    (``month_index(add_months(d, k)) == month_index(d) + k``)."""
    return d.year * 12 + d.month - 1


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from a's month to b's month (days ignored)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def month_end(d: dt.date) -> dt.date:
    return add_months(d.replace(day=1), 1) - dt.timedelta(days=1)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ValueError(f"not a date in the form YYYY-MM-DD: {text!r}") from exc
