"""``medical_settlement`` and ``resident_pension``: one claim / one award through the batch
formulas (arrays of length one)."""
from __future__ import annotations

import numpy as np

from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.rules import load_rules
from shebao.rules.formulas import medical as M
from shebao.rules.formulas import resident as R

from . import fields, register
from .benefits import money_fen


def _policy(rules, region, on):
    try:
        return M.policy(rules, region, on)
    except RuleError as exc:
        raise InputError(f"no medical policy in force: {exc}", field="date") from None


@register("medical_settlement")
def medical_settlement(req: dict) -> dict:
    """One inpatient (or outpatient) claim: lines {amount, class} → fund, serious-illness
    layer, account and cash; off-site: ``treatment_region``'s catalogue, ``region``'s policy."""
    rules = load_rules()
    region = fields.region(req)
    treated = fields.region(req, "treatment_region") if req.get("treatment_region") else region
    on = fields.date(req, "date")
    ptype = fields.choice(req, "person_type", M.PERSON_TYPES)
    level = fields.choice(req, "hospital_level", M.LEVELS)
    kind = fields.choice(req, "kind", ("inpatient", "outpatient"), "inpatient")
    category = fields.choice(req, "offsite_category", M.OFFSITE, "home")
    first = req.get("first_stay", True)
    use_acct = req.get("use_account", False)
    for f, v in (("first_stay", first), ("use_account", use_acct)):
        if not isinstance(v, bool):
            raise InputError("must be true or false", field=f, value=v)
    lines = req.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InputError("give the bill's lines: [{amount, class}]", field="lines")
    amounts, classes = [], []
    for i, ln in enumerate(lines):
        if not isinstance(ln, dict):
            raise InputError(f"line {i + 1} must be an object", field="lines")
        amounts.append(money_fen(ln, "amount"))
        classes.append(M.CLASSES.index(fields.choice(ln, "class", M.CLASSES)))
    pol = _policy(rules, region, on)
    try:
        nums, src = M.catalogue_nums(rules, treated, on)
    except RuleError as exc:
        raise InputError(f"no catalogue in force: {exc}", field="treatment_region") from None
    sp, sc = M.split_lines(np.array(amounts), np.array(classes), nums)
    pi = M.PERSON_TYPES.index(ptype)
    fund_paid = money_fen(req, "fund_paid_this_year", 0, required=False)
    serious_paid = money_fen(req, "serious_paid_this_year", 0, required=False)
    balance = money_fen(req, "account_balance", 0, required=False)
    one = np.zeros(1, np.int64)
    r = M.settle(person=one, total=np.array([sum(amounts)]), self_paid=np.array([sp.sum()]),
                 scope=np.array([sc.sum()]), inpatient=np.array([kind == "inpatient"]),
                 group=M.group_index([pi], [M.LEVELS.index(level)]),
                 first_stay=np.array([first]), deductibles=pol.deductibles[[pi]],
                 reduction_num=np.array([pol.reduction[category]]), bands=pol.bands,
                 cap_left=np.array([pol.cap[pi] - fund_paid]), serious_num=pol.serious_num,
                 serious_left=np.array([pol.serious_cap - serious_paid]),
                 balance_left=np.array([balance]), use_account=np.array([use_acct]))
    y = {k: fen_to_yuan_str(int(getattr(r, k)[0])) for k in
         ("total", "self_paid", "scope", "deductible", "basic", "serious", "account", "cash")}
    y["fund"] = fen_to_yuan_str(int(r.basic[0] + r.serious[0]))
    y["patient"] = fen_to_yuan_str(int(r.account[0] + r.cash[0]))
    y["parameters"] = pol.sources + [src]
    return y


@register("resident_pension")
def resident_pension(req: dict) -> dict:
    """Monthly resident pension: basic (central minimum + local top-up) + account ÷ divisor.
    The account is given (``account_balance``) or built from ``tier`` × ``years`` with the
    tier's subsidy and the account rate (overridable: ``subsidy``, ``account_rate``)."""
    rules = load_rules()
    region = fields.region(req)
    on = fields.date(req, "date")
    p = R.award_params(rules, region, on)
    topup = money_fen(req, "local_topup", p.topup_fen, required=False)
    if req.get("account_balance") is not None:
        balance = money_fen(req, "account_balance")
    else:
        tier = money_fen(req, "tier")
        years = fields.integer(req, "years", min_value=1, max_value=80)
        subsidy = money_fen(req, "subsidy", None, required=False)
        if subsidy is None:
            subsidy = R.subsidy_fen(rules, region, on, tier)
        rate = fields.decimal(req, "account_rate", p.account_rate, min_value=0)
        balance = int(R.account_future_value(np.array([tier + subsidy]), years, rate)[0])
    basic, account, total = R.award(np.array([balance]), p.central_fen, topup, p.divisor)
    return {"account_balance": fen_to_yuan_str(balance),
            "basic": fen_to_yuan_str(int(basic[0])),
            "account_pension": fen_to_yuan_str(int(account[0])),
            "monthly": fen_to_yuan_str(int(total[0])),
            "divisor": p.divisor, "parameters": p.sources}


__all__ = ["medical_settlement", "resident_pension", "to_fen"]
