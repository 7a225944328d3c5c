"""Working days (工作日): statutory time limits count them, so a holiday calendar with the
调休 make-up working days (weekends worked in exchange for a longer holiday) is needed.

Pure: a :class:`Calendar` is built from the dated parameters ``calendar.public_holidays`` and
``calendar.makeup_workdays`` by :func:`shebao.cases.catalogue.calendar`; nothing here reads them.
A date is a working day when it is a make-up day, or a Monday–Friday that is not a holiday.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .errors import InputError


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    makeup: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working_day(self, d: dt.date) -> bool:
        if d in self.makeup:
            return True
        return d.weekday() < 5 and d not in self.holidays


def add_working_days(start: dt.date, n: int, cal: Calendar) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself does not count, as a limit of
    "15 working days" starts the day after the day of filing). ``n == 0`` gives ``start``."""
    if n < 0:
        raise InputError(f"a number of working days cannot be negative ({n})", field="n")
    d = start
    while n:
        d += dt.timedelta(days=1)
        if cal.is_working_day(d):
            n -= 1
    return d


def working_days_between(a: dt.date, b: dt.date, cal: Calendar) -> int:
    """Working days in the half-open interval (a, b]; 0 when b <= a."""
    count, d = 0, a
    while d < b:
        d += dt.timedelta(days=1)
        if cal.is_working_day(d):
            count += 1
    return count


def add_limit(start: dt.date, limit: int, unit: str, cal: Calendar) -> dt.date:
    """A statutory limit in ``working_days`` or calendar ``days`` counted from ``start``."""
    if unit == "working_days":
        return add_working_days(start, limit, cal)
    if unit == "days":
        return start + dt.timedelta(days=limit)
    raise InputError(f"unknown unit of a time limit {unit!r}", field="limit_unit")
