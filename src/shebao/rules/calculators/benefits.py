"""Benefit calculators for ``shebao calc`` and the portal's estimators.

Each calculator reads its request through :mod:`shebao.rules.calculators.fields` (errors name
the field), resolves every parameter it uses once (the answer lists them with their legal
references under ``parameters``) and calls the vectorised formulas of
:mod:`shebao.rules.formulas.benefits` with arrays of length one. Amounts in the answer are yuan
strings with two decimals.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.rules import load_rules
from shebao.rules.formulas import benefits as F

from . import fields, register

KINDS = ("employee", "flexible")


def money_fen(req: dict, field: str, default=None, *, required: bool = True) -> int | None:
    """A non-negative amount in yuan (decimal string or int, at most 2 decimals) → fen."""
    if not required and req.get(field) is None:
        return default
    d = fields.decimal(req, field, min_value=0)
    if d != d.quantize(Decimal("0.01")):
        raise InputError(f"{d} has more than two decimals (amounts are yuan and fen)",
                         field=field, value=req.get(field))
    return to_fen(d)


class _Params:
    """Resolves parameters for one request and remembers them for the answer."""

    def __init__(self, region: str, on: dt.date):
        self.rules, self.region, self.on, self.used = load_rules(), region, on, []

    def get(self, name: str, field: str, *, on: dt.date | None = None, what: str | None = None):
        try:
            r = self.rules.lookup(name, self.region, on or self.on)
        except RuleError as exc:
            raise InputError(f"{what or name} not available: {exc}", field=field) from None
        self.used.append(r.as_json())
        return r.value


def _one(a) -> int:
    return int(np.asarray(a).reshape(-1)[0])


@register("pension")
def pension(req: dict) -> dict:
    """Monthly employee basic pension at retirement (basic + individual account + transitional)."""
    region = fields.region(req)
    on = fields.date(req, "retirement_date")
    p = _Params(region, on)
    limits = p.get("pension.divisor_age_limits", "retirement_date")
    age = fields.integer(req, "age_years", min_value=int(limits["min"]),
                         max_value=int(limits["max"]))
    bounds = p.get("pension.contribution_index_bounds", "retirement_date")
    idx = fields.decimal(req, "avg_index", min_value=bounds["min"], max_value=bounds["max"])
    try:
        idx_s = F.index_scaled(idx)
    except ValueError as exc:
        raise InputError(str(exc), field="avg_index", value=req.get("avg_index")) from None
    months = fields.integer(req, "contribution_months", min_value=0)
    deemed = fields.integer(req, "deemed_months", 0, min_value=0, max_value=months)
    balance_fen = money_fen(req, "account_balance")
    if req.get("calc_base") is not None:
        c_fen = money_fen(req, "calc_base")
        if c_fen == 0:
            raise InputError("must be positive", field="calc_base")
    else:
        c_fen = to_fen(p.get("pension.calc_base", "calc_base",
                             what=f"calculation base for region {region} on {on}; give calc_base"))
    if req.get("transitional_coefficient") is not None:
        coef = fields.decimal(req, "transitional_coefficient", min_value=0, max_value=1)
    elif deemed:
        coef = p.get("pension.transitional_coefficient", "transitional_coefficient")
    else:
        coef = Decimal(0)
    rate = p.get("pension.basic_rate_per_year", "retirement_date")
    divisor = _one(F.divisor_for_age([age], p.get("pension.divisor", "age_years")))
    basic = _one(F.basic_pension_fen([c_fen], [idx_s], [months], rate))
    account = _one(F.account_pension_fen([balance_fen], [divisor]))
    trans = _one(F.transitional_pension_fen([c_fen], [idx_s], [deemed], coef)) if deemed else 0
    try:
        minimum = p.get("retirement.min_contribution_months", "retirement_date")
    except InputError:
        minimum = None  # no minimum in force for that date: the estimate is still shown
    out = {
        "calc_base": fen_to_yuan_str(c_fen),
        "basic_pension": fen_to_yuan_str(basic),
        "account_pension": fen_to_yuan_str(account),
        "transitional_pension": fen_to_yuan_str(trans),
        "total": fen_to_yuan_str(basic + account + trans),
        "divisor": divisor,
        "parameters": p.used,
    }
    if minimum is not None:
        out["min_contribution_months"] = int(minimum)
        out["meets_minimum"] = months >= int(minimum)
    return out


@register("unemployment")
def unemployment(req: dict) -> dict:
    """Entitlement to unemployment benefit: months by contribution band, monthly amount."""
    region = fields.region(req)
    on = fields.date(req, "date")
    months = fields.integer(req, "contribution_months", min_value=0)
    p = _Params(region, on)
    minimum = int(p.get("unemployment.min_contribution_months", "date"))
    bands = p.get("unemployment.max_benefit_months", "date")
    share = p.get("unemployment.share_of_minimum_wage", "date")
    min_wage = to_fen(p.get("wage.minimum_wage", "region", what=f"minimum wage of {region}"))
    living = to_fen(p.get("social.minimum_living_standard", "region",
                          what=f"minimum living standard of {region}"))
    eligible = months >= minimum
    max_months = _one(F.unemployment_months([months], bands)) if eligible else 0
    try:
        amount = _one(F.unemployment_amount_fen([min_wage], share, [living]))
    except RuleError as exc:
        raise InputError(str(exc), field="region") from None
    return {"eligible": eligible and max_months > 0, "max_months": max_months,
            "monthly_amount": fen_to_yuan_str(amount if eligible and max_months else 0),
            "amount_if_eligible": fen_to_yuan_str(amount),
            "minimum_wage": fen_to_yuan_str(min_wage),
            "minimum_living_standard": fen_to_yuan_str(living), "parameters": p.used}


@register("injury")
def injury(req: dict) -> dict:
    """Work-injury disability benefits: own wage clamped to 60–300% of the regional average,
    lump sum by grade, monthly allowance (grades 1–6) topped up to the minimum wage."""
    region = fields.region(req)
    on = fields.date(req, "date")
    p = _Params(region, on)
    lump_months = p.get("injury.disability_lump_sum_months", "date")
    grades = sorted(int(k) for k in lump_months)
    grade = fields.integer(req, "grade", min_value=grades[0], max_value=grades[-1])
    own = money_fen(req, "own_wage")
    avg = to_fen(p.get("wage.average_monthly", "region",
                       what=f"average monthly wage of {region} on {on}"))
    bounds = p.get("injury.own_wage_bounds", "date")
    rates = p.get("injury.disability_allowance_rate", "date")
    payer = p.get("injury.allowance_payer", "date")
    min_wage = to_fen(p.get("wage.minimum_wage", "region", what=f"minimum wage of {region}"))
    used = _one(F.clamp_fen([own], [avg], bounds["min"], bounds["max"]))
    lump = _one(F.injury_lump_sum_fen([used], [grade], lump_months))
    allowance = _one(F.injury_allowance_fen([used], [grade], rates, [min_wage]))
    return {"own_wage_used": fen_to_yuan_str(used), "lump_sum": fen_to_yuan_str(lump),
            "monthly_allowance": fen_to_yuan_str(allowance),
            "allowance_payer": payer.get(str(grade)) if allowance else None,
            "average_wage": fen_to_yuan_str(avg), "parameters": p.used}


def _flag(req: dict, field: str) -> bool:
    v = req.get(field, False)
    if v is None:
        return False
    if not isinstance(v, bool):
        raise InputError(f"must be true or false, got {v!r}", field=field, value=v)
    return v


@register("maternity")
def maternity(req: dict) -> dict:
    """Maternity leave days and allowance (employer's average monthly wage ÷ 30 × days)."""
    region = fields.region(req)
    on = fields.date(req, "date")
    wage = money_fen(req, "employer_avg_wage")
    p = _Params(region, on)
    divisor = int(p.get("maternity.allowance_day_divisor", "date"))
    detail = [k for k in ("difficult_birth", "extra_babies", "miscarriage_months")
              if req.get(k) is not None]
    if req.get("leave_days") is not None:
        if detail:
            raise InputError(f"give either leave_days or {', '.join(detail)}, not both",
                             field="leave_days")
        days = fields.integer(req, "leave_days", min_value=1)
        kind = "given"
    elif req.get("miscarriage_months") is not None:
        if _flag(req, "difficult_birth") or req.get("extra_babies"):
            raise InputError("a miscarriage cannot also be a difficult or multiple birth",
                             field="miscarriage_months")
        mm = fields.integer(req, "miscarriage_months", min_value=0, max_value=10)
        days = _one(F.step_lookup([mm], p.get("maternity.miscarriage_leave_days", "date")))
        kind = "miscarriage"
    else:
        difficult = _flag(req, "difficult_birth")
        extra = fields.integer(req, "extra_babies", 0, min_value=0, max_value=10)
        days = _one(F.maternity_birth_days(
            [p.get("maternity.leave_days", "date")], [int(difficult)], [extra],
            [p.get("maternity.difficult_birth_extra_days", "date")],
            [p.get("maternity.extra_baby_days", "date")],
            [p.get("maternity.regional_extra_days", "region")]))
        kind = "birth"
    allowance = _one(F.maternity_allowance_fen([wage], [days], [divisor]))
    return {"leave_days": days, "allowance": fen_to_yuan_str(allowance), "kind": kind,
            "parameters": p.used}


@register("transfer")
def transfer(req: dict) -> dict:
    """Funds moving with a pension relation between provinces: 12% of the actual bases of
    each contribution year from 1998 (part-years by their months) from pooling, and the whole
    individual account. ``base_total`` is the sum of the year's monthly bases over ``months``."""
    kind = fields.choice(req, "kind", KINDS)
    balance = money_fen(req, "account_balance")
    years = req.get("years")
    if not isinstance(years, list):
        raise InputError("must be a list of {year, months, base_total}", field="years")
    rules = load_rules()
    seen: set[int] = set()
    bases, nums_rates, used, counted_months = [], [], {}, 0
    for i, item in enumerate(years):
        where = f"years[{i}]"
        if not isinstance(item, dict):
            raise InputError("must be an object {year, months, base_total}", field=where)
        try:
            year = fields.integer(item, "year", min_value=dt.MINYEAR, max_value=dt.MAXYEAR)
            m = fields.integer(item, "months", min_value=1, max_value=12)
            base = money_fen(item, "base_total")
        except InputError as exc:
            raise InputError(exc.reason, field=f"{where}.{exc.field}", value=exc.value) from None
        if year in seen:
            raise InputError(f"year {year} is given twice", field=f"{where}.year")
        seen.add(year)
        try:
            r = rules.lookup("transfer.pooled_rate", "national", dt.date(year, 1, 1))
        except RuleError:
            continue  # before 1998: no pooled transfer for that year
        used[r.effective_from] = r.as_json()
        bases.append(base)
        nums_rates.append(r.value)
        counted_months += m
    if nums_rates:
        nums, den = F.common_ratio(nums_rates)
        pooled = F.pooled_transfer_fen(bases, nums, den)
    else:
        pooled = 0
    return {"pooled_transfer": fen_to_yuan_str(pooled), "account_transfer": fen_to_yuan_str(balance),
            "base_total_counted": fen_to_yuan_str(sum(bases)), "months_counted": counted_months,
            "kind": kind, "parameters": list(used.values())}
