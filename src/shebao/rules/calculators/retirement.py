"""``retirement-age``: statutory retirement date and age under the 2024 reform."""
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import CATEGORIES, statutory_retirement

from . import fields, register


@register("retirement-age")
def retirement_age(req: dict) -> dict:
    birth = fields.date(req, "birth_date")
    category = fields.choice(req, "category", CATEGORIES)
    res = statutory_retirement(load_rules(), [birth.year], [birth.month], [birth.day], category)
    age = int(res.age_months[0])
    return {
        "retirement_date": res.date().isoformat(),
        "age_years": age // 12,
        "age_months": age % 12,
        "delay_months": int(res.delay_months[0]),
        "min_contribution_months": int(res.min_contribution_months[0]),
    }
