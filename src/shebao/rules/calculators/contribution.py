"""``contribution``: one person's monthly contributions, through the batch assessment formulas."""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.rules import load_rules
from shebao.rules.formulas.contribution import (DEN, assess_employees, assess_flexible,
                                                clamp_base, fmt_rate, rate_num, rate_set)

from . import fields, register


@register("contribution")
def contribution(req: dict) -> dict:
    rules = load_rules()
    region = fields.region(req)
    month = fields.month(req, "month")
    wage = fields.decimal(req, "wage", min_value=0)
    kind = fields.choice(req, "kind", ("employee", "flexible"))
    try:
        rs = rate_set(rules, region, month)
    except RuleError as exc:
        raise InputError(f"outside the parameters: {exc}", field="month") from None
    base, how = clamp_base(np.array([to_fen(wage)]), rs.floor_fen, rs.ceiling_fen)
    lines_out = []
    if kind == "employee":
        klass = fields.integer(req, "injury_class", min_value=1, max_value=8)
        mult = fields.decimal(req, "injury_multiplier", Decimal("1.0"))
        try:
            inj = rs.injury_rate_num([klass], [rate_num(mult)]) if rs.injury_base else None
        except RuleError as exc:
            raise InputError(str(exc), field="injury_multiplier") from None
        amounts = assess_employees(rs, base, inj)
    else:
        if not rs.flexible_lines:
            raise InputError(f"region {region} has no flexible-worker rates in force on "
                             f"{month.isoformat()}", field="kind")
        amounts = assess_flexible(rs, base)
        inj = None
    employer = employee = 0
    for line, arr in amounts.items():
        amount = int(arr[0])
        num = line.rate_num if line.rate_num is not None else int(inj[0])
        lines_out.append({"scheme": line.scheme, "payer": line.payer, "rate": fmt_rate(num),
                          "amount": fen_to_yuan_str(amount), "account": line.account})
        if line.payer == "employer":
            employer += amount
        else:
            employee += amount
    return {
        "base": fen_to_yuan_str(int(base[0])),
        "base_clamped": {-1: "raised to floor", 0: "none", 1: "cut to ceiling"}[int(how[0])],
        "floor": fen_to_yuan_str(rs.floor_fen), "ceiling": fen_to_yuan_str(rs.ceiling_fen),
        "lines": lines_out,
        "employer_total": fen_to_yuan_str(employer),
        "employee_total": fen_to_yuan_str(employee),
        "sources": rs.sources,
    }


__all__ = ["contribution", "DEN"]
