"""The serious-untrustworthiness list (严重失信名单, 人社部规〔2019〕2号; rules-2 §6.1) with due
process: proposal with grounds → prior notice → objection period → a checked decision →
publication → term and removal (expiry or credit repair). States: :data:`model.BLACKLIST`.

Each proposal is a ``shebao.cases`` case (item ``supervision.blacklist_person`` /
``…_employer``, four-eyes kind ``supervision.blacklist``); this module keeps the due-process
record (``blacklist_entry``). Grounds and thresholds, the objection period and the term are
parameters (``supervision.blacklist.*``, [M] where the law read gave no number).

Listed parties are *flagged* (:func:`listed`) for the collection and benefits desks (the
channels show the flag); the list blocks no right the law keeps (benefits, enrolment).
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import and_, insert, select, update

from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.regions import check_region
from shebao.db.uow import now, reading, transaction
from shebao.notices import outbox
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import model
from .monitor import scope_like
from .tables import blacklist_entry

ITEMS = {"person": "supervision.blacklist_person", "employer": "supervision.blacklist_employer"}
P = "supervision.blacklist."


def _today() -> dt.date:
    return now().date()


def _load(conn, entry_id: int):
    r = conn.execute(select(blacklist_entry).where(blacklist_entry.c.id == entry_id)).first()
    if r is None:
        raise InputError(f"no blacklist entry {entry_id}", field="entry_id")
    return r


def _move(conn, actor: Actor, r, action: str, **values) -> str:
    to = model.step(model.BLACKLIST, action, r.status, "blacklist entry")
    res = conn.execute(update(blacklist_entry).where(
        blacklist_entry.c.id == r.id, blacklist_entry.c.status == r.status).values(
        status=to, **values))
    if res.rowcount != 1:
        raise ConflictError(f"blacklist entry {r.id} changed concurrently; reload and retry")
    return to


def _notify(conn, r, template: str, data: dict) -> None:
    outbox.enqueue(conn, recipient_type=r.subject_type, recipient_id=r.subject_id,
                   region=r.region, template=template,
                   data={"entry_id": r.id, "ground": r.ground, **data},
                   key=f"blacklist:{r.id}:{template}")


def propose(db, actor: Actor, *, subject_type: str, subject_id: int, region: str, ground: str,
            facts: dict, case_id: int | None = None) -> int:
    """A proposal with its ground and facts (amounts in yuan, months, person-times), checked
    against the ground's thresholds. Opens the listing case; returns the entry id."""
    policy.require(actor, "supervision.case.work")
    check_region(region)
    if subject_type not in ITEMS:
        raise InputError("subject_type must be person or employer", field="subject_type")
    on = _today()
    model.check_ground(ground, facts or {}, load_rules().value(P + "grounds", region, on))
    with transaction(db) as conn:
        live = conn.execute(select(blacklist_entry.c.id).where(and_(
            blacklist_entry.c.subject_type == subject_type,
            blacklist_entry.c.subject_id == subject_id,
            blacklist_entry.c.status.notin_(("rejected", "removed"))))).first()
        if live:
            raise ConflictError(f"{subject_type} {subject_id} already has entry {live.id}")
        cid = cases.open_case(
            conn, actor, item=ITEMS[subject_type], region=region, subject_type=subject_type,
            subject_id=subject_id, person_id=subject_id if subject_type == "person" else None,
            employer_id=subject_id if subject_type == "employer" else None,
            detail={"ground": ground, "inspection_case": case_id}, parent_id=case_id)
        return conn.execute(insert(blacklist_entry).values(
            subject_type=subject_type, subject_id=subject_id, region=region, ground=ground,
            grounds=json.dumps({"facts": facts, "inspection_case": case_id}, ensure_ascii=False,
                               default=str),
            status="proposed", case_id=cid, proposed_by=actor.id,
            proposed_at=now())).inserted_primary_key[0]


def notify(db, actor: Actor, entry_id: int) -> dict:
    """The prior notice (事先告知): the party learns the ground and may object until
    ``objection_until``."""
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        policy.require(actor, "supervision.case.work")
        policy.require_region(actor, r.region)
        on = _today()
        until = on + dt.timedelta(days=int(load_rules().value(P + "objection_days", r.region, on)))
        _move(conn, actor, r, "notify", notified_on=on, objection_until=until)
        cases.start(conn, actor, r.case_id)
        _notify(conn, r, "supervision.blacklist.prior_notice",
                {"objection_until": until.isoformat()})
        audit.record(conn, actor, "supervision.blacklist.notify", "blacklist_entry", entry_id,
                     detail={"objection_until": until})
        return {"id": entry_id, "status": "notified", "objection_until": until.isoformat()}


def object_(db, actor: Actor, entry_id: int, text: str) -> None:
    """The party's objection (陈述申辩), by the party itself or recorded by staff."""
    if not (text and text.strip()):
        raise InputError("an objection needs its text", field="objection")
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        own = (actor.role == "citizen" and r.subject_type == "person"
               and actor.person_id == r.subject_id) or \
              (actor.role == "employer" and r.subject_type == "employer"
               and actor.employer_id == r.subject_id)
        if not own:
            policy.require(actor, "supervision.case.work")
            policy.require_region(actor, r.region)
        if r.objection_until and _today() > r.objection_until:
            raise ConflictError(f"the objection period ended on {r.objection_until}")
        _move(conn, actor, r, "object", objection=text.strip()[:4000])
        audit.record(conn, actor, "supervision.blacklist.object", "blacklist_entry", entry_id)


def submit(db, maker: Actor, entry_id: int, reason: str | None = None,
           on: dt.date | None = None) -> int:
    """The maker proposes to list, once the objection period is over (an objection must have
    been answered in ``reason``). Returns the approval id."""
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        today = on or _today()
        if r.objection_until is None or today <= r.objection_until:
            raise ConflictError(f"the objection period runs until {r.objection_until}")
        if r.status == "objected" and not (reason and reason.strip()):
            raise InputError("answer the objection in the reason", field="reason")
        aid = cases.submit_decision(conn, maker, r.case_id, outcome="list",
                                    detail={"entry_id": entry_id, "ground": r.ground},
                                    reason=reason)
        _move(conn, maker, r, "submit", approval_id=aid)
        return aid


def approve(db, checker: Actor, entry_id: int) -> dict:
    """The second inspector's check: listed from today for the term; the party is told."""
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        cases.approve_decision(conn, checker, r.case_id)
        on = _today()
        until = model.add_years(on, int(load_rules().value(P + "term_years", r.region, on)))
        _move(conn, checker, r, "approve", decided_by=checker.id, decided_on=on, listed_from=on,
              listed_until=until)
        _notify(conn, r, "supervision.blacklist.listed", {"listed_until": until.isoformat()})
        return {"id": entry_id, "status": "listed", "listed_until": until.isoformat()}


def reject(db, checker: Actor, entry_id: int, reason: str) -> None:
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        cases.reject_decision(conn, checker, r.case_id, reason=reason)
        _move(conn, checker, r, "reject", approval_id=None)


def decline(db, actor: Actor, entry_id: int, reason: str) -> None:
    """Not listed (the objection upheld, or the facts fell away): the case is decided so."""
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        policy.require(actor, "supervision.case.work")
        policy.require_region(actor, r.region)
        _move(conn, actor, r, "decline", removal_reason=(reason or "").strip()[:200] or None)
        cases.withdraw(conn, actor, r.case_id, reason or "not listed")
        _notify(conn, r, "supervision.blacklist.not_listed", {"reason": reason})


def publish(db, actor: Actor, entry_id: int) -> None:
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        policy.require(actor, "supervision.case.work")
        policy.require_region(actor, r.region)
        _move(conn, actor, r, "publish", published_on=_today())
        audit.record(conn, actor, "supervision.blacklist.publish", "blacklist_entry", entry_id)


def remove(db, actor: Actor, entry_id: int, reason: str) -> None:
    """Early removal after correction (信用修复), or at the end of the term."""
    if not (reason and reason.strip()):
        raise InputError("a removal needs its reason", field="reason")
    with transaction(db) as conn:
        r = _load(conn, entry_id)
        policy.require(actor, "supervision.case.work")
        policy.require_region(actor, r.region)
        _move(conn, actor, r, "remove", removed_on=_today(), removal_reason=reason.strip()[:200])
        _notify(conn, r, "supervision.blacklist.removed", {"reason": reason.strip()[:200]})
        audit.record(conn, actor, "supervision.blacklist.remove", "blacklist_entry", entry_id,
                     detail={"reason": reason.strip()[:200]})


def expire(db, actor: Actor, on: dt.date | None = None) -> int:
    """Remove every listing whose term has ended (set-based); returns how many."""
    on = on or _today()
    with transaction(db) as conn:
        n = conn.execute(update(blacklist_entry).where(
            blacklist_entry.c.status.in_(model.LISTED),
            blacklist_entry.c.listed_until < on).values(
            status="removed", removed_on=on, removal_reason="term ended")).rowcount
        audit.record(conn, actor, "supervision.blacklist.expire", "blacklist_entry", None,
                     detail={"on": on, "removed": n})
        return n


def listed(db, subject_type: str, ids) -> dict[int, dict]:
    """id → {entry_id, ground, listed_until} of the parties listed now: the flag the collection
    and benefits desks show (no right is withheld because of it)."""
    ids = sorted({int(i) for i in ids})
    out: dict[int, dict] = {}
    with reading(db) as conn:
        for i in range(0, len(ids), 1000):
            for r in conn.execute(select(blacklist_entry).where(
                    blacklist_entry.c.subject_type == subject_type,
                    blacklist_entry.c.subject_id.in_(ids[i:i + 1000]),
                    blacklist_entry.c.status.in_(model.LISTED))):
                out[int(r.subject_id)] = {"entry_id": r.id, "ground": r.ground,
                                          "listed_until": r.listed_until}
    return out


def entries(db, actor: Actor, *, status: str | None = None, limit: int = 50) -> list[dict]:
    policy.require(actor, "supervision.alert.read")
    conds = [blacklist_entry.c.region.like(scope_like(actor.scope))]
    if status:
        conds.append(blacklist_entry.c.status == status)
    with transaction(db) as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(blacklist_entry).where(
            and_(*conds)).order_by(blacklist_entry.c.id.desc()).limit(limit))]
        audit.record(conn, actor, "supervision.blacklist.list", "blacklist_entry", None,
                     detail={"ids": [r["id"] for r in rows]})
    for r in rows:
        r["grounds"] = json.loads(r["grounds"])
    return rows
