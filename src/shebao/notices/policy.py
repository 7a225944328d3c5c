"""Delivery policy of the notice worker (pure): retries with exponential backoff, a lease per
claimed notice, dead after ``max_attempts``, and the recipient's quiet hours.

The numbers are the parameter ``notices.delivery`` (``rules/parameters/notices/``); nothing
here is a literal of the law or of operations.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shebao.core.errors import InputError


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    backoff_base_seconds: int
    backoff_max_seconds: int
    lease_seconds: int
    batch_size: int
    timezone: str

    @classmethod
    def from_rules(cls, rules, on: dt.date | None = None, region: str = "national") -> "Policy":
        v = rules.value("notices.delivery", region, on or dt.date.today())
        return cls(**{k: v[k] for k in cls.__dataclass_fields__})

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait after the ``attempts``-th failed attempt: base × 2^(attempts−1), capped."""
        n = max(attempts, 1) - 1
        secs = self.backoff_base_seconds * (2 ** min(n, 40))
        return dt.timedelta(seconds=min(secs, self.backoff_max_seconds))

    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    def is_dead(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def parse_hhmm(text: str | None, field: str) -> dt.time | None:
    """``"22:00"`` → time; empty → None; anything else is refused naming the field."""
    if text is None or str(text).strip() == "":
        return None
    s = str(text).strip()
    parts = s.split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        raise InputError("time must be HH:MM", field=field)
    h, m = int(parts[0]), int(parts[1])
    if not (0 <= h < 24 and 0 <= m < 60):
        raise InputError("time must be HH:MM", field=field)
    return dt.time(h, m)


def quiet_until(now: dt.datetime, start: dt.time | None, end: dt.time | None,
                tz: str) -> dt.datetime | None:
    """When ``now`` (aware) falls in the quiet window [start, end) read in local time ``tz``:
    the instant (aware UTC) the window ends; otherwise None. A window may cross midnight
    (22:00–08:00); start == end or a missing bound means no quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(tz))
    t = local.timetz().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    until = dt.datetime.combine(end_day, end, tzinfo=ZoneInfo(tz))
    return until.astimezone(dt.timezone.utc)
