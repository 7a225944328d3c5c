"""Formulas of benefit casework (#13): unemployment entitlement with carried-over months,
work-injury death and nursing benefits, survivors' benefits. Integer fen, exact rationals,
each amount rounded once by :func:`shebao.core.money.round_half_up`; the casework services
(``shebao.benefits``) and the calculators (``shebao calc``) call these same functions.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from shebao.core.errors import RuleError
from shebao.core.money import apply_rate, round_half_up

from .benefits import exact_lookup, step_lookup

FEN_PER_YUAN = 100  # a unit, like the fen itself: yuan parameters become fen


def unemployment_entitlement(contribution_months: int, bands: dict, carried_months: int,
                             cap: int) -> tuple[int, int]:
    """(months of the new entitlement from the contribution months since the last claim,
    months payable = new + carried, at most ``cap``) — SIL art. 46, UIR art. 17."""
    new = int(step_lookup([contribution_months], bands)[0])
    return new, min(new + max(int(carried_months), 0), int(cap))


def months_of_wage_fen(wage_fen: int, months: int) -> int:
    """A grant of ``months`` × a monthly wage (funeral grants): exact, no rounding needed."""
    return int(wage_fen) * int(months)


def death_grant_fen(income_yuan_year: int, multiple: int) -> int:
    """One-time work-injury death grant: multiple × the previous year's national urban
    per-capita disposable income (WIR art. 39)."""
    return int(income_yuan_year) * FEN_PER_YUAN * int(multiple)


def nursing_allowance_fen(avg_wage_fen: int, level: int, table: dict) -> int:
    """Nursing allowance: rate(level) × the area's average monthly wage, rounded once."""
    keys = sorted(int(k) for k in table)
    if level not in keys:
        raise RuleError(f"nursing level {level} is not one of {keys}")
    return int(apply_rate(int(avg_wage_fen), Decimal(table[level])))


def dependants_pension_fen(own_wage_fen: int, roles: list[tuple[str, bool]],
                           rates: dict) -> tuple[list[int], bool]:
    """Monthly dependants' pensions (WIR art. 39): per dependant (role ``spouse`` | ``other``,
    lone = orphan or lone elderly) ``own wage × (rate(role) + lone_extra if lone)``.

    Each share is rounded once; when their sum exceeds ``cap × own wage`` every share is
    reduced pro rata to the cap: the exact shares are floored to fen and the fen left over
    go one each to the largest remainders (ties to the earlier dependant), so the total is
    exactly the cap. Returns (amounts, capped)."""
    if not roles:
        return [], False
    fr = []
    for role, lone in roles:
        if role not in ("spouse", "other"):
            raise RuleError(f"unknown dependant role {role!r} (spouse, other)")
        r = Fraction(Decimal(rates[role])) + (Fraction(Decimal(rates["lone_extra"])) if lone
                                              else 0)
        fr.append(r * int(own_wage_fen))
    cap = Fraction(Decimal(rates["cap"])) * int(own_wage_fen)
    rounded = [int(round_half_up(x)) for x in fr]
    if sum(rounded) <= cap:
        return rounded, False
    total = sum(fr)
    exact = [x * cap / total for x in fr]
    floors = [int(x) for x in exact]
    left = int(cap) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors, True


def months_by_band(contribution_months: int, bands: dict) -> int:
    """The months a band table gives for the contribution months (largest key not above)."""
    return int(step_lookup([contribution_months], bands)[0])


def grade_months(grade: int, table: dict) -> int:
    return int(exact_lookup([grade], table)[0])


def per_day_fen(days: int, daily_yuan: int) -> int:
    """A daily allowance over ``days`` days (hospital food allowance): exact."""
    return int(days) * int(daily_yuan) * FEN_PER_YUAN


def capped_costs_fen(costs: list[tuple[str, int]], limits_yuan: dict) -> list[int]:
    """Per item (type, cost in fen) the part a fund pays: the cost up to the type's limit
    (assistive devices, WIR art. 32). A type without a limit is refused naming it."""
    out = []
    for typ, cost in costs:
        if typ not in limits_yuan:
            raise RuleError(f"device type {typ!r} is not one of {', '.join(sorted(limits_yuan))}")
        out.append(min(int(cost), int(limits_yuan[typ]) * FEN_PER_YUAN))
    return out
