"""Organisation rules as plain data: levels of the hierarchy, outlet kinds, staff classes,
staffing from workload and outsourcing performance. No SQLAlchemy here.

Staffing (the standard-minutes method): for an outlet and a period,

    workload minutes  = Σ over items  (cases handled × the item's standard minutes)
    capacity per post = productive minutes per working day × working days in the period
    required posts    = workload minutes / capacity per post   (exact, shown to 2 places)
    actual posts      = Σ fte of the casework-class assignments in force (fte_pct / 100)
    gap               = required − actual  (positive: short of staff)

Everything is a ``Fraction`` until shown, so the arithmetic is exact.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from shebao.core.errors import InputError

# national → province → city → county come from core.regions (GB/T 2260); below them:
LEVELS = ("national", "province", "city", "county", "town", "village", "grid")
UNIT_LEVELS = ("town", "village", "grid")
# the level an org unit's parent must have
PARENT_LEVEL = {"town": "county", "village": "town", "grid": ("town", "village")}
OUTLET_KINDS = ("counter", "kiosk", "bank_agent", "village_agent")
STAFF_CLASSES = ("administrative", "professional", "operational")
_UNIT_CODE = re.compile(r"^\d{6}(\d{3})(\d{3})?(G\d{1,4})?$")


def region_level(code: str) -> str:
    """The level of a GB/T 2260 code: province / city / county (national for 'national')."""
    if code == "national":
        return "national"
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def unit_level(code: str) -> str:
    """Town codes are the county's six digits and three more (GB/T 10114 style, 9 digits),
    villages twelve; a grid cell is its town or village code with ``G<n>``."""
    m = _UNIT_CODE.match(code or "")
    if not m:
        raise InputError(f"org unit code {code!r} is not 9 (town) or 12 (village) digits, "
                         "optionally followed by G<n> (grid cell)", field="code", value=code)
    if m.group(3):
        return "grid"
    return "village" if m.group(2) else "town"


def parent_of(code: str) -> str:
    """The structural parent of a town / village / grid code."""
    level = unit_level(code)
    if level == "grid":
        return code.split("G")[0]
    if level == "village":
        return code[:9]
    return code[:6]


def check_choice(value, allowed, field_name: str) -> str:
    if value not in allowed:
        raise InputError(f"{field_name} {value!r} is not one of {', '.join(allowed)}",
                         field=field_name, value=value)
    return value


# --- staffing ---

@dataclass(frozen=True)
class Workload:
    outlet: str | None
    item: str
    cases: int
    standard_minutes: int

    @property
    def minutes(self) -> int:
        return self.cases * self.standard_minutes


@dataclass
class OutletStaffing:
    outlet: str | None
    workload_minutes: int
    capacity_minutes_per_post: int
    required: Fraction
    actual: Fraction
    items: list[Workload] = field(default_factory=list)

    @property
    def gap(self) -> Fraction:
        return self.required - self.actual

    @property
    def required_posts(self) -> int:
        """Whole posts needed (a part of a post is a post)."""
        return math.ceil(self.required)

    def as_json(self) -> dict:
        return {"outlet": self.outlet, "workload_minutes": self.workload_minutes,
                "capacity_minutes_per_post": self.capacity_minutes_per_post,
                "required": show(self.required), "required_posts": self.required_posts,
                "actual": show(self.actual), "gap": show(self.gap),
                "items": [{"item": w.item, "cases": w.cases,
                           "standard_minutes": w.standard_minutes, "minutes": w.minutes}
                          for w in self.items]}


def show(x: Fraction, places: int = 2) -> str:
    """A fraction as a decimal string, half up."""
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return str(q.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def staffing(workloads: list[Workload], actual_fte_pct: dict, minutes_per_day: int,
             working_days: int) -> list[OutletStaffing]:
    """Required vs actual posts per outlet. ``actual_fte_pct``: outlet → Σ fte_pct of its
    casework-class staff; outlets with staff but no cases appear too (required 0)."""
    if minutes_per_day <= 0 or working_days <= 0:
        raise InputError("the period has no working capacity (working days or minutes is 0)",
                         field="period")
    capacity = minutes_per_day * working_days
    by_outlet: dict = {}
    for w in workloads:
        by_outlet.setdefault(w.outlet, []).append(w)
    for o in actual_fte_pct:
        by_outlet.setdefault(o, [])
    out = []
    for o in sorted(by_outlet, key=lambda k: (k is None, str(k))):
        ws = sorted(by_outlet[o], key=lambda w: w.item)
        minutes = sum(w.minutes for w in ws)
        out.append(OutletStaffing(o, minutes, capacity, Fraction(minutes, capacity),
                                  Fraction(int(actual_fte_pct.get(o, 0)), 100), ws))
    return out


def budget_benchmark(collection_fen: int, ratio) -> int:
    """The benchmark administration budget: the ratio × the year's collection, in fen
    (half up, through the one rounding)."""
    from shebao.core.money import apply_rate
    return apply_rate(int(collection_fen), ratio)


# --- outsourcing ---

@dataclass(frozen=True)
class Performance:
    decided: int
    on_time: int
    mean_rating: Fraction | None       # None when no case was rated
    price_fen: int

    @property
    def on_time_pct(self) -> Fraction | None:
        return Fraction(100 * self.on_time, self.decided) if self.decided else None

    @property
    def cost_fen(self) -> int:
        return self.decided * self.price_fen


def breaches(perf: Performance, target_on_time_pct: int, target_rating_x100: int) -> list[str]:
    """The quality targets a provider missed (empty: met, or nothing decided yet)."""
    out = []
    if perf.on_time_pct is not None and perf.on_time_pct < target_on_time_pct:
        out.append(f"on-time {show(perf.on_time_pct, 1)}% < target {target_on_time_pct}%")
    if perf.mean_rating is not None and perf.mean_rating * 100 < target_rating_x100:
        out.append(f"mean rating {show(perf.mean_rating)} < target "
                   f"{show(Fraction(target_rating_x100, 100))}")
    return out
