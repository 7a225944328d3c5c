"""Off-site care (异地就医): registrations and the monthly clearing between regions.

A registration (医保发〔2022〕22号 arts. 7–9) names the place of treatment (a province, city or
district), the category (long_term: retirees resettled, long-term residents, staff stationed
elsewhere; referral; emergency; temporary_other) and its dates; validity comes from
``medical.offsite.registration_validity`` (0 = until revoked). It is a ``shebao.cases`` case of
item ``medical.offsite_registration`` decided at once (no second check). Settlement reads the
registration in force on the admission date (``claims.registration_on``); without one a visit
outside the insured province is ``unregistered`` (emergency: deemed registered) and gets the
lower ratio (``medical.offsite.ratio_reduction``).

Clearing (``clear``): the month's off-site settlements summed per insured region × treatment
region × scheme; the insured region pays out of its fund account, the treatment region receives:

    insured    Dr transfer_clearing   Cr fund_bank
    treatment  Dr fund_bank           Cr transfer_clearing
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, text, update

from shebao.cases import service as cases
from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.periods import add_months, month_end
from shebao.core.regions import check_region
from shebao.db.uow import now, transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import claims as claim_service
from . import model
from .tables import medical_clearing, medical_offsite_registration as reg

ITEM = "medical.offsite_registration"


def register(bind, actor: Actor, *, person_id: int, treatment_region: str, category: str,
             subtype: str, valid_from: dt.date, channel: str = "online") -> dict:
    check_region(treatment_region, field="treatment_region")
    model.check_choice(category, tuple(model.CATEGORIES), "category")
    model.check_choice(subtype, model.CATEGORIES[category], "subtype")
    policy.require(actor, "medical.offsite.register")
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen registers only themselves")
    months = int(load_rules().value("medical.offsite.registration_validity", treatment_region,
                                    valid_from)[category])
    valid_to = add_months(valid_from, months) - dt.timedelta(days=1) if months else None
    with transaction(bind) as conn:
        insured, _scheme, _t = claim_service.insured(conn, person_id, valid_from)
        if model.province(insured) == model.province(treatment_region):
            raise InputError("the place of treatment is in the insured province: no "
                             "registration is needed", field="treatment_region")
        case_id = cases.open_case(conn, actor, item=ITEM, region=insured, subject_type="person",
                                  subject_id=person_id, person_id=person_id, channel=channel,
                                  opened_on=None,
                                  detail={"treatment_region": treatment_region,
                                          "category": category})
        rid = conn.execute(insert(reg).values(
            person_id=person_id, insured_region=insured, treatment_region=treatment_region,
            category=category, subtype=subtype, valid_from=valid_from, valid_to=valid_to,
            status="active", case_id=case_id, created_by=actor.id, created_at=now())
            .returning(reg.c.id)).scalar_one()
        cases.decide(conn, SYSTEM, case_id, outcome="granted",
                     detail={"registration_id": rid, "valid_to": str(valid_to)})
        audit.record(conn, actor, "medical.offsite.register", "person", person_id,
                     detail={"registration": rid, "category": category,
                             "treatment_region": treatment_region, "valid_to": str(valid_to)})
    return {"registration_id": rid, "case_id": case_id, "valid_to": valid_to}


def revoke(bind, actor: Actor, registration_id: int) -> None:
    with transaction(bind) as conn:
        r = conn.execute(select(reg).where(reg.c.id == registration_id)).mappings().first()
        if r is None or r["status"] != "active":
            raise InputError(f"no active registration {registration_id}", field="registration")
        if actor.role == "citizen":
            if actor.person_id != r["person_id"]:
                raise PermissionDenied("a citizen revokes only their own registration")
        else:
            policy.require(actor, "medical.offsite.register")
            if not policy.in_region(actor, r["insured_region"]):
                raise PermissionDenied("the registration is outside your scope")
        conn.execute(update(reg).where(reg.c.id == registration_id).values(status="revoked"))
        audit.record(conn, actor, "medical.offsite.revoke", "person", r["person_id"],
                     detail={"registration": registration_id})


_DUE_SQL = """
SELECT m.insured_region, m.treatment_region, m.scheme,
       SUM(s.basic_fen + s.serious_fen + s.account_fen), COUNT(*)
FROM medical_settlement s
JOIN medical_claim m ON m.id = s.claim_id
JOIN medical_settlement_run r ON r.id = s.run_id
WHERE s.offsite > 0 AND r.on_date >= :start AND r.on_date <= :end
GROUP BY m.insured_region, m.treatment_region, m.scheme
ORDER BY m.insured_region, m.treatment_region, m.scheme"""


def clear(bind, actor: Actor, month: dt.date) -> dict:
    """Clear the month's off-site settlements between regions (once per month × pair): the
    pairs whose two regions both lie in the actor's scope (national clearing: a national
    scope)."""
    policy.require(actor, "medical.settle")
    start = month.replace(day=1)
    with transaction(bind) as conn:
        rows = conn.execute(text(_DUE_SQL), {"start": start, "end": month_end(start)}).all()
        done = {(r.insured_region, r.treatment_region, r.scheme) for r in conn.execute(
            select(medical_clearing).where(medical_clearing.c.month == start))}
        rows = [r for r in rows if (r[0], r[1], r[2]) not in done and r[3]
                and policy.in_region(actor, r[0]) and policy.in_region(actor, r[1])]
        if not rows:
            return {"month": start.isoformat(), "pairs": 0, "amount_fen": 0}
        lines: dict[tuple[str, str], list[Line]] = {}
        for ins, tr, scheme, amount, _n in rows:
            amount = int(amount)
            lines.setdefault((ins, scheme), []).extend([
                Line.debit(account_code(ins, scheme, "transfer_clearing"), amount),
                Line.credit(account_code(ins, scheme, "fund_bank"), amount)])
            lines.setdefault((tr, scheme), []).extend([
                Line.debit(account_code(tr, scheme, "fund_bank"), amount),
                Line.credit(account_code(tr, scheme, "transfer_clearing"), amount)])
        key = f"medical-clear:{start.isoformat()}:{len(done)}"
        batch = Batch([BatchEntry(r, s, month_end(start), tuple(ls), source="medical.clearing",
                                  memo=f"off-site clearing {start:%Y-%m}")
                       for (r, s), ls in sorted(lines.items())])
        ledger.post_batch(conn, actor, key, batch)
        conn.execute(insert(medical_clearing), [
            {"month": start, "insured_region": ins, "treatment_region": tr, "scheme": scheme,
             "amount_fen": int(amount), "claims": int(n), "ledger_key": key,
             "created_by": actor.id, "created_at": now()} for ins, tr, scheme, amount, n in rows])
        total = sum(int(r[3]) for r in rows)
        audit.record(conn, actor, "medical.clearing", "month", start.isoformat(),
                     detail={"pairs": len(rows), "amount_fen": total})
    return {"month": start.isoformat(), "pairs": len(rows), "amount_fen": total}


__all__ = ["register", "revoke", "clear", "ITEM"]
