"""Unemployment benefit (失业保险条例 arts. 14–18; 社会保险法 arts. 45–51): pure rules.

Conditions (UIR art. 14, SIL art. 45): ≥ ``unemployment.min_contribution_months`` paid months,
involuntary loss of the job, registered as unemployed, seeking work. Duration (SIL art. 46,
UIR art. 17): the months of the contribution band of the months paid *since the last claim*
(years are counted afresh after re-employment) plus the months left unused by the last claim,
at most ``unemployment.max_total_months``. Amount (UIR art. 18): the regional share of the
minimum wage, not below the minimum living standard. From the registration month. During the
benefit the fund pays the employee medical premium (SIL art. 48) — a monthly ``fund`` line.

Stop events (UIR art. 15, SIL art. 51) end the payment from the month
``unemployment.stop_rules`` says (next: the month after the event; same: the event's month);
the months not paid are carried into a later claim (:func:`remaining_months`).
"""
from __future__ import annotations

import datetime as dt

from shebao.core.money import apply_rate, fen_to_yuan_str, to_fen
from shebao.core.periods import add_months, months_between
from shebao.rules.formulas import benefits as F
from shebao.rules.formulas import casework as C

from .claims import MONTHLY, Computation, LineSpec, Params, fact, month_start

BASIS_BENEFIT = "失业保险条例 第十四、十七、十八条; 社会保险法 第四十五–四十七条"
BASIS_MEDICAL = "社会保险法 第四十八条"
STOP_EVENTS = ("reemployment", "conscription", "emigration", "pension", "imprisonment",
               "refused_work", "death")


def compute(rules, region: str, facts: dict) -> Computation:
    """facts: registered_on, contribution_months (paid since the last claim), involuntary,
    seeking_work, carried_months (unused months of an earlier claim; default 0)."""
    reg = fact(facts, "registered_on", dt.date)
    months_paid = fact(facts, "contribution_months", int)
    involuntary = fact(facts, "involuntary", bool)
    seeking = fact(facts, "seeking_work", bool)
    carried = fact(facts, "carried_months", int, required=False, default=0)
    p = Params(rules, region, reg)
    c = Computation("unemployment", True, facts=dict(facts))
    minimum = int(p.get("unemployment.min_contribution_months"))
    if months_paid < minimum:
        c.reasons.append(f"paid {months_paid} months, fewer than the {minimum} required "
                         f"(失业保险条例 第十四条第一项)")
    if not involuntary:
        c.reasons.append("the job was not lost involuntarily (失业保险条例 第十四条第二项)")
    if not seeking:
        c.reasons.append("not registered as seeking work (失业保险条例 第十四条第三项)")
    bands = p.get("unemployment.max_benefit_months")
    cap = int(p.get("unemployment.max_total_months"))
    new, months = C.unemployment_entitlement(months_paid if months_paid >= minimum else 0,
                                             bands, carried, cap)
    c.arithmetic.append(f"entitlement: {new} months for {months_paid} paid months "
                        f"+ {carried} carried = {new + carried}, cap {cap} → {months}")
    if months <= 0 and not c.reasons:
        c.reasons.append("no months of entitlement")
    share = p.get("unemployment.share_of_minimum_wage")
    min_wage = to_fen(p.get("wage.minimum_wage", field="region"))
    living = to_fen(p.get("social.minimum_living_standard", field="region"))
    amount = int(F.unemployment_amount_fen([min_wage], share, [living])[0])
    c.arithmetic.append(f"monthly: {share} × minimum wage {fen_to_yuan_str(min_wage)} = "
                        f"{fen_to_yuan_str(amount)} (not below the minimum living standard "
                        f"{fen_to_yuan_str(living)})")
    if c.reasons:
        c.eligible = False
        return _done(c, p)
    start = month_start(reg)
    end = add_months(start, months)
    c.lines.append(LineSpec(MONTHLY, "unemployment_benefit", "unemployment", amount, start,
                            BASIS_BENEFIT, end))
    rate = p.get("unemployment.medical_premium_rate")
    premium = int(apply_rate(amount, rate))
    c.arithmetic.append(f"medical premium paid by the fund: {rate} × {fen_to_yuan_str(amount)}"
                        f" = {fen_to_yuan_str(premium)} a month")
    if premium:
        c.lines.append(LineSpec(MONTHLY, "medical_premium", "unemployment", premium, start,
                                BASIS_MEDICAL, end, payee_type="fund", payee_id=None))
    c.facts["months"] = months
    c.facts["new_months"] = new
    return _done(c, p)


def _done(c: Computation, p: Params) -> Computation:
    c.parameters = p.used
    c.outcome = "granted" if c.eligible else "refused"
    return c


def stop_month(rules, region: str, event: str, on: dt.date) -> dt.date:
    """The first month not paid after a stop event on ``on``."""
    if event not in STOP_EVENTS:
        from shebao.core.errors import InputError
        raise InputError(f"unknown stop event {event!r} (one of {', '.join(STOP_EVENTS)})",
                         field="event", value=event)
    when = Params(rules, region, on).get("unemployment.stop_rules")[event]
    m = month_start(on)
    return m if when == "same" else add_months(m, 1)


def refusals_to_stop(rules, region: str, on: dt.date) -> int:
    return int(Params(rules, region, on).get("unemployment.stop_rules")["refusals"])


def remaining_months(start: dt.date, end: dt.date | None, stopped_from: dt.date | None,
                     suspended_months: int = 0) -> int:
    """Months of an entitlement [start, end) not paid because it stopped at ``stopped_from``
    (carried into a later claim: UIR art. 17). Suspended months are not consumed."""
    if end is None:
        return 0
    last = min(end, stopped_from) if stopped_from else end
    used = max(months_between(start, max(last, start)) - suspended_months, 0)
    return max(months_between(start, end) - used, 0)
