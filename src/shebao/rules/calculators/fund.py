"""``fund_warning`` and ``projection_step``: the early-warning indicators of one fund and the
projection's one-year step (rules-2 §6.4, §8), through ``rules.formulas.fund``."""
from __future__ import annotations

from decimal import Decimal

from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.rules import load_rules
from shebao.rules.formulas import fund

from . import fields, register

BIG = Decimal(10) ** 15        # fund figures are far above one person's MAX_MONEY
INDICATORS = ("payable_months", "dependency_ratio", "collection_rate", "arrears_rate",
              "surplus_excl_subsidy")


def _s(v) -> str | None:
    return None if v is None else str(v)


def bands(rules, region: str, on, fund_name: str) -> dict:
    """indicator → band of thresholds in force for the fund (``monitoring.warning.<indicator>``)."""
    out = {}
    for ind in INDICATORS:
        name = f"monitoring.warning.{ind}"
        table = rules.get(name, region, on) if name in rules else None
        if table and fund_name in table:
            out[ind] = dict(table[fund_name])
    return out


@register("fund_warning")
def fund_warning(req: dict) -> dict:
    balance = to_fen(fields.decimal(req, "balance", max_value=BIG))
    spending = to_fen(fields.decimal(req, "annual_expenditure", min_value=0, max_value=BIG))
    income = to_fen(fields.decimal(req, "income", Decimal(0), max_value=BIG))
    subsidy = to_fen(fields.decimal(req, "subsidy", Decimal(0), min_value=0, max_value=BIG))
    contributors = fields.integer(req, "contributors", 0, min_value=0)
    pensioners = fields.integer(req, "pensioners", 0, min_value=0)
    receivable = to_fen(fields.decimal(req, "receivable", Decimal(0), min_value=0, max_value=BIG))
    collected = to_fen(fields.decimal(req, "collected", Decimal(0), min_value=0, max_value=BIG))
    outstanding = to_fen(fields.decimal(req, "outstanding", Decimal(0), min_value=0, max_value=BIG))
    surplus, excl = fund.current_surplus(income, spending, subsidy)
    values = {
        "payable_months": fund.payable_months(balance, spending),
        "dependency_ratio": fund.ratio(contributors, pensioners),
        "collection_rate": fund.ratio(collected, receivable, 4),
        "arrears_rate": fund.ratio(outstanding, receivable, 4),
        "surplus_excl_subsidy": Decimal(excl) / 100,
    }
    out = {"payable_months": _s(values["payable_months"]),
           "current_surplus": fen_to_yuan_str(surplus),
           "surplus_excl_subsidy": fen_to_yuan_str(excl),
           "dependency_ratio": _s(values["dependency_ratio"]),
           "collection_rate": _s(values["collection_rate"]),
           "arrears_rate": _s(values["arrears_rate"])}
    if "region" in req:
        region = fields.region(req)
        on = fields.date(req, "date")
        name = fields.choice(req, "fund", ("pension", "medical", "unemployment", "injury"),
                             "pension")
        out["levels"] = {ind: fund.level(values[ind], band)
                         for ind, band in bands(load_rules(), region, on, name).items()
                         if values[ind] is not None}
    return out


@register("projection_step")
def projection_step(req: dict) -> dict:
    s = fund.one_year_step(
        contributors=fields.integer(req, "contributors", min_value=0),
        avg_base_fen=to_fen(fields.decimal(req, "avg_base", min_value=0)),
        contribution_rate=fields.decimal(req, "contribution_rate", min_value=0, max_value=1),
        pooled_rate=fields.decimal(req, "pooled_rate", min_value=0, max_value=1),
        collection_rate=fields.decimal(req, "collection_rate", min_value=0, max_value=1),
        pensioners=fields.integer(req, "pensioners", min_value=0),
        avg_pension_fen=to_fen(fields.decimal(req, "avg_pension", min_value=0)),
        indexation=fields.decimal(req, "indexation", Decimal(0)),
        death_rate=fields.decimal(req, "death_rate", min_value=0, max_value=1),
        new_pensioners=fields.integer(req, "new_pensioners", 0, min_value=0),
        new_pension_fen=to_fen(fields.decimal(req, "new_pension", Decimal(0), min_value=0)))
    return {"income": fen_to_yuan_str(s.income_fen),
            "pooled_income": fen_to_yuan_str(s.pooled_income_fen),
            "account_income": fen_to_yuan_str(s.account_income_fen),
            "expenditure": fen_to_yuan_str(s.expenditure_fen), "deaths": s.deaths,
            "pensioners_next": s.pensioners_next,
            "avg_pension_next": fen_to_yuan_str(s.avg_pension_next_fen),
            "expenditure_next": fen_to_yuan_str(s.expenditure_next_fen)}
