"""Pension determination: open a retirement case, compute it, submit, approve or reject.

    open_case(db, actor, person_id, region=..., category=None, claim="statutory",
              requested_date=None) -> int                         # opens and computes
    open_batch(db, actor, region, month) -> BatchResult           # everyone reaching age
    submit_case(db, maker, case_id) -> int                        # approval id (maker-checker)
    approve_case(db, checker, case_id) -> int                     # award id; never the maker
    reject_case(db, checker, case_id, reason=...) -> None
    get_case(db, actor, case_id, purpose=...) -> dict             # audited read
    record_history(db, actor, person_id, rows) -> int             # legacy contribution history
    record_histories(db, actor, {person_id: rows}, source=...) -> int  # many persons, one tx
    recompute_cases(db, actor, case_ids) -> {case_id: status}     # batch recompute, one audit

The contribution record a case is computed from is :func:`shebao.benefits.history.history_rows`:
legacy ``pension_history`` ∪ the pension months shebao's collection bureau assessed *and
collected in full* (a month in both counts once, from shebao's record); the decision lists each
period with its source and the months not counted with the reason.

Computation (:mod:`.case_compute`): the regular cases of a chunk — statutory claims with a
legacy record and everything in the rules — in columns (:mod:`.retirement_batch`; the average
contribution index exact per person, rational arithmetic rounded once to 1e-6; the decision
stored compactly with its shared parameters once, :mod:`.decision_record`), the others case by
case (:func:`.model.gather`, which says what is missing). Both give the same decision. A case
ends in one of:

* ``computed``  — amounts and the decision (every input, every parameter with its legal
  reference, the arithmetic as text);
* ``incomplete`` — ``missing`` lists what is missing (no history, an average wage not in the
  rules, no individual account, the female category…); no amount is produced;
* ``ineligible`` — short of the minimum contribution months: ``options`` gives what the law
  offers (keep contributing until the minimum, or transfer to the resident scheme).

The claim region's average wage is used for every period's index (rules.md §2, calculation at
the claim place). Previous years' interest is expected in the ledger (annual crediting); the
retirement year's interest up to the retirement month is added here by the monthly-product
method at the rate in force for that year (the newest published rate if that year's is not
yet published — the decision shows which).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, insert, select, text, update

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import AlreadyRunning, ConflictError, InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months
from shebao.db.bulk import json_ids_sql, json_list, new_ids
from shebao.db.dialect import for_index_probes, for_update, try_xact_lock
from shebao.db.uow import now as _now
from shebao.db.uow import transaction
from shebao.registry import queries as registry_queries
from shebao.registry import service as registry_service
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import CATEGORIES, statutory_retirement
from shebao.security import audit, maker_checker as mc

from . import access
from . import decision_record
from .case_compute import compute_cases, open_computed
from .access import check_case, require_in_region
from .model import (CASE_LIVE, EDITABLE, clean_history, may_reach_age, record_lines,
                    region_prefix, require_status, validate_claim)
from .tables import pension_award, pension_award_amount, pension_case, pension_history

CHUNK = 1000
LOCK_NS = 0x5EBA9E45      # advisory lock namespace of pension determination's batches


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


# ------------------------------------------------------------------------ history
def record_history(db, actor: Actor, person_id: int, rows: list[dict], *,
                   source: str = "manual") -> int:
    """Record legacy contribution history rows for one person: dicts with region, period_start
    (date), months (1–12), base_total_fen (paid; Σ of the monthly bases), kind paid | deemed.
    Months shebao itself collects need no row: they come from the collection bureau."""
    clean = clean_history(actor, person_id, rows, source, _now())
    with transaction(db) as conn:
        if clean:
            conn.execute(insert(pension_history), clean)
        audit.record(conn, actor, "pension.history.record", "person", person_id,
                     fields=["contribution_history"],
                     detail={"rows": len(clean), "source": source})
    return len(clean)


def record_histories(db, actor: Actor, rows_by_person: dict[int, list[dict]], *,
                     source: str) -> int:
    """Legacy history for many persons (a migration batch): one transaction, one bulk insert,
    one audit row naming the persons. Everything is checked before anything is written."""
    t = _now()
    clean = []
    for pid, rows in sorted(rows_by_person.items()):
        clean += clean_history(actor, int(pid), rows, source, t, f"persons[{pid}]")
    with transaction(db) as conn:
        if clean:
            conn.execute(insert(pension_history), clean)
        audit.record(conn, actor, "pension.history.record_batch", "person_set",
                     f"{len(rows_by_person)} persons", fields=["contribution_history"],
                     detail={"rows": len(clean), "source": source,
                             "person_ids": sorted(int(p) for p in rows_by_person)})
    return len(clean)


# ------------------------------------------------------------------------ open
def open_case(db, actor: Actor, person_id: int, *, region: str, category: str | None = None,
              claim: str = "statutory", requested_date: dt.date | None = None) -> int:
    """Open a retirement case for one person and compute it at once (one transaction)."""
    require_in_region(actor, "pension.compute", region)
    if not regions.is_region_code(region) or region == regions.NATIONAL:
        raise InputError(f"{region!r} is not a region code", field="region")
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    validate_claim(claim, requested_date)
    with transaction(db) as conn:
        if person_id not in registry_queries.person_facts(conn, [person_id]):
            raise InputError(f"no person {person_id}", field="person_id")
        live = conn.execute(select(pension_case.c.id, pension_case.c.status).where(and_(
            pension_case.c.person_id == person_id, pension_case.c.status.in_(CASE_LIVE)))).first()
        if live:
            raise ConflictError(f"person {person_id} already has case {live.id} ({live.status})")
        cid = conn.execute(insert(pension_case).values(
            person_id=person_id, region=region, category=category, claim=claim,
            requested_date=requested_date, status="open", opened_by=actor.id,
            opened_at=_now()).returning(pension_case.c.id)).scalar_one()
        summary = compute_cases(conn, [cid])
        audit.record(conn, actor, "pension.case.open", "pension_case", cid,
                     detail={"person_id": person_id, "region": region, "claim": claim,
                             "status": summary.get(cid)})
        return cid


def open_case_for(db, actor: Actor, person_id: int, region: str | None = None) -> int:
    """``open_case`` from a channel: the person must be in the actor's scope; the case's region
    defaults to the region the person belongs to."""
    from shebao.registry.access import check_person
    from shebao.registry.model import person_region

    access.require_staff(actor, "pension.compute")
    with db.connect() as conn:
        facts = check_person(conn, actor, person_id)
    return open_case(db, actor, person_id, region=region or person_region(facts))


@dataclass
class BatchResult:
    region: str
    month: dt.date
    opened: int = 0
    by_status: dict = field(default_factory=dict)
    case_ids: list = field(default_factory=list)


def open_batch(db, actor: Actor, region: str, month: dt.date) -> BatchResult:
    """Open cases for everyone of ``region`` (the registry's pension_region, the subtree) who
    reaches statutory retirement age in ``month`` and has no live case. Men are ``male``;
    women's category (cadre 55 / worker 50) is not in the registry, so both possibilities are
    computed and a woman is opened when either falls in the month, with the category left for
    the clerk (the case is ``incomplete`` until it is given)."""
    require_in_region(actor, "pension.compute", region)
    month = month.replace(day=1)
    rules = load_rules()
    res = BatchResult(region, month)
    with transaction(db) as conn:
        # one month's batch of a province at a time: two would open the same persons' cases
        if not try_xact_lock(conn, LOCK_NS, f"pension.open_batch:{region[:2]}"):
            raise AlreadyRunning(f"retirement cases of province {region[:2]}0000 are already "
                                 "being opened by another process: let it finish; running "
                                 "again afterwards opens only the cases still missing")
        rows = may_reach_age(rules, region, registry_queries.active_persons_in(
            conn, region_prefix(region)), month)
        with for_index_probes(conn):
            live = _with_live_case(conn, [r.id for r in rows])
        rows = [r for r in rows if r.id not in live]
        if rows:
            ids = np.array([r.id for r in rows], dtype=np.int64)
            sex = np.array([r.sex or "" for r in rows])
            bd = [_date(r.birth_date) for r in rows]
            by = np.array([d.year for d in bd]), np.array([d.month for d in bd])
            bday = np.array([d.day for d in bd])
            target = month.year * 12 + month.month - 1
            chosen: dict[int, str | None] = {}
            for cat in CATEGORIES:
                rr = statutory_retirement(rules, by[0], by[1], bday, cat, region)
                hit = (rr.year * 12 + rr.month - 1) == target
                want = (sex == "M") if cat == "male" else (sex == "F")
                for pid in ids[hit & want]:
                    chosen[int(pid)] = cat if cat == "male" else None
            pregion = {r.id: r.pension_region for r in rows}
            chosen_ids = sorted(chosen)
            if chosen_ids:
                # the new cases copied in with ids drawn first (a month's retirements in a
                # province are many: no row-by-row insert, no read-back)
                ids_new = new_ids(conn, "pension_case", len(chosen_ids)).tolist()
                summary = open_computed(conn, [
                    {"id": cid, "person_id": p, "region": pregion[p], "category": chosen[p],
                     "claim": "statutory", "requested_date": None}
                    for cid, p in zip(ids_new, chosen_ids)],
                    {"opened_by": actor.id, "opened_at": _now()})
                res.case_ids = ids_new
                for s in summary.values():
                    res.by_status[s] = res.by_status.get(s, 0) + 1
            res.opened = len(chosen_ids)
        audit.record(conn, actor, "pension.case.open_batch", "region", region,
                     detail={"month": month.isoformat(), "opened": res.opened,
                             "by_status": res.by_status})
    return res


# ------------------------------------------------------------------------ live cases
def _with_live_case(conn, person_ids: list[int]) -> set[int]:
    """Those of ``person_ids`` who have a live case (one query, the ids as one parameter)."""
    if not person_ids:
        return set()
    live = ", ".join(f"'{s}'" for s in CASE_LIVE)
    return {int(p) for p, in conn.execute(text(
        f"SELECT c.person_id FROM pension_case c JOIN {json_ids_sql(conn)} "
        f"ON c.person_id = v.id WHERE c.status IN ({live})"),
        {"vals": json_list(person_ids)})}


# ------------------------------------------------------------------------ decide
def _case(conn, case_id: int, lock: bool = False) -> dict:
    q = select(pension_case).where(pension_case.c.id == case_id)
    if lock:
        q = for_update(conn, q)
    r = conn.execute(q).mappings().first()
    if r is None:
        raise InputError(f"no pension case {case_id}", field="case_id")
    return dict(r)


def set_category(db, actor: Actor, case_id: int, category: str) -> str:
    """Give a woman's category (cadre / worker) on a batch-opened case and recompute it."""
    if category not in CATEGORIES:
        raise InputError(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    with transaction(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_in_region(actor, "pension.compute", c["region"])
        require_status(c, EDITABLE, "changed")
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            category=category))
        status = compute_cases(conn, [case_id])[case_id]
        audit.record(conn, actor, "pension.case.category", "pension_case", case_id,
                     detail={"category": category, "status": status})
        return status


def recompute_case(db, actor: Actor, case_id: int) -> str:
    with transaction(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_in_region(actor, "pension.compute", c["region"])
        require_status(c, EDITABLE, "changed")
        status = compute_cases(conn, [case_id])[case_id]
        audit.record(conn, actor, "pension.case.compute", "pension_case", case_id,
                     detail={"status": status, "before": c["status"]})
        return status


def recompute_cases(db, actor: Actor, case_ids: list[int]) -> dict[int, str]:
    """Recompute many cases set-based (after history or accounts changed): one transaction,
    one audit row. Cases already submitted or decided are left alone and not returned."""
    with transaction(db) as conn:
        rows = []
        for i in range(0, len(case_ids), CHUNK):
            rows += conn.execute(select(pension_case.c.id, pension_case.c.region,
                                        pension_case.c.status).where(
                pension_case.c.id.in_(case_ids[i:i + CHUNK]))).all()
        for r in {r.region for r in rows}:
            require_in_region(actor, "pension.compute", r)
        todo = sorted(r.id for r in rows
                      if r.status in EDITABLE)
        out = compute_cases(conn, todo) if todo else {}
        by_status: dict[str, int] = {}
        for st in out.values():
            by_status[st] = by_status.get(st, 0) + 1
        audit.record(conn, actor, "pension.case.compute_batch", "pension_case_set",
                     f"{len(todo)} cases", detail={"case_ids": todo, "by_status": by_status})
    return out


def submit_case(db, maker: Actor, case_id: int) -> int:
    """The maker (a benefits clerk) puts a computed case up for a second pair of eyes."""
    with transaction(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_status(c, ("computed",), "submitted")
        aid = mc.submit(conn, maker, mc.PENSION, "pension_case", case_id, region=c["region"],
                        detail={"total": fen_to_yuan_str(c["total_fen"]),
                                "person_id": c["person_id"]})
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="submitted", approval_id=aid))
        return aid


def approve_case(db, checker: Actor, case_id: int) -> int:
    """A second clerk approves: the pension is awarded from the month after retirement.
    The same staff member who submitted can never approve (PermissionDenied)."""
    with transaction(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_status(c, ("submitted",), "approved")
        a = mc.get(conn, c["approval_id"])
        if a.maker == checker.id:
            raise PermissionDenied(f"case {case_id} was submitted by {checker.id}: the same "
                                   f"staff member can never approve their own case")
        dead = registry_queries.person_facts(conn, [c["person_id"]]).get(
            c["person_id"], {}).get("death_date")
        if dead is not None and _date(dead) < _date(c["retirement_date"]):
            raise ConflictError(f"person {c['person_id']} died on {dead}, before the retirement "
                                f"date {c['retirement_date']}: reject the case instead")
        mc.approve(conn, checker, c["approval_id"])
        t = _now()
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="approved", decided_by=checker.id, decided_at=t))
        ret = _date(c["retirement_date"])
        start = add_months(ret.replace(day=1), 1)
        aid = conn.execute(insert(pension_award).values(
            person_id=c["person_id"], case_id=case_id, region=c["region"], start_month=start,
            monthly_fen=c["total_fen"], account_part_fen=c["account_fen"], amount_from=start,
            status="active", created_at=t).returning(pension_award.c.id)).scalar_one()
        conn.execute(insert(pension_award_amount).values(
            award_id=aid, effective_from=start, monthly_fen=c["total_fen"],
            account_part_fen=c["account_fen"], source="determination", recorded_at=t))
        # a pension starting stops unemployment benefit from its first month (失业保险条例
        # 第十五条; unemployment.stop_rules "pension": same month)
        from .awards import stop_awards_from_month
        stop_awards_from_month(conn, checker, c["person_id"], start, "pension",
                               kinds=("unemployment",))
        # retirement closes the contributing enrolments: nothing assessed from the start
        ended = registry_service.end_contributing_enrolments(
            conn, checker, c["person_id"], start - dt.timedelta(days=1),
            reason="retirement: pension in payment")
        audit.record(conn, checker, "pension.award", "pension_case", case_id,
                     detail={"award_id": aid, "start_month": start.isoformat(),
                             "enrolments_ended": ended,
                             "monthly": fen_to_yuan_str(c["total_fen"]),
                             "basis": "国发〔2005〕38号; 社会保险法 第十六条"})
        return aid


def reject_case(db, checker: Actor, case_id: int, *, reason: str) -> None:
    with transaction(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_status(c, ("submitted",), "rejected")
        mc.reject(conn, checker, c["approval_id"], reason=reason)
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="rejected", decided_by=checker.id, decided_at=_now(), reason=reason[:200]))


def get_case(db, actor: Actor, case_id: int, *, purpose: str = "pension case review") -> dict:
    with transaction(db) as conn:
        c = _case(conn, case_id)
        check_case(actor, c)
        audit.record(conn, actor, "pension.case.read", "pension_case", case_id,
                     fields=["decision"], purpose=purpose)
        c["decision"] = decision_record.load(conn, c["decision"])
    for k in ("missing", "options"):
        c[k] = json.loads(c[k]) if c[k] else None
    for k in ("basic_fen", "account_fen", "transitional_fen", "total_fen"):
        c[k.replace("_fen", "")] = fen_to_yuan_str(c[k]) if c[k] is not None else None
    c["contribution_record"] = record_lines(c["decision"])
    return c

