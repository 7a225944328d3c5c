"""Pension life events: the annual proof of life (a failure stops payment), payments after a
recorded death found and recovered. The ledger entries are listed in :mod:`.payroll`."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, func, insert, select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months
from shebao.db.uow import now as _now
from shebao.db.uow import transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, EntryRequest, Line, account_code
from shebao.registry import queries as registry_queries
from shebao.security import audit, policy

from .access import require_in_region
from .tables import living_certification, overpayment, payment, pension_award
from .payroll import SCHEME, _date


# ------------------------------------------------------------------------------ life events
def record_living_certification(db, actor: Actor, person_id: int, year: int, passed: bool,
                                checked_on: dt.date, method: str = "counter") -> int:
    """Annual proof of life. A failure stops payment from the month after ``checked_on``
    until a later certification passes."""
    if checked_on > dt.date.today():
        raise InputError("checked_on is in the future", field="checked_on")
    with transaction(db) as conn:
        p = registry_queries.person_facts(conn, [person_id]).get(person_id)
        if p is None:
            raise InputError(f"no person {person_id}", field="person_id")
        if actor.role != "system":
            policy.require(actor, "pension.compute")
            policy.require_region(actor, p["pension_region"])
        lid = conn.execute(insert(living_certification).values(
            person_id=person_id, year=year, passed=1 if passed else 0, checked_on=checked_on,
            method=method, recorded_by=actor.id, recorded_at=_now()
        ).returning(living_certification.c.id)).scalar_one()
        audit.record(conn, actor, "pension.living_certification", "person", person_id,
                     detail={"year": year, "passed": passed, "checked_on": checked_on,
                             "method": method})
        return lid


@dataclass
class OverpaymentResult:
    region: str
    n: int
    total_fen: int
    awards_stopped: int


def detect_overpayments(db, actor: Actor, region: str) -> OverpaymentResult:
    """Payments sent or paid for months after a recorded death become overpayments to recover
    (with a ledger entry: receivable from the estate; the pooled share back to the pooled fund
    and the account share back to the — inheritable — individual account); the award stops
    from the month after the death."""
    require_in_region(actor, "payroll.prepare", region)
    with transaction(db) as conn:
        rows = conn.execute(text(
            "SELECT p.id, p.person_id, p.award_id, p.month, p.amount_fen, p.account_part_fen, "
            f"r.death_date FROM payment p JOIN ({registry_queries.payees_sql()}) r "
            "ON r.person_id = p.person_id "
            "WHERE p.region = :g AND p.scheme = 'pension' AND p.status IN ('sent', 'paid') "
            "AND r.death_date IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM overpayment o WHERE o.payment_id = p.id) "
            "ORDER BY p.person_id, p.month"), {"g": region}).all()
        over = [r for r in rows if _date(r.month) > _date(r.death_date).replace(day=1)]
        deaths = {r.person_id: _date(r.death_date) for r in rows}
        stopped = 0
        for pid, d in deaths.items():
            stopped += conn.execute(update(pension_award).where(and_(
                pension_award.c.person_id == pid, pension_award.c.status == "active")).values(
                status="stopped", stop_month=add_months(d.replace(day=1), 1),
                stop_reason="death")).rowcount
        if not over:
            audit.record(conn, actor, "payroll.overpayment.detect", "region", region,
                         detail={"found": 0, "awards_stopped": stopped})
            return OverpaymentResult(region, 0, 0, stopped)
        total = sum(int(r.amount_fen) for r in over)
        acct = {}
        for r in over:
            acct[r.person_id] = acct.get(r.person_id, 0) + int(r.account_part_fen)
        pooled = total - sum(acct.values())
        lines = [Line.debit(account_code(region, SCHEME, "receivable_individual"), total)]
        if pooled:
            lines.append(Line.credit(account_code(region, SCHEME, "pooled_fund"), pooled))
        pids = np.array([p for p, v in acct.items() if v], dtype=np.int64)
        amts = -np.array([acct[p] for p in pids], dtype=np.int64)
        n_before = conn.execute(select(func.count()).select_from(overpayment)).scalar_one()
        res = ledger.post_batch(conn, actor, f"overpayment:{region}:{n_before}", Batch([
            BatchEntry(region, SCHEME, _now().date(), tuple(lines), pids, amts,
                       source="payroll", memo="payments after death, to recover")]))
        t = _now()
        conn.execute(insert(overpayment), [dict(
            person_id=r.person_id, payment_id=r.id, month=_date(r.month),
            amount_fen=int(r.amount_fen), reason="paid after death", status="open",
            recovered_fen=0, ledger_entry_id=res.entry_id, created_at=t) for r in over])
        audit.record(conn, actor, "payroll.overpayment.detect", "region", region,
                     detail={"found": len(over), "total": fen_to_yuan_str(total),
                             "ledger_entry": res.entry_id, "awards_stopped": stopped,
                             "basis": "payments stop from the month after death"})
        return OverpaymentResult(region, len(over), total, stopped)


def record_recovery(db, actor: Actor, overpayment_id: int, fen: int) -> str:
    """Money recovered (from the estate or a bank claw-back) against one overpayment."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen <= 0:
        raise InputError("recovered amount must be positive integer fen", field="fen")
    with transaction(db) as conn:
        o = conn.execute(select(overpayment, payment.c.region).join(
            payment, payment.c.id == overpayment.c.payment_id).where(
            overpayment.c.id == overpayment_id)).mappings().first()
        if o is None:
            raise InputError(f"no overpayment {overpayment_id}", field="overpayment_id")
        require_in_region(actor, "payroll.prepare", o["region"])
        left = o["amount_fen"] - o["recovered_fen"]
        if fen > left:
            raise InputError(f"only {fen_to_yuan_str(left)} is left to recover",
                             field="fen")
        region = o["region"]
        ledger.post_entry(conn, actor, f"overpayment-recovery:{overpayment_id}:"
                                       f"{o['recovered_fen']}", EntryRequest(
            _now().date(), (Line.debit(account_code(region, SCHEME, "fund_bank"), fen),
                            Line.credit(account_code(region, SCHEME, "receivable_individual"),
                                        fen)),
            source="payroll", memo=f"recovery of overpayment {overpayment_id}"))
        status = "recovered" if fen == left else "open"
        conn.execute(update(overpayment).where(overpayment.c.id == overpayment_id).values(
            recovered_fen=overpayment.c.recovered_fen + fen, status=status))
        audit.record(conn, actor, "payroll.overpayment.recover", "overpayment", overpayment_id,
                     detail={"amount": fen_to_yuan_str(fen), "status": status})
        return status


def record_certification_outcomes(conn, actor: Actor, person_ids, checked_days, passed: bool,
                                  method: str) -> int:
    """Set-based living certification (mobility's monthly run, #15): one row per person in
    ``living_certification`` (what payroll reads), upserted on person × year of ``checked_on``
    — a failure (checked the day before the first month not paid) stops payment; a later pass
    resumes it. ``checked_days`` are days since 1970-01-01 (int64, one per person). The caller
    audits the run; returns the rows written."""
    from shebao.db import bulk

    ids = np.asarray(person_ids, dtype=np.int64)
    days = np.asarray(checked_days, dtype=np.int64)
    if len(ids) == 0:
        return 0
    if actor.role != "system":
        policy.require(actor, "pension.compute")
    years = (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype(
        "datetime64[Y]").astype(np.int64) + 1970
    bulk.stage(conn, "lc_outcome_stage", [("person_id", "i8"), ("year", "i8"), ("day", "date")],
               {"person_id": ids, "year": years, "day": days})
    conn.execute(text(
        "INSERT INTO living_certification (person_id, year, passed, checked_on, method, "
        "recorded_by, recorded_at) SELECT person_id, year, :p, day, :m, :by, :at "
        "FROM lc_outcome_stage WHERE true ON CONFLICT (person_id, year) DO UPDATE SET "
        "passed = excluded.passed, checked_on = excluded.checked_on, method = excluded.method, "
        "recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at"),
        {"p": 1 if passed else 0, "m": method[:32], "by": actor.id, "at": _now()})
    return int(len(ids))
