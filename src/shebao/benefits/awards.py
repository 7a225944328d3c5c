"""Awards of every benefit other than the pension: lines, suspension, resumption, stop.

    create_award(conn, actor, case, kind, person_id, region, lines) -> award id
    suspend_awards(conn, actor, person_id, from_month, reason) -> int      # awards suspended
    resume_awards(conn, actor, person_id, from_month, back_pay, reason) -> ResumeResult
    stop_awards(conn, actor, person_id, from_date, reason) -> StopResult
    stop_awards_from_month(conn, actor, person_id, month, reason, kinds=None) -> StopResult
    awards_of(bind, person_id) -> list[dict]                               # with their lines

An award is what a granted claim pays: lines (``claims.LineSpec``) each with its amount,
start and end month, scheme, payee and legal basis. The payroll (``payroll`` + ``award_lines``)
pays every active line in force for the month unless the award is suspended that month.

**Suspension** (a failed living certification, a person who cannot be found): from a month,
until resumed; the suspended months are not paid. **Resumption** from a month closes the
suspension; with ``back_pay`` the months not paid become one ``back_pay`` line payable at
once (the sum of the monthly lines in force in each suspended month), without it they are
lost (e.g. a person found to have been abroad). **Stop** (death, a stop event): the award
pays the months before ``stopped_from`` and nothing after; lines are ended, not deleted, and
what was already paid for later months is recovered (``recovery.open_for_payments``).

Each function joins the caller's transaction (``db.uow.transaction``) and writes one audit row.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, insert, or_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months, month_str
from shebao.core.schemes import SCHEMES
from shebao.db.uow import now, reading, transaction
from shebao.security import audit

from .claims import MONTHLY, ONCE, LineSpec
from .tables import (benefit_award, benefit_award_line, benefit_suspension, pension_award,
                     pension_award_amount)

# awards paid *because of* a person's death: that death never stops them
SURVIVOR_KINDS = ("injury_death", "survivors")
# a ``fund`` line pays another scheme's fund; its payee id is that scheme's index in SCHEMES
FUND_TARGET = {"medical_premium": "medical"}


def _d(v) -> dt.date | None:
    if v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _month(d: dt.date, field: str) -> dt.date:
    if not isinstance(d, dt.date):
        raise InputError(f"{field} must be a date", field=field, value=d)
    return d.replace(day=1)


def _line_row(award_id: int, person_id: int, region: str, ln: LineSpec, source: str,
              t) -> dict:
    if ln.payee_type == "fund":
        payee = SCHEMES.index(FUND_TARGET[ln.code])
    else:
        payee = ln.payee_id if ln.payee_id is not None else person_id
    return dict(award_id=award_id, person_id=person_id, region=region, scheme=ln.scheme,
                kind=ln.kind, code=ln.code, amount_fen=int(ln.amount_fen),
                start_month=ln.start_month, end_month=ln.end_month,
                payee_type=ln.payee_type, payee_id=int(payee), fund_account=ln.fund_account,
                basis=ln.basis[:200], status="active", source=source[:40], created_at=t)


def create_award(conn, actor: Actor, *, case_id: int, kind: str, person_id: int, region: str,
                 lines: list[LineSpec], source: str = "decision") -> int:
    """The award of a granted claim with its lines (in the caller's transaction)."""
    lines = [ln for ln in lines if ln.amount_fen > 0]
    t = now()
    aid = conn.execute(insert(benefit_award).values(
        case_id=case_id, person_id=person_id, region=region, kind=kind, status="active",
        created_by=actor.id, created_at=t).returning(benefit_award.c.id)).scalar_one()
    if lines:
        conn.execute(insert(benefit_award_line),
                     [_line_row(aid, person_id, region, ln, source, t) for ln in lines])
    audit.record(conn, actor, "benefit.award.create", "benefit_award", aid,
                 detail={"case_id": case_id, "kind": kind, "person_id": person_id,
                         "lines": [{"code": ln.code, "kind": ln.kind,
                                    "amount": fen_to_yuan_str(ln.amount_fen),
                                    "from": month_str(ln.start_month),
                                    "until": month_str(ln.end_month) if ln.end_month else None,
                                    "basis": ln.basis} for ln in lines]})
    return aid


def add_lines(conn, actor: Actor, award_id: int, lines: list[LineSpec], source: str) -> int:
    a = conn.execute(select(benefit_award).where(benefit_award.c.id == award_id)).first()
    if a is None:
        raise InputError(f"no award {award_id}", field="award_id")
    lines = [ln for ln in lines if ln.amount_fen > 0]
    if lines:
        conn.execute(insert(benefit_award_line),
                     [_line_row(award_id, a.person_id, a.region, ln, source, now())
                      for ln in lines])
    return len(lines)


def end_lines(conn, award_id: int, month: dt.date) -> int:
    """End the award's lines from ``month``: monthly lines pay the months before it, one-off
    lines due from ``month`` on are ended unpaid (those due earlier stay payable)."""
    n = conn.execute(update(benefit_award_line).where(and_(
        benefit_award_line.c.award_id == award_id, benefit_award_line.c.status == "active",
        benefit_award_line.c.kind == MONTHLY, benefit_award_line.c.start_month >= month))
        .values(status="ended", end_month=benefit_award_line.c.start_month)).rowcount
    n += conn.execute(update(benefit_award_line).where(and_(
        benefit_award_line.c.award_id == award_id, benefit_award_line.c.status == "active",
        benefit_award_line.c.kind == MONTHLY, benefit_award_line.c.start_month < month,
        or_(benefit_award_line.c.end_month.is_(None), benefit_award_line.c.end_month > month)))
        .values(end_month=month)).rowcount
    n += conn.execute(update(benefit_award_line).where(and_(
        benefit_award_line.c.award_id == award_id, benefit_award_line.c.status == "active",
        benefit_award_line.c.kind == ONCE, benefit_award_line.c.start_month >= month))
        .values(status="ended")).rowcount
    return n


def end_code_lines(conn, person_id: int, code: str, month: dt.date) -> int:
    """End the person's active monthly lines of ``code`` (in any award) from ``month``: they
    pay the months before it; a line not started by then is ended unpaid."""
    own = and_(benefit_award_line.c.person_id == person_id,
               benefit_award_line.c.code == code, benefit_award_line.c.kind == MONTHLY,
               benefit_award_line.c.status == "active")
    n = conn.execute(update(benefit_award_line).where(
        own, benefit_award_line.c.start_month >= month).values(
        status="ended", end_month=benefit_award_line.c.start_month)).rowcount
    n += conn.execute(update(benefit_award_line).where(
        own, benefit_award_line.c.start_month < month,
        or_(benefit_award_line.c.end_month.is_(None), benefit_award_line.c.end_month > month))
        .values(end_month=month)).rowcount
    return n


def _active_awards(conn, person_id: int, kinds=None) -> list:
    q = select(benefit_award).where(benefit_award.c.person_id == person_id,
                                    benefit_award.c.status == "active")
    if kinds:
        q = q.where(benefit_award.c.kind.in_(list(kinds)))
    return conn.execute(q.order_by(benefit_award.c.id)).all()


def suspend_awards(db, actor: Actor, person_id: int, from_month: dt.date, reason: str) -> int:
    """Suspend every active award of the person from ``from_month`` (a month already
    suspended stays so). Returns the number of awards suspended."""
    m = _month(from_month, "from_month")
    if not (reason and reason.strip()):
        raise InputError("a suspension needs a reason", field="reason")
    with transaction(db) as conn:
        n = 0
        targets = [("award_id", a.id) for a in _active_awards(conn, person_id)]
        targets += [("pension_award_id", pid) for pid in conn.execute(
            select(pension_award.c.id).where(pension_award.c.person_id == person_id,
                                             pension_award.c.status == "active")).scalars()]
        for col, aid in targets:
            open_ = conn.execute(select(benefit_suspension.c.id).where(
                benefit_suspension.c[col] == aid,
                benefit_suspension.c.to_month.is_(None))).first()
            if open_:
                continue
            conn.execute(insert(benefit_suspension).values(
                **{col: aid}, person_id=person_id, from_month=m,
                reason=reason.strip()[:200], created_by=actor.id, created_at=now()))
            n += 1
        audit.record(conn, actor, "benefit.award.suspend", "person", person_id,
                     purpose=reason, detail={"from": month_str(m), "awards": n})
        return n


@dataclass
class ResumeResult:
    awards: int
    back_pay_fen: int
    months: int


def _monthly_in_force(conn, award_id: int, month: dt.date) -> int:
    rows = conn.execute(select(benefit_award_line.c.amount_fen).where(
        benefit_award_line.c.award_id == award_id, benefit_award_line.c.kind == MONTHLY,
        benefit_award_line.c.payee_type != "fund",
        benefit_award_line.c.start_month <= month,
        or_(benefit_award_line.c.end_month.is_(None),
            benefit_award_line.c.end_month > month))).scalars().all()
    return sum(int(x) for x in rows)


def resume_awards(db, actor: Actor, person_id: int, from_month: dt.date, back_pay: bool,
                  reason: str) -> ResumeResult:
    """Close the person's open suspensions: payment resumes from ``from_month``; with
    ``back_pay`` the suspended months before it are paid as one ``back_pay`` line."""
    m = _month(from_month, "from_month")
    if not (reason and reason.strip()):
        raise InputError("a resumption needs a reason", field="reason")
    with transaction(db) as conn:
        rows = conn.execute(select(benefit_suspension).where(
            benefit_suspension.c.person_id == person_id,
            benefit_suspension.c.to_month.is_(None))).all()
        total = months = 0
        for s in rows:
            start = _d(s.from_month)
            if m < start:
                raise ConflictError(f"suspension {s.id} began in {month_str(start)}; "
                                    f"payment cannot resume before it")
            conn.execute(update(benefit_suspension).where(benefit_suspension.c.id == s.id)
                         .values(to_month=m, back_pay=1 if back_pay else 0,
                                 resumed_by=actor.id, resumed_at=now()))
            if not back_pay:
                continue
            owed, k = 0, start
            while k < m:
                owed += (_monthly_in_force(conn, s.award_id, k) if s.award_id else
                         _pension_in_force(conn, s.pension_award_id, k))
                k = add_months(k, 1)
                months += 1
            if owed and s.pension_award_id:
                total += owed
                _pension_back_pay(conn, actor, s, person_id, start, m, owed, reason)
            elif owed:
                a = conn.execute(select(benefit_award).where(
                    benefit_award.c.id == s.award_id)).first()
                scheme = conn.execute(select(benefit_award_line.c.scheme).where(
                    benefit_award_line.c.award_id == a.id)).scalars().first()
                add_lines(conn, actor, a.id, [LineSpec(
                    ONCE, "back_pay", scheme, owed, m,
                    f"back pay {month_str(start)}..{month_str(add_months(m, -1))}: {reason}"[:200])],
                    source=f"resume:{s.id}")
                total += owed
        audit.record(conn, actor, "benefit.award.resume", "person", person_id,
                     purpose=reason, detail={"from": month_str(m), "back_pay": back_pay,
                                             "suspensions": len(rows),
                                             "back_pay_total": fen_to_yuan_str(total)})
        return ResumeResult(len(rows), total, months)


def _pension_in_force(conn, pension_award_id: int, month: dt.date) -> int:
    a = conn.execute(select(pension_award).where(pension_award.c.id == pension_award_id)).first()
    if a is None or _d(a.start_month) > month:
        return 0
    r = conn.execute(select(pension_award_amount.c.monthly_fen).where(
        pension_award_amount.c.award_id == pension_award_id,
        pension_award_amount.c.effective_from <= month).order_by(
        pension_award_amount.c.effective_from.desc(), pension_award_amount.c.id.desc())
        .limit(1)).scalar()
    return int(r if r is not None else a.monthly_fen)


def _pension_back_pay(conn, actor: Actor, s, person_id: int, start: dt.date, m: dt.date,
                      owed: int, reason: str) -> None:
    """A pension's suspended months paid back: an award of kind ``pension_back_pay`` with one
    line from the pooled pension fund (the case is the pension's case)."""
    pa = conn.execute(select(pension_award).where(
        pension_award.c.id == s.pension_award_id)).first()
    create_award(conn, actor, case_id=int(pa.case_id), kind="pension_back_pay",
                 person_id=person_id, region=pa.region, lines=[LineSpec(
                     ONCE, "back_pay", "pension", owed, m,
                     f"pension back pay {month_str(start)}..{month_str(add_months(m, -1))}: "
                     f"{reason}"[:200])], source=f"resume:{s.id}")


@dataclass
class StopResult:
    awards: int
    stopped_from: dt.date
    recoveries: list


def stop_awards_from_month(db, actor: Actor, person_id: int, month: dt.date, reason: str,
                           kinds=None, exclude_kinds=SURVIVOR_KINDS) -> StopResult:
    """Stop the person's active awards (of ``kinds``, default all) from ``month`` (the first
    month not paid); lines paying this person as a dependant or heir end too. Payments
    already made for later months become recoveries."""
    from .recovery import open_for_payments

    m = _month(month, "month")
    with transaction(db) as conn:
        awards = [a for a in _active_awards(conn, person_id, kinds)
                  if a.kind not in (exclude_kinds or ())]
        for a in awards:
            end_lines(conn, a.id, m)
            conn.execute(update(benefit_award).where(benefit_award.c.id == a.id).values(
                status="stopped", stopped_from=m, stop_reason=reason[:64]))
        if kinds is None:      # the person also stops receiving as someone else's payee
            for aid in conn.execute(select(benefit_award_line.c.award_id).where(
                    benefit_award_line.c.payee_type == "person",
                    benefit_award_line.c.payee_id == person_id,
                    benefit_award_line.c.person_id != person_id,
                    benefit_award_line.c.status == "active")).scalars().all():
                _end_payee_lines(conn, aid, person_id, m)
        rec = open_for_payments(conn, actor, person_id, [a.id for a in awards], m, reason)
        audit.record(conn, actor, "benefit.award.stop", "person", person_id, purpose=reason,
                     detail={"from": month_str(m), "awards": [a.id for a in awards],
                             "recoveries": rec})
        return StopResult(len(awards), m, rec)


def _end_payee_lines(conn, award_id: int, payee_id: int, m: dt.date) -> None:
    base = and_(benefit_award_line.c.award_id == award_id,
                benefit_award_line.c.payee_type == "person",
                benefit_award_line.c.payee_id == payee_id,
                benefit_award_line.c.status == "active")
    conn.execute(update(benefit_award_line).where(and_(
        base, benefit_award_line.c.kind == MONTHLY,
        or_(benefit_award_line.c.end_month.is_(None), benefit_award_line.c.end_month > m),
        benefit_award_line.c.start_month < m)).values(end_month=m))
    conn.execute(update(benefit_award_line).where(and_(
        base, benefit_award_line.c.start_month >= m)).values(status="ended"))


def stop_awards(db, actor: Actor, person_id: int, from_date: dt.date, reason: str, *,
                exclude_kinds=SURVIVOR_KINDS) -> StopResult:
    """Stop every award of the person after ``from_date`` (e.g. the death date): the month
    of ``from_date`` is still paid, nothing after it."""
    if not isinstance(from_date, dt.date):
        raise InputError("from_date must be a date", field="from_date", value=from_date)
    return stop_awards_from_month(db, actor, person_id, add_months(from_date.replace(day=1), 1),
                                  reason, exclude_kinds=exclude_kinds)


# ------------------------------------------------------------------------------ reads
def awards_of(bind, person_id: int) -> list[dict]:
    """The person's awards (newest first), each with its lines and suspensions."""
    with reading(bind) as conn:
        out = []
        for a in conn.execute(select(benefit_award).where(
                benefit_award.c.person_id == person_id).order_by(benefit_award.c.id.desc())):
            d = dict(a._mapping)
            d["lines"] = [dict(r._mapping) | {"amount": fen_to_yuan_str(r.amount_fen)}
                          for r in conn.execute(select(benefit_award_line).where(
                              benefit_award_line.c.award_id == a.id)
                              .order_by(benefit_award_line.c.id))]
            d["suspensions"] = [dict(r._mapping) for r in conn.execute(
                select(benefit_suspension).where(benefit_suspension.c.award_id == a.id)
                .order_by(benefit_suspension.c.id))]
            out.append(d)
        return out


def award_json(a: dict) -> dict:
    def iso(v):
        return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
    return json.loads(json.dumps({k: ([{kk: iso(vv) for kk, vv in x.items()} for x in v]
                                      if isinstance(v, list) else iso(v))
                                  for k, v in a.items()}, default=str))


def pension_back_pay_bulk(conn, actor: Actor, month: dt.date, person_ids, months,
                          basis: str, source: str) -> tuple[int, int]:
    """Set-based back pay (mobility's certification run, #15): for each person (int64 arrays
    ``person_ids`` and ``months`` ≥ 1) an award ``pension_back_pay`` per active pension award,
    with one ``once`` line of months × the pension in payment, payable from ``month``. Two
    statements for the whole batch; returns (awards created, total fen). The caller audits."""
    from sqlalchemy import text

    from shebao.db import bulk

    ids = np.asarray(person_ids, dtype=np.int64)
    n_months = np.asarray(months, dtype=np.int64)
    keep = n_months > 0
    if not keep.any():
        return 0, 0
    m = _month(month, "month")
    bulk.stage(conn, "back_pay_stage", [("person_id", "i8"), ("months", "i8")],
               {"person_id": ids[keep], "months": n_months[keep]})
    t = now()
    p = {"by": actor.id, "t": t, "m": m, "basis": basis[:200], "src": source[:40]}
    n = conn.execute(text(
        "INSERT INTO benefit_award (case_id, person_id, region, kind, status, created_by, "
        "created_at) SELECT a.case_id, a.person_id, a.region, 'pension_back_pay', 'active', "
        ":by, :t FROM pension_award a JOIN back_pay_stage s ON s.person_id = a.person_id "
        "WHERE a.status = 'active' AND a.monthly_fen > 0"), p).rowcount
    conn.execute(text(
        "INSERT INTO benefit_award_line (award_id, person_id, region, scheme, kind, code, "
        "amount_fen, start_month, end_month, payee_type, payee_id, fund_account, basis, status, "
        "source, created_at) SELECT b.id, b.person_id, b.region, 'pension', 'once', 'back_pay', "
        "s.months * a.monthly_fen, :m, NULL, 'person', b.person_id, 'pooled_fund', :basis, "
        "'active', :src, :t FROM benefit_award b "
        "JOIN back_pay_stage s ON s.person_id = b.person_id "
        "JOIN pension_award a ON a.case_id = b.case_id AND a.person_id = b.person_id "
        "AND a.status = 'active' AND a.monthly_fen > 0 "
        "WHERE b.kind = 'pension_back_pay' AND b.created_at = :t AND b.created_by = :by"), p)
    total = conn.execute(text(
        "SELECT COALESCE(sum(l.amount_fen), 0) FROM benefit_award_line l JOIN benefit_award b "
        "ON b.id = l.award_id WHERE b.kind = 'pension_back_pay' AND b.created_at = :t "
        "AND b.created_by = :by"), p).scalar_one()
    return int(n), int(total)
