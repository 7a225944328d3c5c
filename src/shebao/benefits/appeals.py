"""Review of a benefit decision on appeal (复核 before administrative reconsideration).

    file_appeal(db, actor, case_id, grounds, filed_on=None) -> appeal case id
    review(db, reviewer, appeal_id, outcome, reason, facts=None) -> dict   # maker
    approve_review(db, checker, appeal_id) -> dict                         # checker

The applicant (or a clerk for them) files within ``appeal.limits.reconsideration_days`` of
the decision: a case of item ``benefit.reconsideration`` whose parent is the decided case.
A **different officer** reviews it — never the maker nor the checker of the decision under
appeal — and proposes ``upheld`` or ``changed`` (with corrected facts: the claim is
recomputed from them); a second officer checks (four eyes, ``duties.BENEFIT_APPEAL``).

A change takes effect on approval (:func:`apply_change`): from the first month no payroll
has covered yet (``resume``: the month after the region's latest payroll run) the award pays the new lines; for each earlier month the new
monthly amount is compared with what was paid, and one-off amounts likewise, so the
difference becomes one ``review_back_pay`` line (owed to the person) or a recovery (paid too
much). A refusal changed into a grant creates the award, with the months since its start as
back pay.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select, update

from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months, month_str
from shebao.db.uow import now, transaction
from shebao.rules import load_rules
from shebao.security import audit

from . import awards, casework_compute, recovery
from .casework import _gather, _json
from .claims import MONTHLY, ONCE, LineSpec, lines_of
from .awards import _d
from .tables import benefit_award, benefit_award_line, benefit_claim, payment, payroll_run

OUTCOMES = ("upheld", "changed")
ITEM = "benefit.reconsideration"


def _today() -> dt.date:
    return now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def _officers(conn, case_id: int) -> set[str]:
    """Who made and who checked the decision of a case (from its events)."""
    out = set()
    for e in case_queries.events(conn, case_id):
        if e["action"] in ("submit_decision", "approve_decision", "decide"):
            out.add(e["actor"])
    return out


def file_appeal(db, actor: Actor, case_id: int, grounds: str,
                filed_on: dt.date | None = None) -> int:
    if not (grounds and grounds.strip()):
        raise InputError("an appeal needs its grounds", field="grounds")
    filed_on = filed_on or _today()
    with transaction(db) as conn:
        orig = case_queries.get(conn, case_id)
        if orig.item == ITEM or not orig.item.startswith("benefit."):
            raise InputError(f"case {case_id} is not a benefit decision", field="case_id")
        if orig.status not in ("decided", "closed") or orig.decided_on is None:
            raise ConflictError(f"case {case_id} has no decision to appeal against")
        if filed_on < orig.decided_on:
            raise InputError("an appeal cannot precede the decision", field="filed_on")
        days = int(load_rules().value("appeal.limits", orig.region,
                                      orig.decided_on)["reconsideration_days"])
        if (filed_on - orig.decided_on).days > days:
            raise ConflictError(f"the decision of {orig.decided_on} can no longer be appealed: "
                                f"{days} days have passed (行政复议法)")
        cid = cases.open_case(conn, actor, item=ITEM, region=orig.region, subject_type="person",
                              subject_id=orig.person_id, person_id=orig.person_id,
                              employer_id=orig.employer_id,
                              channel="online" if actor.role in ("citizen", "employer")
                              else "counter",
                              detail={"appeal_of": case_id, "grounds": grounds.strip()[:1000]},
                              opened_on=filed_on, parent_id=case_id)
        audit.record(conn, actor, "benefit.appeal.file", "case", cid,
                     detail={"appeal_of": case_id})
        return cid


def review(db, reviewer: Actor, appeal_id: int, outcome: str, reason: str,
           facts: dict | None = None) -> dict:
    """The reviewing officer's proposal, submitted for the check."""
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {OUTCOMES}", field="outcome", value=outcome)
    if not (reason and reason.strip()):
        raise InputError("a review needs its reasons", field="reason")
    with transaction(db) as conn:
        ap = case_queries.get(conn, appeal_id)
        if ap.item != ITEM or ap.parent_id is None:
            raise InputError(f"case {appeal_id} is not an appeal", field="appeal_id")
        if reviewer.id in _officers(conn, ap.parent_id):
            raise PermissionDenied(f"{reviewer.id} took part in the decision under appeal: a "
                                   f"different officer reviews it")
        detail = {"appeal_of": ap.parent_id, "outcome": outcome}
        if outcome == "changed":
            cl = conn.execute(select(benefit_claim).where(
                benefit_claim.c.case_id == ap.parent_id)).first()
            if cl is None:
                raise InputError("only benefit claims can be changed on review",
                                 field="appeal_id")
            rules = load_rules()
            merged = {**json.loads(cl.facts), **(facts or {})}
            full = _gather(conn, rules, cl.kind, -1, cl.person_id, cl.region, merged)
            detail["computation"] = casework_compute.compute(rules, cl.kind, cl.region,
                                                              full).as_json()
            detail["facts"] = merged
        if ap.status == "received":
            cases.start(conn, reviewer, appeal_id)
        aid = cases.submit_decision(conn, reviewer, appeal_id, outcome=outcome, detail=detail,
                                    reason=reason.strip()[:1000])
        return {"appeal_id": appeal_id, "approval_id": aid, "outcome": outcome,
                "computation": detail.get("computation")}


def approve_review(db, checker: Actor, appeal_id: int) -> dict:
    with transaction(db) as conn:
        ap = case_queries.get(conn, appeal_id)
        if checker.id in _officers(conn, ap.parent_id):
            raise PermissionDenied(f"{checker.id} took part in the decision under appeal")
        c = cases.approve_decision(conn, checker, appeal_id)
        out = {"appeal_id": appeal_id, "outcome": c.outcome}
        if c.outcome == "changed":
            out |= apply_change(conn, checker, c.parent_id, c.decision["computation"],
                                c.decision.get("facts") or {}, appeal_id)
        audit.record(conn, checker, "benefit.appeal.decided", "case", appeal_id,
                     detail={k: v for k, v in out.items() if k != "computation"})
        return out


def _paid(conn, award_id: int, kind: str, month: dt.date | None = None) -> int:
    q = select(func.coalesce(func.sum(payment.c.amount_fen), 0)).select_from(
        payment.join(benefit_award_line, benefit_award_line.c.id == payment.c.line_id)).where(
        payment.c.award_id == award_id, payment.c.line_id != 0,
        payment.c.status.in_(("computed", "sent", "paid")), benefit_award_line.c.kind == kind,
        benefit_award_line.c.payee_type != "fund")
    if month is not None:
        q = q.where(payment.c.month == month)
    return int(conn.execute(q).scalar_one())


def _in_force(lines: list[LineSpec], m: dt.date) -> int:
    return sum(ln.amount_fen for ln in lines if ln.kind == MONTHLY and ln.payee_type != "fund"
               and ln.start_month <= m and (ln.end_month is None or ln.end_month > m))


def apply_change(conn, actor: Actor, case_id: int, comp: dict, facts: dict,
                 appeal_id: int) -> dict:
    """Re-compute the award of ``case_id`` to ``comp`` (see the module doc)."""
    cl = conn.execute(select(benefit_claim).where(benefit_claim.c.case_id == case_id)).first()
    new = [ln for ln in lines_of(comp)]
    conn.execute(update(benefit_claim).where(benefit_claim.c.case_id == case_id).values(
        facts=_json(facts), computation=_json(comp)))
    last = conn.execute(select(func.max(payroll_run.c.month)).where(
        payroll_run.c.region == cl.region)).scalar()
    resume = add_months(_d(last), 1) if last is not None else _today().replace(day=1)
    src = f"review:{appeal_id}"
    if cl.award_id is None:
        if not new:
            return {"award_id": None, "back_pay": "0.00", "recovery": "0.00"}
        owed = 0
        for ln in new:
            if ln.kind == MONTHLY and ln.payee_type != "fund":
                m = ln.start_month
                while m < resume and (ln.end_month is None or m < ln.end_month):
                    owed += ln.amount_fen
                    m = add_months(m, 1)
        future = [_from(ln, resume) for ln in new if ln.kind == ONCE or
                  ln.end_month is None or ln.end_month > resume]
        if owed:
            future.append(LineSpec(ONCE, "review_back_pay", new[0].scheme, owed, resume,
                                   f"back pay on review (case {appeal_id})"))
        aid = awards.create_award(conn, actor, case_id=case_id, kind=cl.kind,
                                  person_id=cl.person_id, region=cl.region, lines=future,
                                  source=src)
        conn.execute(update(benefit_claim).where(benefit_claim.c.case_id == case_id).values(
            award_id=aid))
        return {"award_id": aid, "back_pay": fen_to_yuan_str(owed), "recovery": "0.00"}
    aid = cl.award_id
    a = conn.execute(select(benefit_award).where(benefit_award.c.id == aid)).first()
    first = min([ln.start_month for ln in new] or [resume])
    diff, m = 0, first
    while m < resume:
        diff += _in_force(new, m) - _paid(conn, aid, MONTHLY, m)
        m = add_months(m, 1)
    new_once = sum(ln.amount_fen for ln in new if ln.kind == ONCE)
    diff += new_once - _paid(conn, aid, ONCE)
    # the old lines end where the new ones take over; unpaid one-offs are replaced
    awards.end_lines(conn, aid, resume)
    conn.execute(update(benefit_award_line).where(
        benefit_award_line.c.award_id == aid, benefit_award_line.c.kind == ONCE,
        benefit_award_line.c.status == "active",
        ~benefit_award_line.c.id.in_(select(payment.c.line_id).where(
            payment.c.award_id == aid, payment.c.line_id != 0,
            payment.c.status.in_(("computed", "sent", "paid")))))
        .values(status="ended"))
    future = [_from(ln, resume) for ln in new if ln.kind == MONTHLY and
              (ln.end_month is None or ln.end_month > resume)]
    scheme = new[0].scheme if new else conn.execute(select(benefit_award_line.c.scheme).where(
        benefit_award_line.c.award_id == aid)).scalars().first()
    if diff > 0:
        future.append(LineSpec(ONCE, "review_back_pay", scheme, diff, resume,
                               f"back pay on review (case {appeal_id})"))
    awards.add_lines(conn, actor, aid, future, src)
    rec = 0
    if diff < 0:
        rec = -diff
        recovery._insert(conn, actor, cl.person_id, cl.region, scheme, rec,
                         f"decision changed on review (case {appeal_id})", aid,
                         "setoff" if future else "instalments", None)
    return {"award_id": aid, "back_pay": fen_to_yuan_str(max(diff, 0)),
            "recovery": fen_to_yuan_str(rec), "from": month_str(resume)}


def _from(ln: LineSpec, resume: dt.date) -> LineSpec:
    if ln.kind == ONCE or ln.start_month >= resume:
        return ln
    return LineSpec(ln.kind, ln.code, ln.scheme, ln.amount_fen, resume, ln.basis, ln.end_month,
                    ln.payee_type, ln.payee_id, ln.fund_account)
