"""Maternity allowance (女职工劳动保护特别规定 arts. 7–8; 社会保险法 arts. 54–56): pure rules.

Allowance = the employer's previous-year average monthly wage ÷
``maternity.allowance_day_divisor`` × the days of leave: ``maternity.leave_days`` + a difficult
birth's extra days + the extra days per additional baby + the region's extra days (or, after
a miscarriage, the days of ``maternity.miscarriage_leave_days`` by months of pregnancy). One
payment, rounded once, to the employer (which keeps paying the wage) or to the person as
``maternity.payee`` says or the claim asks.

Medical costs (生育医疗费用, 社会保险法 arts. 54–55), claimed in the same case: the prenatal
check subsidy (``maternity.prenatal_check_subsidy``) and the delivery costs as the region's
flat amount for the delivery type (``maternity.delivery_flat_amounts``: vaginal, caesarean,
early or late miscarriage), one-off, to the person, to the employer or to the provider that
advanced them (a provider is paid as the organisation it is registered as, by its id).
"""
from __future__ import annotations

import datetime as dt

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.core.periods import add_months
from shebao.rules.formulas import benefits as F

from .claims import ONCE, Computation, LineSpec, Params, fact, month_start

BASIS = "女职工劳动保护特别规定 第七、八条; 社会保险法 第五十六条 (生育津贴)"
BASIS_MEDICAL = "社会保险法 第五十四、五十五条 (生育医疗费用)"
MISCARRIAGES = ("early_miscarriage", "late_miscarriage")


def compute(rules, region: str, facts: dict) -> Computation:
    """facts: birth_date, employer_avg_wage_fen, difficult_birth, extra_babies,
    miscarriage_months (instead of a birth), payee (person | employer; default per region),
    employer_id."""
    on = fact(facts, "birth_date", dt.date)
    wage = fact(facts, "employer_avg_wage_fen", int)
    p = Params(rules, region, on)
    c = Computation("maternity", True, facts=dict(facts))
    divisor = int(p.get("maternity.allowance_day_divisor"))
    if facts.get("miscarriage_months") is not None:
        mm = fact(facts, "miscarriage_months", int)
        days = int(F.step_lookup([mm], p.get("maternity.miscarriage_leave_days"))[0])
        c.arithmetic.append(f"miscarriage at {mm} months: {days} days")
    else:
        difficult = bool(fact(facts, "difficult_birth", bool, required=False, default=False))
        extra = fact(facts, "extra_babies", int, required=False, default=0)
        base = int(p.get("maternity.leave_days"))
        dd = int(p.get("maternity.difficult_birth_extra_days"))
        pb = int(p.get("maternity.extra_baby_days"))
        reg = int(p.get("maternity.regional_extra_days", field="region"))
        days = int(F.maternity_birth_days([base], [int(difficult)], [extra], [dd], [pb],
                                          [reg])[0])
        c.arithmetic.append(f"days: {base} + {dd if difficult else 0} (difficult) + "
                            f"{extra} × {pb} (extra babies) + {reg} (region) = {days}")
    amount = int(F.maternity_allowance_fen([wage], [days], [divisor])[0])
    c.arithmetic.append(f"allowance: {fen_to_yuan_str(wage)} ÷ {divisor} × {days} = "
                        f"{fen_to_yuan_str(amount)}")
    payee = facts.get("payee") or p.get("maternity.payee")["default"]
    if payee not in ("person", "employer"):
        raise InputError("payee must be person or employer", field="payee", value=payee)
    c.facts["days"] = days
    c.facts["payee"] = payee
    start = add_months(month_start(on), 0)
    if payee == "employer":
        emp = fact(facts, "employer_id", int)
        c.lines.append(LineSpec(ONCE, "maternity_allowance", "maternity", amount, start, BASIS,
                                payee_type="employer", payee_id=emp))
    else:
        c.lines.append(LineSpec(ONCE, "maternity_allowance", "maternity", amount, start, BASIS))
    _medical_costs(c, p, facts, start)
    c.parameters = p.used
    c.outcome = "granted"
    return c


def _medical_costs(c: Computation, p: Params, facts: dict, start) -> None:
    """facts: delivery_type, prenatal_checks (bool), medical_payee (person | employer |
    provider) with employer_id / provider_id."""
    delivery = facts.get("delivery_type")
    prenatal = bool(fact(facts, "prenatal_checks", bool, required=False, default=False))
    if delivery is None and not prenatal:
        return
    who = facts.get("medical_payee") or "person"
    if who == "person":
        to = {}
    elif who in ("employer", "provider"):
        to = {"payee_type": "employer",
              "payee_id": fact(facts, "employer_id" if who == "employer" else "provider_id",
                               int)}
    else:
        raise InputError("medical_payee must be person, employer or provider",
                         field="medical_payee", value=who)
    c.facts["medical_payee"] = who
    if prenatal:
        sub = int(p.get("maternity.prenatal_check_subsidy", field="region"))
        c.arithmetic.append(f"prenatal check subsidy: {sub}.00 (flat)")
        c.lines.append(LineSpec(ONCE, "prenatal_check_subsidy", "maternity", to_fen(sub), start,
                                BASIS_MEDICAL, **to))
    if delivery is not None:
        flat = p.get("maternity.delivery_flat_amounts", field="region")
        if delivery not in flat:
            raise InputError(f"delivery_type must be one of {', '.join(flat)}",
                             field="delivery_type", value=delivery)
        if (facts.get("miscarriage_months") is not None) != (delivery in MISCARRIAGES):
            raise InputError("delivery_type must agree with miscarriage_months",
                             field="delivery_type", value=delivery)
        c.arithmetic.append(f"delivery costs ({delivery}): {flat[delivery]}.00 (flat)")
        c.lines.append(LineSpec(ONCE, "delivery_costs", "maternity", to_fen(flat[delivery]),
                                start, BASIS_MEDICAL, **to))
