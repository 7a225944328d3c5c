"""Due dates of transfer steps: working days on the acting region's calendar (public holidays
and 调休 make-up days, ``shebao.cases.catalogue.calendar``; ``shebao.core.workdays``)."""
from __future__ import annotations

import datetime as dt

from shebao.cases import catalogue
from shebao.core.workdays import add_working_days


def due_on(rules, region: str, start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` in ``region``."""
    return add_working_days(start, int(n), catalogue.calendar(region, start, rules))
