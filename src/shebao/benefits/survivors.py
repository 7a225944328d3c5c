"""Death of an insured person or a pensioner (社会保险法 arts. 14, 17): pure rules.

The survivors receive a funeral grant (``survivors.funeral_grant`` months of the region's
average monthly wage) and a survivors' benefit (``survivors.benefit_months`` by the deceased's
contribution months, of the deceased's monthly pension — or of the average wage when the
deceased was not yet retired); the heirs receive the balance of the individual pension account
(SIL art. 14: inheritable; paid from the deceased's account). Every award of the deceased
stops from the month after death (``awards.stop_awards``); what was paid for later months is
recovered (``recovery``).
"""
from __future__ import annotations

import datetime as dt

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.core.periods import add_months
from shebao.rules.formulas import casework as C

from .claims import ONCE, Computation, LineSpec, Params, fact, month_start

BASIS_FUNERAL = "社会保险法 第十七条 (丧葬补助金)"
BASIS_BENEFIT = "社会保险法 第十七条 (抚恤金)"
BASIS_ACCOUNT = "社会保险法 第十四条 (个人账户余额可以继承)"


def compute(rules, region: str, facts: dict) -> Computation:
    """facts: death_date, claimant_person_id, contribution_months, monthly_pension_fen (0
    when not retired), account_balance_fen, heirs: [{person_id, share_pct}] (default: the
    claimant takes the whole balance)."""
    death = fact(facts, "death_date", dt.date)
    claimant = fact(facts, "claimant_person_id", int)
    months = fact(facts, "contribution_months", int)
    pension = fact(facts, "monthly_pension_fen", int, required=False, default=0)
    balance = fact(facts, "account_balance_fen", int, required=False, default=0)
    heirs = facts.get("heirs") or [{"person_id": claimant, "share_pct": 100}]
    p = Params(rules, region, death)
    c = Computation("survivors", True, facts=dict(facts))
    avg = to_fen(p.get("wage.average_monthly", field="region"))
    start = add_months(month_start(death), 1)
    fm = int(p.get("survivors.funeral_grant"))
    funeral = C.months_of_wage_fen(avg, fm)
    c.arithmetic.append(f"funeral grant: {fm} × {fen_to_yuan_str(avg)} = "
                        f"{fen_to_yuan_str(funeral)}")
    c.lines.append(LineSpec(ONCE, "funeral_grant", "pension", funeral, start, BASIS_FUNERAL,
                            payee_id=claimant))
    bm = C.months_by_band(months, p.get("survivors.benefit_months"))
    base, what = (pension, "monthly pension") if pension else (avg, "average wage")
    benefit = C.months_of_wage_fen(base, bm)
    c.arithmetic.append(f"survivors' benefit: {bm} months ({months} contribution months) × "
                        f"{what} {fen_to_yuan_str(base)} = {fen_to_yuan_str(benefit)}")
    c.lines.append(LineSpec(ONCE, "survivors_benefit", "pension", benefit, start,
                            BASIS_BENEFIT, payee_id=claimant))
    if balance > 0:
        total_pct = sum(int(h.get("share_pct", 0)) for h in heirs)
        if total_pct != 100:
            raise InputError(f"heirs' shares add up to {total_pct}%, not 100%", field="heirs")
        given = 0
        for i, h in enumerate(heirs):
            pid = fact(h, "person_id", int)
            amt = balance - given if i == len(heirs) - 1 else \
                balance * int(h["share_pct"]) // 100
            given += amt
            c.lines.append(LineSpec(ONCE, "account_refund", "pension", amt, start,
                                    BASIS_ACCOUNT, payee_id=pid, fund_account="individual"))
            c.arithmetic.append(f"account balance to heir {pid}: {h['share_pct']}% = "
                                f"{fen_to_yuan_str(amt)}")
    c.parameters = p.used
    c.outcome = "granted"
    return c
