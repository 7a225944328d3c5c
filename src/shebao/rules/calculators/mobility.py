"""Calculators of the mobile population (``shebao calc NAME``): the claim place, the temporary
account decision and its transfer amount, the employee ↔ resident bridge and medical
continuity. They call :mod:`shebao.rules.formulas.mobility`, the same rules the mobility
services use, and list the parameters they used with their references."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shebao.core import regions
from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str
from shebao.rules import load_rules
from shebao.rules.formulas import mobility as M

from . import fields, register
from .benefits import money_fen

def _on(req: dict) -> dt.date:
    return fields.date(req, "date")


def _param(name: str, region: str, on: dt.date, field: str, used: list):
    r = fields.rule(load_rules(), name, region, on, field)
    used.append(r.as_json())
    return r.value


def _code(req: dict, field: str) -> str:
    v = fields.text(req, field)
    if not regions.is_region_code(v) or v == regions.NATIONAL:
        raise InputError(f"{v!r} is not a six-digit GB/T 2260 region code", field=field, value=v)
    return v


@register("claim_place")
def claim_place(req: dict) -> dict:
    """Where the pension is claimed (待遇领取地), T66 art. 6. ``segments``: oldest first, each
    {region, months, temporary}."""
    on = _on(req)
    hukou = _code(req, "hukou")
    segs = req.get("segments")
    if not isinstance(segs, list):
        raise InputError("must be a list of {region, months, temporary}", field="segments")
    out = []
    for i, s in enumerate(segs):
        if not isinstance(s, dict):
            raise InputError("must be an object", field=f"segments[{i}]")
        try:
            out.append(M.Segment(_code(s, "region"),
                                 fields.integer(s, "months", min_value=1, max_value=1200),
                                 bool(s.get("temporary", False))))
        except InputError as exc:
            raise InputError(exc.reason, field=f"segments[{i}].{exc.field}") from None
    used: list = []
    years = _param("mobility.claim_place_min_years", hukou, on, "date", used)
    cp = M.claim_place(hukou, out, years)
    return {"claim_region": cp.region, "rule": cp.rule, "relation_region": cp.relation_region,
            "consolidate_from": list(cp.consolidate_from),
            "months_by_province": dict(sorted(cp.months_by_province.items())),
            "parameters": used}


@register("temporary_account")
def temporary_account(req: dict) -> dict:
    """Does enrolling at ``place`` on ``on`` open a temporary account (T66 art. 6)?"""
    on = _on(req)
    place, hukou = _code(req, "place"), _code(req, "hukou")
    used: list = []
    ages = _param("mobility.temporary_account_age", place, on, "date", used)
    sex = fields.choice(req, "sex", tuple(sorted(ages)))
    birth = fields.date(req, "birth_date", max_value=on)
    temp = M.needs_temporary_account(
        sex=sex, birth_date=birth, enrol_on=on, hukou=hukou, place=place, ages=ages,
        returning_home=bool(req.get("returning_home", False)),
        organisation_transfer=bool(req.get("organisation_transfer", False)))
    return {"temporary": temp, "age": M.age_on(birth, on), "parameters": used}


@register("temporary_transfer")
def temporary_transfer(req: dict) -> dict:
    """Funds consolidated from a temporary account: the whole account, and from pooling the
    higher of the employer's actual rate and the pooled-transfer rate × the actual bases of
    each year (rounded once)."""
    balance = money_fen(req, "account_balance")
    years = req.get("years")
    if not isinstance(years, list):
        raise InputError("must be a list of {year, base_total, employer_rate}", field="years")
    used: list = []
    bases, rates, seen = [], [], set()
    for i, item in enumerate(years):
        where = f"years[{i}]"
        if not isinstance(item, dict):
            raise InputError("must be an object", field=where)
        try:
            year = fields.integer(item, "year", min_value=1900, max_value=2200)
            base = money_fen(item, "base_total")
            er = fields.decimal(item, "employer_rate", min_value=0)
        except InputError as exc:
            raise InputError(exc.reason, field=f"{where}.{exc.field}") from None
        if year in seen:
            raise InputError(f"year {year} is given twice", field=f"{where}.year")
        seen.add(year)
        try:
            r = load_rules().lookup("transfer.pooled_rate", "national", dt.date(year, 1, 1))
        except RuleError:
            continue
        if r.as_json() not in used:
            used.append(r.as_json())
        bases.append(base)
        rates.append(M.temporary_rate(Decimal(er), r.value))
    pooled = M.pooled_share_fen(bases, rates)
    return {"pooled_transfer": fen_to_yuan_str(pooled), "account_transfer": fen_to_yuan_str(balance),
            "rates": [str(r) for r in rates], "parameters": used}


@register("bridge")
def bridge(req: dict) -> dict:
    """Employee ↔ resident pension bridge at retirement age (人社部发〔2014〕17号)."""
    on = _on(req)
    region = fields.region(req)
    used: list = []
    years = _param("mobility.bridge_min_employee_years", region, on, "date", used)
    divisor = _param("mobility.resident_account_divisor", region, on, "date", used)
    b = M.bridge(
        employee_months=fields.integer(req, "employee_months", min_value=0, max_value=1200),
        resident_months=fields.integer(req, "resident_months", min_value=0, max_value=1200),
        employee_account_fen=money_fen(req, "employee_account"),
        resident_account_fen=money_fen(req, "resident_account"),
        min_employee_years=years,
        overlap_months=fields.integer(req, "overlap_months", 0, min_value=0, max_value=1200),
        overlap_refund_fen=money_fen(req, "overlap_refund", 0, required=False))
    out = {"direction": b.direction, "counted_months": b.counted_months,
           "counted_years": str(Decimal(b.counted_months) / M.MONTHS_PER_YEAR),
           "merged_account": fen_to_yuan_str(b.merged_account_fen),
           "moved": fen_to_yuan_str(b.moved_fen), "refund": fen_to_yuan_str(b.refund_fen),
           "parameters": used}
    if b.direction == "employee_to_resident":
        out["account_pension"] = fen_to_yuan_str(M.account_pension_fen(b.merged_account_fen,
                                                                       divisor))
    return out


@register("medical_transfer")
def medical_transfer(req: dict) -> dict:
    """Medical relation transfer (医保办发〔2021〕43号): the account moves, the years are
    recognised; a gap beyond the limit starts a waiting period."""
    on = _on(req)
    region = fields.region(req)
    used: list = []
    gap_max = _param("mobility.medical_gap_months", region, on, "date", used)
    wait = _param("mobility.medical_waiting_months", region, on, "date", used)
    c = M.medical_continuity(
        old_months=fields.integer(req, "old_months", min_value=0, max_value=1200),
        gap_months=fields.integer(req, "gap_months", min_value=0, max_value=1200),
        max_gap_months=gap_max, waiting_months=wait)
    return {"continuous": c.continuous, "waiting_months": c.waiting_months,
            "recognised_months": c.recognised_months,
            "account_transfer": fen_to_yuan_str(money_fen(req, "account_balance")),
            "parameters": used}
