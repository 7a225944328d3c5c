"""Recovery of benefit payments that were not due (paid after death or after a stop event,
or reduced on review): by instalments the person (or the estate) pays, or by set-off against
the person's later benefit payments.

    open_for_payments(conn, actor, person_id, award_ids, from_month, reason) -> list[dict]
    open_recovery(db, actor, person_id, region, scheme, amount_fen, reason, award_id=None,
                  method="instalments", instalment_fen=None) -> id
    record_instalment(db, actor, recovery_id, fen) -> status
    set_method(db, actor, recovery_id, method, instalment_fen=None)
    apply_setoffs(conn, actor, run_id, region, month) -> (fen, cancelled)  # by the payroll

Ledger (scheme of the payment, the region's chart; debit +, credit −):

    open        Dr receivable_individual  Cr pooled_fund       key recovery:<id>
    instalment  Dr fund_bank              Cr receivable_individual
                                                              key recovery:<id>:<n>
    set-off     Dr benefits_payable       Cr receivable_individual
                                                              key recovery-setoff:<run>:<id>
"""
from __future__ import annotations

from sqlalchemy import and_, func, insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.db.uow import now, transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import EntryRequest, Line, account_code
from shebao.security import audit

from .tables import benefit_award_line, benefit_recovery, payment

METHODS = ("instalments", "setoff")


def _post_open(conn, actor: Actor, rid: int, region: str, scheme: str, fen: int,
               reason: str) -> None:
    ledger.post_entry(conn, actor, f"recovery:{rid}", EntryRequest(
        now().date(), (Line.debit(account_code(region, scheme, "receivable_individual"), fen),
                       Line.credit(account_code(region, scheme, "pooled_fund"), fen)),
        source="payroll", memo=f"benefit recovery {rid}: {reason}"[:200]))


def _insert(conn, actor: Actor, person_id: int, region: str, scheme: str, fen: int,
            reason: str, award_id, method: str, instalment_fen) -> int:
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}", field="method", value=method)
    rid = conn.execute(insert(benefit_recovery).values(
        person_id=person_id, award_id=award_id, region=region, scheme=scheme, amount_fen=fen,
        recovered_fen=0, method=method, instalment_fen=instalment_fen, reason=reason[:200],
        status="open", created_by=actor.id, created_at=now())
        .returning(benefit_recovery.c.id)).scalar_one()
    _post_open(conn, actor, rid, region, scheme, fen, reason)
    return rid


def open_for_payments(conn, actor: Actor, person_id: int, award_ids: list[int], from_month,
                      reason: str) -> list[dict]:
    """Payments sent or paid for months from ``from_month`` on lines of ``award_ids`` (or
    lines paying ``person_id`` as a payee) → one recovery per award (caller's transaction)."""
    q = select(payment.c.award_id, payment.c.region, payment.c.scheme,
               func.sum(payment.c.amount_fen)).select_from(
        payment.join(benefit_award_line, benefit_award_line.c.id == payment.c.line_id)).where(
        payment.c.line_id != 0, payment.c.status.in_(("sent", "paid")),
        payment.c.month >= from_month, benefit_award_line.c.kind == "monthly")
    if award_ids:
        q = q.where((payment.c.award_id.in_(award_ids)) | (payment.c.person_id == person_id))
    else:
        q = q.where(payment.c.person_id == person_id)
    out = []
    for aid, region, scheme, fen in conn.execute(q.group_by(
            payment.c.award_id, payment.c.region, payment.c.scheme)).all():
        if not fen:
            continue
        rid = _insert(conn, actor, person_id, region, scheme, int(fen), reason, aid,
                      "instalments", None)
        out.append({"recovery_id": rid, "award_id": aid, "amount": fen_to_yuan_str(int(fen))})
    return out


def open_recovery(db, actor: Actor, person_id: int, region: str, scheme: str, amount_fen: int,
                  reason: str, *, award_id: int | None = None, method: str = "instalments",
                  instalment_fen: int | None = None) -> int:
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InputError("the amount to recover must be positive fen", field="amount_fen")
    with transaction(db) as conn:
        rid = _insert(conn, actor, person_id, region, scheme, amount_fen, reason, award_id,
                      method, instalment_fen)
        audit.record(conn, actor, "benefit.recovery.open", "person", person_id, purpose=reason,
                     detail={"recovery_id": rid, "amount": fen_to_yuan_str(amount_fen),
                             "method": method})
        return rid


def _get(conn, rid: int):
    r = conn.execute(select(benefit_recovery).where(benefit_recovery.c.id == rid)).first()
    if r is None:
        raise InputError(f"no recovery {rid}", field="recovery_id")
    return r


def record_instalment(db, actor: Actor, recovery_id: int, fen: int) -> str:
    """An instalment received (bank): recovered += fen; recovered when complete."""
    if not isinstance(fen, int) or fen <= 0:
        raise InputError("an instalment must be positive fen", field="fen")
    with transaction(db) as conn:
        r = _get(conn, recovery_id)
        if r.status != "open":
            raise ConflictError(f"recovery {recovery_id} is {r.status}")
        left = r.amount_fen - r.recovered_fen
        if fen > left:
            raise InputError(f"only {fen_to_yuan_str(left)} is left to recover", field="fen")
        n = conn.execute(select(func.count()).select_from(benefit_recovery).where(
            benefit_recovery.c.id == recovery_id)).scalar_one()
        key = f"recovery:{recovery_id}:{r.recovered_fen}+{fen}:{n}"
        ledger.post_entry(conn, actor, key, EntryRequest(
            now().date(), (Line.debit(account_code(r.region, r.scheme, "fund_bank"), fen),
                           Line.credit(account_code(r.region, r.scheme,
                                                    "receivable_individual"), fen)),
            source="payroll", memo=f"instalment of recovery {recovery_id}"))
        status = "recovered" if fen == left else "open"
        conn.execute(update(benefit_recovery).where(benefit_recovery.c.id == recovery_id)
                     .values(recovered_fen=r.recovered_fen + fen, status=status))
        audit.record(conn, actor, "benefit.recovery.instalment", "person", r.person_id,
                     detail={"recovery_id": recovery_id, "fen": fen, "status": status})
        return status


def set_method(db, actor: Actor, recovery_id: int, method: str,
               instalment_fen: int | None = None) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}", field="method", value=method)
    with transaction(db) as conn:
        r = _get(conn, recovery_id)
        conn.execute(update(benefit_recovery).where(benefit_recovery.c.id == recovery_id)
                     .values(method=method, instalment_fen=instalment_fen))
        audit.record(conn, actor, "benefit.recovery.method", "person", r.person_id,
                     detail={"recovery_id": recovery_id, "method": method,
                             "instalment_fen": instalment_fen})


def apply_setoffs(conn, actor: Actor, run_id: int, region: str, month) -> tuple[int, int]:
    """Set open ``setoff`` recoveries of the region off against this run's computed payments
    of the same person and scheme (each payment reduced by at most the instalment, or the
    amount left; never below zero). One statement to find them: the set-off recoveries are
    few. Returns (fen set off, payments set off entirely — cancelled, not sent)."""
    recs = conn.execute(select(benefit_recovery).where(
        benefit_recovery.c.region == region, benefit_recovery.c.status == "open",
        benefit_recovery.c.method == "setoff")).all()
    total = gone = 0
    for r in recs:
        pays = conn.execute(select(payment.c.id, payment.c.amount_fen).where(
            payment.c.run_id == run_id, payment.c.person_id == r.person_id,
            payment.c.scheme == r.scheme, payment.c.status == "computed",
            payment.c.payee_type == "person").order_by(payment.c.id)).all()
        left = r.amount_fen - r.recovered_fen
        cap = min(left, r.instalment_fen or left)
        taken = 0
        for p in pays:
            take = min(cap - taken, int(p.amount_fen))
            if take <= 0:
                break
            if take == int(p.amount_fen):      # set off entirely: the payment is not sent
                conn.execute(update(payment).where(payment.c.id == p.id).values(
                    status="cancelled", return_reason=f"set off: recovery {r.id}"))
                gone += 1
            else:
                conn.execute(update(payment).where(payment.c.id == p.id).values(
                    amount_fen=payment.c.amount_fen - take))
            taken += take
        if not taken:
            continue
        ledger.post_entry(conn, actor, f"recovery-setoff:{run_id}:{r.id}", EntryRequest(
            month, (Line.debit(account_code(region, r.scheme, "benefits_payable"), taken),
                    Line.credit(account_code(region, r.scheme, "receivable_individual"),
                                taken)),
            source="payroll", memo=f"set-off of recovery {r.id} in payroll run {run_id}"))
        conn.execute(update(benefit_recovery).where(benefit_recovery.c.id == r.id).values(
            recovered_fen=r.recovered_fen + taken,
            status="recovered" if taken == left else "open"))
        total += taken
    return total, gone


__all__ = ["open_for_payments", "open_recovery", "record_instalment", "set_method",
           "apply_setoffs", "METHODS"]
