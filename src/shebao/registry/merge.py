"""Merging duplicate person records, and undoing a merge.

A merge keeps both records: the merged record gets a new version with status ``merged`` and
``merged_into`` = survivor (its earlier versions stay as they were); its spells and
enrolments are re-attached to the survivor (``origin_person_id`` still names the record they
were recorded for) and listed in ``person_merge.moved``. Looking up the merged citizen ID
finds the survivor (:func:`shebao.registry.service.resolve_person_id`), and the survivor
lists the merged IDs (:func:`shebao.registry.service.merged_ids`).

A merge that would break an invariant (both records hold overlapping enrolments in one
scheme, or overlapping spells with one employer) is refused with the conflicting rows named:
a clerk ends the duplicate enrolment first. :func:`undo_merge` moves the rows back and
restores the merged record's previous status as a new version.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError, InvariantError
from shebao.core.ids import mask_id
from shebao.security import audit

from . import model
from .service import _apply_person_change, _person_row, now, transaction
from .tables import dedup_candidate, employment, enrolment, person_merge, person_version


class MergeRefused(InvariantError):
    """The merge would break a registry invariant; nothing was changed."""


def _rows(conn, table, pid, key):
    return [(r.id, r[1], model.Interval(r.start_date, r.end_date)) for r in conn.execute(
        select(table.c.id, table.c[key], table.c.start_date, table.c.end_date)
        .where(table.c.person_id == pid))]


def merge_persons(bind, actor: Actor, survivor_id: int, merged_id: int, *, reason: str,
                  candidate_id: int | None = None) -> int:
    """Merge ``merged_id`` into ``survivor_id``; returns the person_merge id."""
    if survivor_id == merged_id:
        raise InputError("a record cannot be merged into itself", field="merged_id")
    if not reason:
        raise InputError("a reason is required", field="reason")
    with transaction(bind) as conn:
        surv = _person_row(conn, survivor_id, for_update=True)
        gone = _person_row(conn, merged_id, for_update=True)
        for p in (surv, gone):
            if p["status"] == "merged":
                raise MergeRefused(f"person {p['id']} is already merged into "
                                   f"{p['merged_into']}")
        conflicts = []
        for table, key, what in ((enrolment, "scheme", "enrolment"),
                                 (employment, "employer_id", "spell")):
            mine = _rows(conn, table, survivor_id, key)
            for oid, k, iv in _rows(conn, table, merged_id, key):
                for sid, sk, siv in mine:
                    if k == sk and iv.overlaps(siv):
                        conflicts.append(f"{what} #{oid} ({k}, {iv.start}–{iv.end or 'open'}) "
                                         f"overlaps #{sid} ({siv.start}–{siv.end or 'open'})")
        if conflicts:
            raise MergeRefused(f"merging person {merged_id} into {survivor_id} would overlap: "
                               + "; ".join(conflicts[:5]) + " — end the duplicate first")
        moved_enr = list(conn.execute(select(enrolment.c.id).where(
            enrolment.c.person_id == merged_id)).scalars())
        moved_emp = list(conn.execute(select(employment.c.id).where(
            employment.c.person_id == merged_id)).scalars())
        if moved_enr:
            conn.execute(update(enrolment).where(enrolment.c.id.in_(moved_enr))
                         .values(person_id=survivor_id))
        if moved_emp:
            conn.execute(update(employment).where(employment.c.id.in_(moved_emp))
                         .values(person_id=survivor_id))
        today = dt.date.today()
        vf = _valid_from(conn, gone)
        _apply_person_change(conn, actor, gone, {"status": "merged", "status_date": today,
                                                 "merged_into": survivor_id},
                             max(today, vf), f"merged into {survivor_id}: {reason}",
                             "merge")
        mid = conn.execute(person_merge.insert().values(
            survivor_id=survivor_id, merged_id=merged_id,
            merged_citizen_id=gone["citizen_id"], candidate_id=candidate_id, reason=reason,
            moved=json.dumps({"enrolment": moved_enr, "employment": moved_emp}),
            merged_at=now(), merged_by=actor.id)).inserted_primary_key[0]
        a, b = sorted((survivor_id, merged_id))
        conn.execute(update(dedup_candidate).where(and_(
            dedup_candidate.c.person_a == a, dedup_candidate.c.person_b == b)).values(
            status="merged", decided_at=now(), decided_by=actor.id))
        # other pending pairs of the merged record: the next run re-scores them on the survivor
        conn.execute(update(dedup_candidate).where(and_(
            dedup_candidate.c.status == "pending",
            (dedup_candidate.c.person_a == merged_id) | (dedup_candidate.c.person_b == merged_id)
        )).values(status="superseded", decided_at=now(), decided_by=actor.id,
                  note=f"person {merged_id} merged into {survivor_id}"))
        audit.record(conn, actor, "registry.person.merge", "person", survivor_id,
                     purpose=reason,
                     detail={"merge_id": mid, "merged_id": merged_id,
                             "merged_citizen_id": mask_id(gone["citizen_id"]),
                             "enrolments_moved": len(moved_enr),
                             "spells_moved": len(moved_emp)})
        return mid


def _valid_from(conn, cur: dict) -> dt.date:
    return conn.execute(select(person_version.c.valid_from).where(and_(
        person_version.c.person_id == cur["id"],
        person_version.c.version == cur["version"]))).scalar_one()


def undo_merge(bind, actor: Actor, merge_id: int, *, reason: str) -> None:
    """Undo a merge: the moved spells and enrolments go back, the merged record is restored
    (new version with its status before the merge); the pair is marked distinct."""
    if not reason:
        raise InputError("a reason is required", field="reason")
    with transaction(bind) as conn:
        m = conn.execute(select(person_merge).where(person_merge.c.id == merge_id)
                         ).mappings().first()
        if m is None:
            raise InputError(f"no merge {merge_id}", field="merge_id")
        if m["undone_at"] is not None:
            raise InvariantError(f"merge {merge_id} was already undone on {m['undone_at']}")
        later = conn.execute(select(person_merge.c.id).where(and_(
            person_merge.c.merged_id == m["survivor_id"], person_merge.c.undone_at.is_(None))
        )).first()
        if later:
            raise InvariantError(f"the survivor {m['survivor_id']} was itself merged later "
                                 f"(merge {later.id}); undo that merge first")
        moved = json.loads(m["moved"])
        if moved["enrolment"]:
            conn.execute(update(enrolment).where(and_(
                enrolment.c.id.in_(moved["enrolment"]),
                enrolment.c.person_id == m["survivor_id"])).values(person_id=m["merged_id"]))
        if moved["employment"]:
            conn.execute(update(employment).where(and_(
                employment.c.id.in_(moved["employment"]),
                employment.c.person_id == m["survivor_id"])).values(person_id=m["merged_id"]))
        gone = _person_row(conn, m["merged_id"], for_update=True)
        before = conn.execute(select(person_version).where(and_(
            person_version.c.person_id == gone["id"],
            person_version.c.version == gone["version"] - 1))).mappings().one()
        today = dt.date.today()
        _apply_person_change(conn, actor, gone, {"status": before["status"],
                                                 "status_date": before["status_date"],
                                                 "merged_into": None},
                             max(today, _valid_from(conn, gone)),
                             f"merge {merge_id} undone: {reason}", "merge undo")
        conn.execute(update(person_merge).where(person_merge.c.id == merge_id).values(
            undone_at=now(), undone_by=actor.id, undo_reason=reason))
        a, b = sorted((m["survivor_id"], m["merged_id"]))
        # remember the decision, so that the next dedup run does not merge them again
        n = conn.execute(update(dedup_candidate).where(and_(
            dedup_candidate.c.person_a == a, dedup_candidate.c.person_b == b)).values(
            status="distinct", decided_at=now(), decided_by=actor.id,
            note=f"merge undone: {reason}"[:200])).rowcount
        if not n:
            conn.execute(dedup_candidate.insert().values(
                person_a=a, person_b=b, match_probability=0.0, match_weight=0.0,
                status="distinct", found_by=f"merge {merge_id} undone", created_at=now(),
                decided_at=now(), decided_by=actor.id, note=f"merge undone: {reason}"[:200]))
        audit.record(conn, actor, "registry.person.merge_undo", "person", m["survivor_id"],
                     purpose=reason, detail={"merge_id": merge_id,
                                             "merged_id": m["merged_id"]})


def review_queue(bind, actor: Actor, *, limit: int = 50) -> list[dict]:
    """Pending suspected duplicates, most probable first (masked; audited read)."""
    from .tables import person

    with transaction(bind) as conn:
        rows = [dict(r) for r in conn.execute(
            select(dedup_candidate).where(dedup_candidate.c.status == "pending")
            .order_by(dedup_candidate.c.match_probability.desc(), dedup_candidate.c.id)
            .limit(limit)).mappings()]
        ids = {r["person_a"] for r in rows} | {r["person_b"] for r in rows}
        people = {r.id: r for r in conn.execute(
            select(person.c.id, person.c.citizen_id, person.c.name, person.c.birth_date)
            .where(person.c.id.in_(ids)))} if ids else {}
        for r in rows:
            for side in ("a", "b"):
                p = people.get(r[f"person_{side}"])
                r[f"citizen_id_{side}"] = mask_id(p.citizen_id) if p else None
                r[f"name_{side}"] = p.name if p else None
        audit.record(conn, actor, "registry.dedup.review_read", "registry", None,
                     fields=["citizen_id", "name"], purpose="duplicate review",
                     detail={"rows": len(rows)})
        return rows


def decide(bind, actor: Actor, candidate_id: int, decision: str, *, note: str,
           survivor_id: int | None = None) -> int | None:
    """A clerk's decision on a queued pair: ``merge`` (returns the merge id) or ``distinct``."""
    if decision not in ("merge", "distinct"):
        raise InputError("decision must be merge or distinct", field="decision")
    with transaction(bind) as conn:
        c = conn.execute(select(dedup_candidate).where(dedup_candidate.c.id == candidate_id)
                         ).mappings().first()
        if c is None:
            raise InputError(f"no candidate {candidate_id}", field="candidate_id")
        if c["status"] != "pending":
            raise InvariantError(f"candidate {candidate_id} was already decided: {c['status']}")
        if decision == "distinct":
            conn.execute(update(dedup_candidate).where(dedup_candidate.c.id == candidate_id)
                         .values(status="distinct", decided_at=now(), decided_by=actor.id,
                                 note=note[:200]))
            audit.record(conn, actor, "registry.dedup.distinct", "registry", candidate_id,
                         purpose=note)
            return None
        surv = survivor_id or c["person_a"]
        if surv not in (c["person_a"], c["person_b"]):
            raise InputError("survivor must be one of the pair", field="survivor_id")
        other = c["person_b"] if surv == c["person_a"] else c["person_a"]
        return merge_persons(conn, actor, surv, other, reason=f"review: {note}",
                             candidate_id=candidate_id)



