"""Due dates of transfer steps in working days on the acting region's calendar.

Interim: until ``shebao.core.workdays`` (the shared working-day calendar with public holidays
and 调休 make-up days, CASES_API.md) is on main, a working day here is Monday to Friday.
"""
from __future__ import annotations

import datetime as dt


def due_on(rules, region: str, start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start``."""
    d, left = start, int(n)
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return d
