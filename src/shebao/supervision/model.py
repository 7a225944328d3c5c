"""Pure rules of the supervision bureau: the blacklist's due process, the arrears case's
stages, fines and instalments. No database here.

Blacklist (严重失信名单, 人社部规〔2019〕2号; rules-2 §6.1)::

    proposed ──notify──▶ notified ──object──▶ objected
                            │  (objection period over)  │
                            └──────submit──▶ pending ◀──┘
    pending ──approve (a second inspector)──▶ listed ──publish──▶ published
    pending ──reject──▶ notified        notified/objected ──decline──▶ rejected
    listed/published ──remove (expiry or credit repair)──▶ removed

Arrears enforcement (社会保险法 第六十三条, 第八十六条)::

    opened ──notice──▶ notice ──(deadline passed)──escalate──▶ escalated ──enforce──▶ enforcement
    notice/escalated ──instalments──▶ instalments ;  any open stage ──settle──▶ paid
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shebao.core.errors import ConflictError, InputError
from shebao.core.money import apply_rate

BLACKLIST: dict[str, tuple[tuple[str, ...], str]] = {
    "notify": (("proposed",), "notified"),
    "object": (("notified",), "objected"),
    "submit": (("notified", "objected"), "pending"),
    "approve": (("pending",), "listed"),
    "reject": (("pending",), "notified"),
    "decline": (("proposed", "notified", "objected"), "rejected"),
    "publish": (("listed",), "published"),
    "remove": (("listed", "published"), "removed"),
}
BLACKLIST_STATUSES = ("proposed", "notified", "objected", "pending", "listed", "published",
                      "rejected", "removed")
LISTED = ("listed", "published")

ARREARS: dict[str, tuple[tuple[str, ...], str]] = {
    "notice": (("opened",), "notice"),
    "escalate": (("notice",), "escalated"),
    "instalments": (("notice", "escalated"), "instalments"),
    "enforce": (("escalated", "instalments"), "enforcement"),
    "settle": (("opened", "notice", "escalated", "instalments", "enforcement"), "paid"),
}
DECISIONS = ("recover", "back_assess", "fine", "refer", "none")


def step(machine: dict, action: str, status: str, what: str = "entry") -> str:
    if action not in machine:
        raise InputError(f"unknown action {action!r}", field="action")
    starts, to = machine[action]
    if status not in starts:
        raise ConflictError(f"a {what} that is {status} cannot {action} "
                            f"(allowed from: {', '.join(starts)})")
    return to


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:                       # 29 February → 28 February
        return d.replace(year=d.year + years, day=28)


def check_ground(ground: str, facts: dict, thresholds: dict) -> None:
    """Refuse a listing ground that is unknown, or whose facts stay below every threshold it
    has (a ground without thresholds needs the decision that established it)."""
    if ground not in thresholds:
        raise InputError(f"unknown listing ground {ground!r}; known: "
                         f"{', '.join(sorted(thresholds))}", field="ground")
    limits = thresholds[ground] or {}
    if not limits:
        return
    reached = []
    for key, limit in limits.items():
        fact = key.removeprefix("min_")
        if fact in facts and Decimal(str(facts[fact])) > Decimal(str(limit)):
            reached.append(key)
    if not reached:
        raise InputError(f"the facts do not reach the ground {ground}: needs more than "
                         + " or ".join(f"{k.removeprefix('min_')} {v}" for k, v in limits.items()),
                         field="facts")


def fine(base_fen: int, multiple: Decimal, bounds: dict) -> int:
    """The fine: ``multiple`` × the amount defrauded, ``multiple`` within the law's bounds."""
    lo, hi = Decimal(str(bounds["min"])), Decimal(str(bounds["max"]))
    m = Decimal(str(multiple))
    if not lo <= m <= hi:
        raise InputError(f"the fine multiple must be between {lo} and {hi} times, got {m}",
                         field="fine_multiple")
    if base_fen <= 0:
        raise InputError("a fine needs the amount defrauded", field="fine_base")
    return int(apply_rate(int(base_fen), m))


def late_fee(amount_fen: int, daily_rate: Decimal, days: int) -> int:
    """Late fee on back-assessed contributions: amount × daily rate × days, rounded once."""
    if days <= 0:
        return 0
    return int(apply_rate(int(amount_fen) * int(days), Decimal(str(daily_rate))))


def check_instalments(plan: list[tuple[dt.date, int]], total_fen: int, start: dt.date) -> None:
    """Instalments cover the debt exactly, each positive, due dates ascending after ``start``."""
    if not plan:
        raise InputError("an instalment agreement needs instalments", field="instalments")
    prev = start
    for i, (due, fen) in enumerate(plan):
        if fen <= 0:
            raise InputError(f"instalment {i + 1} must be positive", field="instalments")
        if due <= prev:
            raise InputError(f"instalment {i + 1} must fall after {prev.isoformat()}",
                             field="instalments")
        prev = due
    if sum(f for _, f in plan) != total_fen:
        raise InputError(f"instalments sum to {sum(f for _, f in plan)} fen, the debt is "
                         f"{total_fen} fen", field="instalments")
