"""Resident pension award (国发〔2014〕8号; rules.md §7; rules-2 §7.1): basic pension (central
minimum + local top-up, parameters by date) + the individual account balance ÷ 139.

``propose``: a benefits clerk computes the award from the person's resident pension account in
the ledger (its balance: tiers and subsidies as collected and booked) after checking age
(``resident.pension_eligibility``) and years (signed-up years with a tier, plus ``prior_years``
of legacy record given by the clerk); the award waits for a second clerk (four eyes,
``duties.RESIDENT_AWARD``). ``approve``: the second clerk makes it effective.
"""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
from sqlalchemy import func, insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied, UnknownAccount
from shebao.db.uow import now, transaction
from shebao.ledger import queries as ledger_queries
from shebao.ledger.model import account_code
from shebao.registry import queries as registry
from shebao.rules.formulas import resident as R
from shebao.rules.loader import load_rules
from shebao.security import audit, duties, maker_checker, policy

from . import model
from .tables import resident_award, resident_signup


def propose(bind, maker: Actor, *, person_id: int, start_month: dt.date,
            prior_years: int = 0) -> int:
    policy.require(maker, "residents.award")
    start = start_month.replace(day=1)
    if not isinstance(prior_years, int) or prior_years < 0:
        raise InputError("prior_years must be a whole number ≥ 0", field="prior_years")
    rules = load_rules()
    with transaction(bind) as conn:
        region = registry.enrolment_region(conn, person_id, "resident", "resident_pension",
                                           start)
        if region is None:
            raise InputError("the person is not in the resident pension", field="person_id")
        if not policy.in_region(maker, region):
            raise PermissionDenied("the person is outside your scope")
        facts = registry.person_facts(conn, [person_id]).get(person_id)
        elig = rules.value("resident.pension_eligibility", region, start)
        if facts is None or facts.get("birth_date") is None:
            raise InputError("the person's birth date is unknown", field="person_id")
        age = int(model.ages(np.array([(facts["birth_date"] - dt.date(1970, 1, 1)).days]),
                             start)[0])
        years = int(conn.execute(select(func.count()).select_from(resident_signup).where(
            resident_signup.c.person_id == person_id,
            resident_signup.c.pension_tier_fen > 0)).scalar_one()) + prior_years
        if age < int(elig["age"]) or years < int(elig["years"]):
            raise InputError(f"not eligible: age {age} (needs {elig['age']}), {years} years of "
                             f"contributions (needs {elig['years']})", field="person_id")
        code = account_code(region, "resident_pension", "individual", person_id)
        try:
            balance = ledger_queries.balance(conn, code)
        except UnknownAccount:   # no account yet: nothing was ever credited
            balance = 0
        p = R.award_params(rules, region, start)
        basic, acct, total = R.award(np.array([balance]), p.central_fen, p.topup_fen, p.divisor)
        if conn.execute(select(resident_award.c.id).where(
                resident_award.c.person_id == person_id,
                resident_award.c.start_month == start)).first():
            raise ConflictError("an award from this month exists")
        aid = conn.execute(insert(resident_award).values(
            person_id=person_id, region=region, start_month=start, account_fen=balance,
            basic_fen=int(basic[0]), account_pension_fen=int(acct[0]),
            monthly_fen=int(total[0]), divisor=p.divisor,
            sources=json.dumps(p.sources, ensure_ascii=False, default=str), status="proposed",
            created_by=maker.id, created_at=now()).returning(resident_award.c.id)).scalar_one()
        maker_checker.submit(conn, maker, duties.RESIDENT_AWARD, "resident_award", aid,
                             region=region, detail={"monthly_fen": int(total[0])})
        audit.record(conn, maker, "residents.award.propose", "person", person_id,
                     detail={"award": aid, "account_fen": balance, "monthly_fen": int(total[0]),
                             "age": age, "years": years})
    return aid


def approve(bind, checker: Actor, award_id: int) -> dict:
    with transaction(bind) as conn:
        a = conn.execute(select(resident_award).where(
            resident_award.c.id == award_id)).mappings().first()
        if a is None or a["status"] != "proposed":
            raise InputError(f"no proposed award {award_id}", field="award")
        pending = maker_checker.latest(conn, duties.RESIDENT_AWARD, "resident_award", award_id)
        maker_checker.approve(conn, checker, pending.id)
        conn.execute(update(resident_award).where(resident_award.c.id == award_id)
                     .values(status="awarded"))
        audit.record(conn, checker, "residents.award.approve", "person", a["person_id"],
                     detail={"award": award_id})
        return dict(a) | {"status": "awarded"}


__all__ = ["propose", "approve"]
