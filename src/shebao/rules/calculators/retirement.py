"""``retirement-age``: statutory retirement date and age under the 2024 reform."""
from shebao.core.errors import InputError, RuleError
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import CATEGORIES, birth_range, statutory_retirement

from . import fields, register


@register("retirement-age")
def retirement_age(req: dict) -> dict:
    category = fields.choice(req, "category", CATEGORIES)
    lo, hi = birth_range(load_rules(), category)
    birth = fields.date(req, "birth_date", min_value=lo, max_value=hi)
    try:
        res = statutory_retirement(load_rules(), [birth.year], [birth.month], [birth.day],
                                   category)
    except RuleError as exc:
        raise InputError(f"outside the parameters: {exc}", field="birth_date") from None
    age = int(res.age_months[0])
    return {
        "retirement_date": res.date().isoformat(),
        "age_years": age // 12,
        "age_months": age % 12,
        "delay_months": int(res.delay_months[0]),
        "min_contribution_months": int(res.min_contribution_months[0]),
    }
