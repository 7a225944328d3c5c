"""Use cases on a case: each is one transaction (joining the caller's, so a bureau opens or
decides a case inside its own) with one audit row and one ``case_event``.

Who may act:
- **staff** holding the item's ``permission`` in the case's region subtree work it; the
  decision of an item with an ``approval_kind`` goes through maker-checker
  (``security.maker_checker``): one staff member submits, a different one approves;
- **the applicant** — a citizen whose ``person_id`` the case carries, an employer whose
  ``employer_id`` it carries — opens it (online items), attaches documents, withdraws it
  before a decision and rates it after one;
- **system** (batch runs, inbound partner messages) does anything.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.workdays import add_limit, add_working_days, working_days_between
from shebao.db.dialect import for_update
from shebao.db.uow import now, transaction
from shebao.notices import outbox
from shebao.security import audit, maker_checker, policy
from shebao.core import regions

from . import catalogue, model
from .model import Case
from .queries import get, row_to_case
from .tables import case_document, case_event, case_rating, service_case

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024   # an upload limit, not law: the web layer refuses more


def _today() -> dt.date:
    return now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()   # China Standard Time


def _json(d) -> str | None:
    return None if d is None else json.dumps(d, sort_keys=True, ensure_ascii=False, default=str)


def _is_applicant(actor: Actor, c_person, c_employer) -> bool:
    if actor.role == "citizen":
        return actor.person_id is not None and c_person is not None \
            and int(actor.person_id) == int(c_person)
    if actor.role == "employer":
        return actor.employer_id is not None and c_employer is not None \
            and int(actor.employer_id) == int(c_employer)
    return False


def _require_staff(actor: Actor, it: model.ServiceItem, region: str) -> None:
    if actor.role == "system":
        return
    if not policy.is_staff(actor):
        raise PermissionDenied(f"role {actor.role} may not work {it.code} cases")
    policy.require(actor, it.permission)
    policy.require_region(actor, region)


def _load(conn, case_id: int) -> Case:
    r = conn.execute(for_update(conn, select(service_case).where(
        service_case.c.id == case_id))).first()
    if r is None:
        raise InputError(f"no case {case_id}", field="case_id", value=case_id)
    return row_to_case(r)


def _item_of(c: Case) -> model.ServiceItem:
    return catalogue.item(c.item, c.region, c.opened_on)


def _event(conn, actor: Actor, c: Case, action: str, to_status: str | None,
           note: str | None = None, detail: dict | None = None) -> None:
    conn.execute(insert(case_event).values(
        case_id=c.id, at=now(), actor=actor.id, action=action, from_status=c.status,
        to_status=to_status, note=note, detail=_json(detail)))
    audit.record(conn, actor, f"case.{action}", "case", c.id,
                 detail={"item": c.item, "from": c.status, "to": to_status,
                         **({"detail": detail} if detail else {})})


def _notify(conn, c: Case, template: str, data: dict) -> None:
    """Tell the subject (person or employer) — other subjects are told by their bureau."""
    if c.person_id is not None and c.subject_type == "person":
        kind, rid = "person", c.person_id
    elif c.employer_id is not None:
        kind, rid = "employer", c.employer_id
    else:
        return
    outbox.enqueue(conn, recipient_type=kind, recipient_id=rid, region=c.region,
                   template=template, data={"case_id": c.id, "item": c.item, **data},
                   key=f"case:{c.id}:{template}:{data.get('seq', '')}")


def _move(conn, actor: Actor, c: Case, action: str, values: dict | None = None,
          note: str | None = None, detail: dict | None = None) -> Case:
    to = model.next_status(action, c.status)
    res = conn.execute(update(service_case).where(
        service_case.c.id == c.id, service_case.c.status == c.status).values(
        status=to, **(values or {})))
    if res.rowcount != 1:
        raise ConflictError(f"case {c.id} changed concurrently; reload and retry")
    _event(conn, actor, c, action, to, note, detail)
    return get(conn, c.id)


# ------------------------------------------------------------------------------- opening
def open_case(db, actor: Actor, *, item: str, region: str, subject_type: str, subject_id,
              person_id: int | None = None, employer_id: int | None = None,
              channel: str = "counter", outlet: str | None = None, detail: dict | None = None,
              opened_on: dt.date | None = None, parent_id: int | None = None) -> int:
    """Open a case of a catalogue item; its due date is the item's limit from ``opened_on``
    (today in China by default) on the region's working-day calendar."""
    region = regions.check_region(region)
    opened_on = opened_on or _today()
    it = catalogue.item(item, region, opened_on)
    if subject_type != it.subject:
        raise InputError(f"a {item} case concerns a {it.subject}, not a {subject_type}",
                         field="subject_type", value=subject_type)
    if channel not in catalogue.CHANNELS:
        raise InputError(f"unknown channel {channel!r}", field="channel", value=channel)
    if actor.role in ("citizen", "employer"):
        if not _is_applicant(actor, person_id, employer_id):
            raise PermissionDenied(f"{actor.id} may apply only for themselves")
        if "online" not in it.channels:
            raise PermissionDenied(f"{it.name_en} is handled at a counter, not online")
        channel = "online"
    else:
        _require_staff(actor, it, region)
    due = add_limit(opened_on, it.limit, it.limit_unit,
                    catalogue.calendar(region, opened_on))
    with transaction(db) as conn:
        cid = conn.execute(insert(service_case).values(
            item=item, region=region, subject_type=subject_type, subject_id=str(subject_id),
            person_id=person_id, employer_id=employer_id, channel=channel, outlet=outlet,
            status=model.RECEIVED, opened_by=actor.id, opened_at=now(), opened_on=opened_on,
            due_on=due, parent_id=parent_id, detail=_json(detail or {}))
            .returning(service_case.c.id)).scalar_one()
        c = get(conn, cid)
        conn.execute(insert(case_event).values(
            case_id=cid, at=now(), actor=actor.id, action="open", from_status=None,
            to_status=model.RECEIVED, detail=_json({"channel": channel, "due_on": due})))
        audit.record(conn, actor, "case.open", "case", cid,
                     detail={"item": item, "region": region, "subject_type": subject_type,
                             "due_on": due, "channel": channel})
        _notify(conn, c, "case.received", {"due_on": due.isoformat(), "name_zh": it.name_zh,
                                           "name_en": it.name_en})
    return cid


# ------------------------------------------------------------------------------- working
def assign(db, actor: Actor, case_id: int, to_user: str) -> Case:
    with transaction(db) as conn:
        c = _load(conn, case_id)
        _require_staff(actor, _item_of(c), c.region)
        return _move(conn, actor, c, "assign", {"assigned_to": to_user},
                     detail={"to": to_user})


def start(db, actor: Actor, case_id: int) -> Case:
    with transaction(db) as conn:
        c = _load(conn, case_id)
        _require_staff(actor, _item_of(c), c.region)
        return _move(conn, actor, c, "start",
                     {"assigned_to": c.assigned_to or actor.id})


def request_documents(db, actor: Actor, case_id: int, missing: list[str],
                      note: str | None = None) -> Case:
    """Ask the applicant for documents (一次性告知: all at once); the clock stops meanwhile."""
    if not missing:
        raise InputError("name the missing documents", field="missing")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        _require_staff(actor, _item_of(c), c.region)
        out = _move(conn, actor, c, "request_documents", {"paused_on": _today()}, note,
                    {"missing": list(missing)})
        _notify(conn, out, "case.documents_requested",
                {"missing": list(missing), "seq": _event_count(conn, c.id)})
        return out


def resume(db, actor: Actor, case_id: int) -> Case:
    """Documents received: work resumes and the due date moves by the working days waited."""
    with transaction(db) as conn:
        c = _load(conn, case_id)
        if not _is_applicant(actor, c.person_id, c.employer_id):
            _require_staff(actor, _item_of(c), c.region)
        today = _today()
        cal = catalogue.calendar(c.region, today)
        waited = working_days_between(c.paused_on or today, today, cal)
        return _move(conn, actor, c, "resume",
                     {"paused_on": None, "due_on": add_working_days(c.due_on, waited, cal)},
                     detail={"waited_working_days": waited})


def note(db, actor: Actor, case_id: int, text: str, detail: dict | None = None) -> Case:
    if not (text and text.strip()):
        raise InputError("a note needs text", field="text")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        _require_staff(actor, _item_of(c), c.region)
        return _move(conn, actor, c, "note", note=text.strip()[:1000], detail=detail)


def attach(db, actor: Actor, case_id: int, *, kind: str, filename: str, content: bytes,
           content_type: str = "application/octet-stream") -> int:
    """Keep a document with the case (bytes and their sha256); returns the document id."""
    if not content:
        raise InputError("the document is empty", field="content")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InputError(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes",
                         field="content")
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or any(ord(ch) < 32 for ch in name):
        raise InputError("a document needs a plain file name", field="filename")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        if not _is_applicant(actor, c.person_id, c.employer_id):
            _require_staff(actor, _item_of(c), c.region)
        model.next_status("attach", c.status)
        sha = hashlib.sha256(content).hexdigest()
        did = conn.execute(insert(case_document).values(
            case_id=c.id, kind=kind, filename=name[:200], content_type=content_type[:100],
            size=len(content), sha256=sha, content=content, uploaded_by=actor.id,
            uploaded_at=now()).returning(case_document.c.id)).scalar_one()
        _event(conn, actor, c, "attach", None,
               detail={"document": did, "kind": kind, "sha256": sha, "size": len(content)})
        return did


# ------------------------------------------------------------------------------ deciding
def _decision_values(actor: Actor, outcome: str, detail, reason) -> dict:
    today = _today()
    return {"outcome": outcome, "decision": _json(detail or {}), "decision_reason": reason,
            "decided_by": actor.id, "decided_at": now(), "decided_on": today}


def submit_decision(db, maker: Actor, case_id: int, *, outcome: str,
                    detail: dict | None = None, reason: str | None = None) -> int:
    """The maker's proposed decision, awaiting a different staff member's check. Returns the
    approval id."""
    if not outcome:
        raise InputError("a decision needs an outcome", field="outcome")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        it = _item_of(c)
        if not it.approval_kind:
            raise ConflictError(f"{c.item} cases are decided without a second check; "
                                "use decide")
        _require_staff(maker, it, c.region)
        aid = maker_checker.submit(conn, maker, it.approval_kind, "case", c.id,
                                   region=c.region,
                                   detail={"outcome": outcome, "reason": reason,
                                           "decision": detail or {}})
        _move(conn, maker, c, "submit_decision",
              {"outcome": outcome, "decision": _json(detail or {}), "decision_reason": reason},
              detail={"approval": aid, "outcome": outcome})
        return aid


def _pending_approval(conn, c: Case, it) -> int:
    a = maker_checker.latest(conn, it.approval_kind, "case", c.id)
    if a is None or a.status != "pending":
        raise ConflictError(f"case {c.id} has no decision awaiting a check")
    return a.id


def approve_decision(db, checker: Actor, case_id: int, *, reason: str | None = None) -> Case:
    """The check: the decision takes effect (status decided) and the subject is told. The
    calling bureau then acts on ``outcome``/``decision`` in the same transaction."""
    with transaction(db) as conn:
        c = _load(conn, case_id)
        it = _item_of(c)
        a = maker_checker.approve(conn, checker, _pending_approval(conn, c, it), reason=reason)
        values = _decision_values(checker, c.outcome, c.decision, c.decision_reason)
        values["decided_by"] = a.maker
        out = _move(conn, checker, c, "approve_decision", values,
                    detail={"approval": a.id, "maker": a.maker, "outcome": c.outcome})
        _notify(conn, out, "case.decided", {"outcome": out.outcome,
                                            "reason": out.decision_reason,
                                            "seq": _event_count(conn, c.id)})
        return out


def reject_decision(db, checker: Actor, case_id: int, *, reason: str) -> Case:
    """The checker sends the proposal back to be reworked (the case stays open)."""
    with transaction(db) as conn:
        c = _load(conn, case_id)
        it = _item_of(c)
        a = maker_checker.reject(conn, checker, _pending_approval(conn, c, it), reason=reason)
        return _move(conn, checker, c, "reject_decision",
                     {"outcome": None, "decision": None, "decision_reason": None},
                     note=reason, detail={"approval": a.id})


def decide(db, actor: Actor, case_id: int, *, outcome: str, detail: dict | None = None,
           reason: str | None = None) -> Case:
    """Decide an item that needs no second check."""
    if not outcome:
        raise InputError("a decision needs an outcome", field="outcome")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        it = _item_of(c)
        if it.approval_kind:
            raise ConflictError(f"{c.item} decisions need a second check; use submit_decision")
        _require_staff(actor, it, c.region)
        out = _move(conn, actor, c, "decide", _decision_values(actor, outcome, detail, reason),
                    detail={"outcome": outcome})
        _notify(conn, out, "case.decided", {"outcome": outcome, "reason": reason,
                                            "seq": _event_count(conn, c.id)})
        return out


def close(db, actor: Actor, case_id: int, note: str | None = None) -> Case:
    with transaction(db) as conn:
        c = _load(conn, case_id)
        _require_staff(actor, _item_of(c), c.region)
        return _move(conn, actor, c, "close", {"closed_at": now()}, note)


def withdraw(db, actor: Actor, case_id: int, reason: str) -> Case:
    if not (reason and reason.strip()):
        raise InputError("a withdrawal needs a reason", field="reason")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        if not _is_applicant(actor, c.person_id, c.employer_id):
            _require_staff(actor, _item_of(c), c.region)
        return _move(conn, actor, c, "withdraw", {"closed_at": now()}, reason.strip()[:1000])


def reopen(db, actor: Actor, case_id: int, reason: str) -> Case:
    """Back to work after a decision (an appeal upheld, an administrative review, an error
    found). The earlier decision stays in the events; the due date restarts from today."""
    if not (reason and reason.strip()):
        raise InputError("reopening needs a reason", field="reason")
    with transaction(db) as conn:
        c = _load(conn, case_id)
        it = _item_of(c)
        _require_staff(actor, it, c.region)
        today = _today()
        due = add_limit(today, it.limit, it.limit_unit, catalogue.calendar(c.region, today))
        return _move(conn, actor, c, "reopen",
                     {"outcome": None, "decision": None, "decision_reason": None,
                      "decided_by": None, "decided_at": None, "decided_on": None,
                      "closed_at": None, "due_on": due},
                     reason.strip()[:1000],
                     {"previous_outcome": c.outcome, "previous_decision": c.decision})


def rate(db, actor: Actor, case_id: int, score: int, comment: str | None = None) -> None:
    """The applicant's rating (好差评), once per case, after the decision."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InputError("a rating is a whole number from 1 to 5", field="score", value=score)
    with transaction(db) as conn:
        c = _load(conn, case_id)
        if not _is_applicant(actor, c.person_id, c.employer_id):
            raise PermissionDenied("only the applicant rates a case")
        model.next_status("rate", c.status)
        if conn.execute(select(case_rating.c.id).where(case_rating.c.case_id == c.id)).first():
            raise ConflictError(f"case {c.id} has already been rated")
        conn.execute(insert(case_rating).values(
            case_id=c.id, score=score, comment=(comment or "").strip()[:500] or None,
            rated_by=actor.id, rated_at=now()))
        _event(conn, actor, c, "rate", None, detail={"score": score})


def _event_count(conn, case_id: int) -> int:
    """Distinguishes repeated notices of one kind on a case (their dedup keys)."""
    return conn.execute(select(func.count()).select_from(case_event)
                        .where(case_event.c.case_id == case_id)).scalar_one()
