"""Five-in-one contribution assessment, vectorised.

``rate_set(rules, region, month)`` resolves every parameter in force once per (region, month);
``assess_employees`` and ``assess_flexible`` then turn arrays of wages into arrays of fen per
(scheme, payer, account) line. Each line is rounded once by ``core.money.round_half_up``.
Rates are exact: every rate is carried as an integer numerator over one common denominator.

Pension before 2006 credited 11% to the individual account: the employee's share plus a
transfer out of the employer's share. That transfer is ``account_credit_rate − employee_rate``
when positive, and appears as an employer line to the individual account.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.money import round_half_up, to_fen

DEN = 10 ** 8  # common denominator of every rate (rates have at most 8 decimals)


def rate_num(rate: Decimal) -> int:
    n = Decimal(rate) * DEN
    if n != n.to_integral_value():
        raise RuleError(f"rate {rate} has more than 8 decimals")
    return int(n)


def fmt_rate(num: int) -> str:
    d = (Decimal(num) / DEN).normalize()
    return format(d, "f")


@dataclass(frozen=True)
class Line:
    scheme: str
    payer: str      # employer | employee | individual
    account: str    # pooled | individual
    rate_num: int | None  # None for the injury employer line: its rate varies per employer


@dataclass
class RateSet:
    """Everything the assessment needs for one region and month, with where it came from."""

    region: str
    month: dt.date
    floor_fen: int
    ceiling_fen: int
    lines: list[Line]
    injury_base: dict[int, int]               # risk class → rate numerator
    injury_multipliers: dict[int, list[Decimal]]
    flexible_lines: list[Line]
    sources: list[dict] = field(default_factory=list)

    def injury_rate_num(self, risk_class, multiplier_num):
        """Injury rate numerators (over DEN) for arrays of risk classes and multiplier numerators
        (``rate_num(Decimal("1.2"))``); refuses a multiplier the class may not use."""
        classes = np.asarray(risk_class, dtype=np.int64)
        mult = np.broadcast_to(np.asarray(multiplier_num, dtype=np.int64), classes.shape)
        table = np.zeros(max(self.injury_base) + 1, dtype=np.int64)
        for k, v in self.injury_base.items():
            table[k] = v
        if np.any((classes < 1) | (classes >= table.size)):
            raise RuleError(f"risk class outside {min(self.injury_base)}..{max(self.injury_base)}")
        for k, allowed in self.injury_multipliers.items():
            ok = np.isin(mult[classes == k], [rate_num(a) for a in allowed])
            if not np.all(ok):
                raise RuleError(f"floating multiplier not allowed for risk class {k} "
                                f"(allowed: {', '.join(str(a) for a in allowed)})")
        return _exact_product(table[classes], mult)


def _exact_product(base_num, mult_num):
    prod = np.asarray(base_num, dtype=np.int64) * np.asarray(mult_num, dtype=np.int64)
    if np.any(prod % DEN):
        raise RuleError("injury rate × multiplier is not exact at 8 decimals")
    return prod // DEN


def rate_set(rules, region: str, month: dt.date) -> RateSet:
    sources: list[dict] = []

    def get(name):
        res = rules.lookup(name, region, month)
        sources.append(res.as_json())
        return res.value

    floor_fen = to_fen(get("contribution.base.floor"))
    ceiling_fen = to_fen(get("contribution.base.ceiling"))
    schemes = get("contribution.schemes")
    lines: list[Line] = []
    for scheme, payers in schemes.items():
        if scheme == "injury":
            continue
        if scheme == "pension":
            er = rate_num(get("contribution.pension.employer_rate"))
            ee = rate_num(get("contribution.pension.employee_rate"))
            credit = rate_num(get("contribution.pension.account_credit_rate"))
            transfer = max(credit - ee, 0)
            lines.append(Line("pension", "employer", "pooled", er - transfer))
            if transfer:
                lines.append(Line("pension", "employer", "individual", transfer))
            lines.append(Line("pension", "employee", payers["employee"], ee))
            continue
        for payer, account in payers.items():
            name = f"contribution.{scheme}.{payer}_rate"
            if rules.has(name, region, month):
                lines.append(Line(scheme, payer, account, rate_num(get(name))))
    injury_base: dict[int, int] = {}
    injury_mult: dict[int, list[Decimal]] = {}
    if "injury" in schemes and rules.has("contribution.injury.base_rate", region, month):
        injury_base = {int(k): rate_num(v) for k, v in get("contribution.injury.base_rate").items()}
        injury_mult = {int(k): [Decimal(str(x)) for x in v]
                       for k, v in get("contribution.injury.floating_multipliers").items()}
        lines.append(Line("injury", "employer", "pooled", None))
    flex: list[Line] = []
    if rules.has("contribution.flexible.pension_rate", region, month):
        total = rate_num(get("contribution.flexible.pension_rate"))
        acct = rate_num(get("contribution.flexible.pension_account_rate"))
        flex = [Line("pension", "individual", "pooled", total - acct),
                Line("pension", "individual", "individual", acct)]
    # employee medical of flexible workers (where the region's rate is in force)
    if rules.has("contribution.flexible.medical_rate", region, month):
        total = rate_num(get("contribution.flexible.medical_rate"))
        acct = rate_num(get("contribution.flexible.medical_account_rate"))
        flex += [Line("medical", "individual", "pooled", total - acct)]
        if acct:
            flex.append(Line("medical", "individual", "individual", acct))
    return RateSet(region, month, floor_fen, ceiling_fen, lines, injury_base, injury_mult, flex,
                   sources)


def clamp_base(wage_fen, floor_fen: int, ceiling_fen: int):
    """Base = wage clamped to [floor, ceiling]; also returns -1/0/+1 where it was raised/kept/cut."""
    wage = np.asarray(wage_fen, dtype=np.int64)
    base = np.clip(wage, floor_fen, ceiling_fen)
    how = np.where(wage < floor_fen, -1, np.where(wage > ceiling_fen, 1, 0)).astype(np.int8)
    return base, how


def assess_employees(rs: RateSet, base_fen, injury_rate_num=None) -> dict[Line, np.ndarray]:
    """Amounts in fen per line for employees with these (already clamped) bases."""
    base = np.asarray(base_fen, dtype=np.int64)
    out: dict[Line, np.ndarray] = {}
    for line in rs.lines:
        if line.rate_num is None:
            if injury_rate_num is None:
                raise RuleError("injury rate needed for the employer injury line")
            num = np.asarray(injury_rate_num, dtype=np.int64)
        else:
            num = line.rate_num
        out[line] = round_half_up(base * num, DEN)
    return out


def assess_flexible(rs: RateSet, base_fen) -> dict[Line, np.ndarray]:
    base = np.asarray(base_fen, dtype=np.int64)
    return {line: round_half_up(base * line.rate_num, DEN) for line in rs.flexible_lines}
