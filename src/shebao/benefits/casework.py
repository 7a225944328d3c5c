"""Every benefit as a case: apply → checks → maker computes → checker approves → award.

    apply(db, actor, kind=, person_id=, region=, facts=, channel=, employer_id=,
          opened_on=) -> case id
    compute(db, maker, case_id, facts=None) -> dict          # checks + computation, stored
    submit(db, maker, case_id) -> approval id                 # four eyes (duties.BENEFIT_DECISION)
    approve(db, checker, case_id) -> dict                     # decided; award created if granted
    send_back(db, checker, case_id, reason)                   # the checker returns it to work
    claim(bind, case_id) -> dict                              # the claim with its computation

The case itself (status, due date, events, documents, the decision, notices to the applicant)
is the shared ``shebao.cases`` model; this module keeps the benefits bureau's detail
(``benefit_claim``: the facts and the computation) and acts on the approved decision in the
same transaction (``awards.create_award``).

**Checks against the records** (``_gather``), not taken from the applicant: the paid
contribution months (``history.history_rows``: legacy ∪ shebao's paid months; the months paid
since the last unemployment benefit, as the years count afresh after re-employment — the
employee pension months stand for the unemployment months, collected on the same bill [M]),
the months left by an earlier unemployment claim (carried into this one), whether the job
loss was involuntary (the registry's employment spell), whether a pension is in payment (no
unemployment benefit then), the own wage before an injury (average base of the 12 months
before it), the deceased's contribution months, pension and individual-account balance; for
a cost claim (``injury_costs``) the recognition decision it follows (the accident date, a late
employer's own-cost period) and, for a nursing allowance, a granted appraisal.

For claims made by survivors (``injury_death``, ``survivors``) the case is the applicant's
(``person_id`` = the claimant) and the award is the deceased's (``facts.deceased_person_id``):
the deceased's own awards stop from the month after death; the new award pays the survivors.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, select, update

from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months
from shebao.db.uow import now, reading, transaction
from shebao.ledger import queries as ledger_queries
from shebao.ledger.model import account_code
from shebao.registry import queries as registry_queries
from shebao.rules import load_rules
from shebao.security import audit

from . import awards, casework_compute, unemployment
from .claims import ITEM_OF_KIND, KINDS, lines_of
from .history import history_rows, shebao_months
from .tables import benefit_award, benefit_award_line, benefit_claim, benefit_suspension
from .tables import pension_award

SURVIVOR_KINDS = awards.SURVIVOR_KINDS


def _json(d) -> str:
    return json.dumps(d, sort_keys=True, ensure_ascii=False, default=str)


def _claim_row(conn, case_id: int):
    r = conn.execute(select(benefit_claim).where(benefit_claim.c.case_id == case_id)).first()
    if r is None:
        raise InputError(f"case {case_id} is not a benefit claim", field="case_id")
    return r


# ------------------------------------------------------------------------------ apply
def apply(db, actor: Actor, *, kind: str, person_id: int, region: str, facts: dict,
          channel: str = "counter", employer_id: int | None = None,
          opened_on: dt.date | None = None, parent_id: int | None = None) -> int:
    """Open the case of a claim (by the person online, by the employer, by a clerk)."""
    if kind not in KINDS:
        raise InputError(f"unknown benefit kind {kind!r} (one of {', '.join(KINDS)})",
                         field="kind", value=kind)
    if not isinstance(facts, dict):
        raise InputError("facts must be an object", field="facts")
    with transaction(db) as conn:
        if person_id not in registry_queries.person_facts(conn, [person_id]):
            raise InputError(f"no person {person_id}", field="person_id")
        cid = cases.open_case(conn, actor, item=ITEM_OF_KIND[kind], region=region,
                              subject_type="person", subject_id=person_id, person_id=person_id,
                              employer_id=employer_id, channel=channel,
                              detail={"kind": kind}, opened_on=opened_on, parent_id=parent_id)
        conn.execute(insert(benefit_claim).values(
            case_id=cid, kind=kind, person_id=person_id, region=region, facts=_json(facts),
            created_at=now()))
        audit.record(conn, actor, "benefit.claim.apply", "case", cid,
                     detail={"kind": kind, "person_id": person_id, "channel": channel})
        return cid


def _ensure_claim(conn, c):
    """The claim of a benefit case; a case opened through the generic online application
    (``/me/apply``: the case without the bureau's detail) gets its claim now, with no facts
    yet — the clerk adds them when computing."""
    r = conn.execute(select(benefit_claim).where(benefit_claim.c.case_id == c.id)).first()
    if r is not None:
        return r
    kinds = {v: k for k, v in ITEM_OF_KIND.items()}
    if c.item not in kinds or c.person_id is None:
        raise InputError(f"case {c.id} is not a benefit claim", field="case_id")
    conn.execute(insert(benefit_claim).values(
        case_id=c.id, kind=kinds[c.item], person_id=c.person_id, region=c.region,
        facts=_json((c.detail or {}).get("facts", {})), created_at=now()))
    return _claim_row(conn, c.id)


# ------------------------------------------------------------------------------ checks
def _paid_months(conn, person_id: int, since: dt.date | None) -> int:
    periods, _ = history_rows(conn, [person_id]).get(person_id, ([], []))
    total = 0
    for p in periods:
        if p.kind != "paid":
            continue
        if since is None or p.period_start >= since:
            total += p.months
        elif add_months(p.period_start, p.months) > since:     # a period across ``since``
            total += p.months - ((since.year - p.period_start.year) * 12
                                 + since.month - p.period_start.month)
    return total


def _previous_unemployment(conn, person_id: int, exclude_case: int) -> tuple:
    """(end of the last unemployment entitlement or None, months it left unused)."""
    a = conn.execute(select(benefit_award).where(
        benefit_award.c.person_id == person_id, benefit_award.c.kind == "unemployment",
        benefit_award.c.case_id != exclude_case).order_by(benefit_award.c.id.desc())).first()
    if a is None:
        return None, 0
    ln = conn.execute(select(benefit_award_line).where(
        benefit_award_line.c.award_id == a.id,
        benefit_award_line.c.code == "unemployment_benefit",
        benefit_award_line.c.source == "decision")).first()
    if ln is None:
        return None, 0
    start = ln.start_month if isinstance(ln.start_month, dt.date) else \
        dt.date.fromisoformat(str(ln.start_month))
    orig = json.loads(conn.execute(select(benefit_claim.c.computation).where(
        benefit_claim.c.case_id == a.case_id)).scalar_one() or "{}")
    months = int(orig.get("facts", {}).get("months", 0))
    end = add_months(start, months)
    stopped = a.stopped_from if a.status == "stopped" else None
    stopped = stopped if stopped is None or isinstance(stopped, dt.date) else \
        dt.date.fromisoformat(str(stopped))
    susp = 0
    for s in conn.execute(select(benefit_suspension).where(
            benefit_suspension.c.award_id == a.id)):
        f = s.from_month if isinstance(s.from_month, dt.date) else \
            dt.date.fromisoformat(str(s.from_month))
        t = s.to_month or stopped or end
        t = t if isinstance(t, dt.date) else dt.date.fromisoformat(str(t))
        susp += max((t.year - f.year) * 12 + t.month - f.month, 0)
    if a.status == "active":
        return end, 0          # still running: nothing to carry (it must stop first)
    left = unemployment.remaining_months(start, end, stopped, susp)
    return min(stopped or end, end), left


def _previous_appraisal(conn, person_id: int, exclude_case: int) -> dict | None:
    """The person's last granted appraisal (its case and computation), or None."""
    r = conn.execute(select(benefit_claim.c.case_id, benefit_claim.c.computation).where(
        benefit_claim.c.person_id == person_id, benefit_claim.c.kind == "injury_appraisal",
        benefit_claim.c.award_id.is_not(None), benefit_claim.c.case_id != exclude_case)
        .order_by(benefit_claim.c.case_id.desc())).first()
    if r is None or not r.computation:
        return None
    return {"case_id": r.case_id, **json.loads(r.computation)}


def _recognised_injury(conn, person_id: int, recognition_case_id) -> dict:
    """The accident a cost claim is for, from the person's recognition decision: its date and
    the day a late employer bears the costs until (工伤保险条例 第十七、三十条)."""
    if recognition_case_id in (None, ""):
        raise InputError("the claim needs the case of the injury's recognition",
                         field="recognition_case_id")
    try:
        rid = int(recognition_case_id)
    except (TypeError, ValueError):
        raise InputError("recognition_case_id must be a case number",
                         field="recognition_case_id", value=recognition_case_id) from None
    r = conn.execute(select(benefit_claim.c.person_id, benefit_claim.c.kind,
                            benefit_claim.c.computation).where(
        benefit_claim.c.case_id == rid)).first()
    if r is None or r.kind != "injury_recognition" or r.person_id != person_id:
        raise InputError(f"case {rid} is not a work-injury recognition of this person",
                         field="recognition_case_id", value=rid)
    c = case_queries.get(conn, rid)
    if c.status not in ("decided", "closed") or c.outcome != "recognised":
        raise ConflictError(f"case {rid} has not recognised a work injury: no injury costs "
                            f"are paid (工伤保险条例 第三十条)")
    facts = json.loads(r.computation or "{}").get("facts", {})
    return {"accident_date": facts.get("accident_date"),
            "employer_bears_costs_until": facts.get("employer_bears_costs_until")}


def _own_wage(conn, person_id: int, before: dt.date) -> int | None:
    """Average monthly contribution base of the 12 months before ``before`` (shebao's)."""
    months = shebao_months(conn, [person_id]).get(person_id, [])
    lo = add_months(before.replace(day=1), -12)
    bases = [m.base_fen for m in months if lo <= m.month < before.replace(day=1)]
    return sum(bases) // len(bases) if bases else None


def _individual_balance(conn, region: str, person_id: int) -> int:
    try:
        return int(ledger_queries.balance(conn, account_code(region, "pension", "individual",
                                                             person_id)))
    except InputError:
        return 0


def _gather(conn, rules, kind: str, case_id: int, person_id: int, region: str,
            facts: dict) -> dict:
    """The facts the records give, over the applicant's: see the module doc."""
    f = dict(facts)
    if kind == "unemployment":
        if conn.execute(select(pension_award.c.id).where(
                pension_award.c.person_id == person_id,
                pension_award.c.status == "active")).first():
            raise ConflictError("a pension is in payment: no unemployment benefit "
                                "(失业保险条例 第十五条第三项)")
        live = conn.execute(select(benefit_award.c.id).where(
            benefit_award.c.person_id == person_id, benefit_award.c.kind == "unemployment",
            benefit_award.c.status == "active", benefit_award.c.case_id != case_id)).first()
        if live:
            raise ConflictError(f"unemployment award {live.id} is still in payment")
        since, carried = _previous_unemployment(conn, person_id, case_id)
        f["contribution_months"] = _paid_months(conn, person_id, since)
        f["carried_months"] = carried
        f["counted_since"] = since.isoformat() if since else None
        if f.get("employment_id") is not None:
            sp = registry_queries.employment_of(conn, int(f["employment_id"]))
            if sp is None or int(sp["person_id"]) != person_id:
                raise InputError("no such employment of this person", field="employment_id")
            if sp.get("end_date") is None:
                raise ConflictError("the employment has not ended")
            f["involuntary"] = bool(sp.get("involuntary"))
            f["leave_reason"] = sp.get("leave_reason")
    elif kind == "injury_appraisal" and f.get("concluded_on"):
        prev = _previous_appraisal(conn, person_id, case_id)
        if prev is not None:
            review_from = prev["facts"].get("review_from")
            if review_from and str(f["concluded_on"])[:10] < review_from:
                raise ConflictError(f"a review appraisal may follow the last one only from "
                                    f"{review_from} (工伤保险条例 第二十八条)")
            f["review_of_case"] = prev["case_id"]
    elif kind == "injury_costs":
        f.update(_recognised_injury(conn, person_id, f.get("recognition_case_id")))
        if f.get("care_level") is not None and \
                _previous_appraisal(conn, person_id, case_id) is None:
            raise ConflictError("a nursing allowance needs a disability grade first: no granted "
                                "appraisal (工伤保险条例 第三十四条)")
    if kind in ("injury_appraisal", "injury_death") and f.get("own_wage_fen") is None:
        on = f.get("accident_date") or f.get("death_date") or f.get("concluded_on")
        subject = int(f.get("deceased_person_id") or person_id)
        if on:
            w = _own_wage(conn, subject, dt.date.fromisoformat(str(on)[:10]))
            if w is not None:
                f["own_wage_fen"] = w
    elif kind == "survivors":
        dead = int(f.get("deceased_person_id") or 0)
        info = registry_queries.person_facts(conn, [dead]).get(dead)
        if info is None:
            raise InputError("the deceased is not in the registry", field="deceased_person_id")
        if info.get("death_date") is None:
            raise ConflictError("the registry has no death recorded for the deceased")
        f["death_date"] = str(info["death_date"])[:10]
        f["contribution_months"] = _paid_months(conn, dead, None)
        pa = conn.execute(select(pension_award.c.monthly_fen).where(
            pension_award.c.person_id == dead)).first()
        f["monthly_pension_fen"] = int(pa.monthly_fen) if pa else 0
        f["account_balance_fen"] = max(_individual_balance(conn, region, dead), 0)
        f.setdefault("claimant_person_id", person_id)
    if kind == "injury_death":
        f.setdefault("claimant_person_id", person_id)
    return f


# ------------------------------------------------------------------------------ compute
def _staff(actor: Actor) -> None:
    if actor.role in ("citizen", "employer"):
        raise PermissionDenied("benefit claims are computed and decided by staff")


def compute(db, maker: Actor, case_id: int, facts: dict | None = None) -> dict:
    """The maker checks the claim against the records and computes it (stored; the case
    moves to in progress). ``facts`` adds or corrects what the applicant said."""
    _staff(maker)
    rules = load_rules()
    with transaction(db) as conn:
        c = case_queries.get(conn, case_id)
        cl = _ensure_claim(conn, c)
        if c.status not in ("received", "in_progress"):
            raise ConflictError(f"case {case_id} is {c.status}; it cannot be computed now")
        merged = {**json.loads(cl.facts), **(facts or {})}
        full = _gather(conn, rules, cl.kind, case_id, cl.person_id, cl.region, merged)
        comp = casework_compute.compute(rules, cl.kind, cl.region, full).as_json()
        if c.status == "received":
            cases.start(conn, maker, case_id)
        conn.execute(update(benefit_claim).where(benefit_claim.c.case_id == case_id).values(
            facts=_json(merged), computation=_json(comp), computed_by=maker.id,
            computed_at=now()))
        cases.note(conn, maker, case_id, f"computed: {comp['outcome']}",
                   detail={"lines": len(comp["lines"]), "reasons": comp["reasons"]})
        return comp


def submit(db, maker: Actor, case_id: int) -> int:
    with transaction(db) as conn:
        cl = _claim_row(conn, case_id)
        if not cl.computation:
            raise ConflictError(f"case {case_id} has not been computed")
        comp = json.loads(cl.computation)
        return cases.submit_decision(conn, maker, case_id, outcome=comp["outcome"],
                                     detail=comp, reason="; ".join(comp["reasons"]) or None)


def approve(db, checker: Actor, case_id: int) -> dict:
    """The check: the decision takes effect; a granted claim's award is created at once
    (and a death claim first stops the deceased's own awards)."""
    with transaction(db) as conn:
        cl = _claim_row(conn, case_id)
        c = cases.approve_decision(conn, checker, case_id)
        out = {"case_id": case_id, "outcome": c.outcome, "award_id": None}
        decision = c.decision or {}
        lines = lines_of(decision)
        if cl.kind in SURVIVOR_KINDS:
            facts = decision.get("facts", {})
            dead = int(facts.get("deceased_person_id") or cl.person_id)
            death = dt.date.fromisoformat(str(facts["death_date"])[:10])
            out["stopped"] = awards.stop_awards(conn, checker, dead, death,
                                                "death", exclude_kinds=SURVIVOR_KINDS).awards
            owner = dead
        else:
            owner = cl.person_id
        review_of = (decision.get("facts") or {}).get("review_of_case")
        if cl.kind == "injury_appraisal" and review_of and c.outcome == "granted" and lines:
            # a review appraisal: the new grade's monthly lines replace the old ones from
            # their start; the one-off disability grant was paid once and is not paid again
            old = conn.execute(select(benefit_claim.c.award_id).where(
                benefit_claim.c.case_id == int(review_of))).scalar()
            if old:
                awards.end_lines(conn, old, min(ln.start_month for ln in lines))
            lines = [ln for ln in lines if ln.code != "disability_grant"]
        nursing = [ln for ln in lines if ln.code == "nursing_allowance"]
        if cl.kind == "injury_costs" and c.outcome == "granted" and nursing:
            # a confirmed (new or changed) level of dependence replaces the nursing allowance
            # paid so far from the new one's first month
            awards.end_code_lines(conn, owner, "nursing_allowance", nursing[0].start_month)
        if c.outcome == "granted" and lines:
            aid = awards.create_award(conn, checker, case_id=case_id, kind=cl.kind,
                                      person_id=owner, region=cl.region, lines=lines)
            conn.execute(update(benefit_claim).where(benefit_claim.c.case_id == case_id)
                         .values(award_id=aid))
            out["award_id"] = aid
        audit.record(conn, checker, "benefit.claim.decided", "case", case_id,
                     detail={"kind": cl.kind, "outcome": c.outcome,
                             "award_id": out["award_id"],
                             "once": fen_to_yuan_str(sum(ln.amount_fen for ln in lines
                                                         if ln.kind == "once")),
                             "monthly": fen_to_yuan_str(sum(ln.amount_fen for ln in lines
                                                            if ln.kind == "monthly"))})
        return out


def send_back(db, checker: Actor, case_id: int, reason: str):
    with transaction(db) as conn:
        _claim_row(conn, case_id)
        return cases.reject_decision(conn, checker, case_id, reason=reason)


# ------------------------------------------------------------------------------ reads
def claim(bind, case_id: int) -> dict:
    """The claim's facts and computation (no access check: callers use ``access``)."""
    with reading(bind) as conn:
        cl = _claim_row(conn, case_id)
        return {"case_id": cl.case_id, "kind": cl.kind, "person_id": cl.person_id,
                "region": cl.region, "facts": json.loads(cl.facts),
                "computation": json.loads(cl.computation) if cl.computation else None,
                "computed_by": cl.computed_by, "award_id": cl.award_id}


# ------------------------------------------------------------------------------ events
def report_stop_event(db, actor: Actor, person_id: int, event: str, on: dt.date,
                      note: str | None = None) -> dict:
    """An event of 失业保险条例 art. 15 / 社会保险法 art. 51 on the person's unemployment
    benefit (re-employment, conscription, emigration, pension, imprisonment, refused work,
    death): recorded, and the benefit stops from the month ``unemployment.stop_rules`` says —
    a refusal of suitable work only once it is the ``refusals``-th. The months not paid are
    carried into a later claim."""
    from .tables import benefit_event

    _staff(actor)
    rules = load_rules()
    with transaction(db) as conn:
        a = conn.execute(select(benefit_award).where(
            benefit_award.c.person_id == person_id, benefit_award.c.kind == "unemployment",
            benefit_award.c.status == "active")).first()
        if a is None:
            raise ConflictError(f"person {person_id} has no unemployment benefit in payment")
        from .access import require_in_region
        require_in_region(actor, "benefit.case.work", a.region)
        stop = unemployment.stop_month(rules, a.region, event, on)
        conn.execute(insert(benefit_event).values(
            person_id=person_id, award_id=a.id, event=event, on_date=on,
            detail=_json({"note": note} if note else {}), recorded_by=actor.id,
            recorded_at=now()))
        out = {"award_id": a.id, "event": event, "stopped_from": None}
        if event == "refused_work":
            n = len(conn.execute(select(benefit_event.c.id).where(
                benefit_event.c.award_id == a.id,
                benefit_event.c.event == "refused_work")).all())
            out["refusals"] = n
            if n < unemployment.refusals_to_stop(rules, a.region, on):
                audit.record(conn, actor, "benefit.event", "person", person_id,
                             detail=out | {"on": on.isoformat()})
                return out
        res = awards.stop_awards_from_month(conn, actor, person_id, stop, event,
                                            kinds=("unemployment",))
        out["stopped_from"] = res.stopped_from.isoformat()
        out["recoveries"] = res.recoveries
        audit.record(conn, actor, "benefit.event", "person", person_id,
                     detail={k: v for k, v in out.items() if k != "recoveries"}
                     | {"on": on.isoformat()})
        return out
