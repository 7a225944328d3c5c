"""Reads of cases for other packages and the channels: plain functions returning plain data.
Scope checks are the caller's (``cases.access`` for one case a channel shows)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, case as sql_case, func, select

from shebao.core import regions
from shebao.core.errors import InputError
from shebao.db.uow import reading

from . import model
from .model import Case
from .tables import case_document, case_event, case_rating, service_case


def row_to_case(r) -> Case:
    return Case(
        id=r.id, item=r.item, region=r.region, subject_type=r.subject_type,
        subject_id=r.subject_id, person_id=r.person_id, employer_id=r.employer_id,
        channel=r.channel, outlet=r.outlet, status=r.status, opened_by=r.opened_by,
        opened_at=r.opened_at, opened_on=r.opened_on, due_on=r.due_on, paused_on=r.paused_on,
        assigned_to=r.assigned_to, outcome=r.outcome,
        decision=json.loads(r.decision) if r.decision else None,
        decision_reason=r.decision_reason, decided_at=r.decided_at, decided_on=r.decided_on,
        closed_at=r.closed_at, parent_id=r.parent_id,
        detail=json.loads(r.detail) if r.detail else {})


def get(db, case_id: int) -> Case:
    with reading(db) as conn:
        r = conn.execute(select(service_case).where(service_case.c.id == case_id)).first()
    if r is None:
        raise InputError(f"no case {case_id}", field="case_id", value=case_id)
    return row_to_case(r)


def region_condition(region: str | None):
    """Cases handled in the region's subtree (prefix of the six-digit code); None = all."""
    if not region or region == regions.NATIONAL:
        return None
    prefix = region[:2] if region.endswith("0000") else region[:4] if region.endswith("00") \
        else region
    return service_case.c.region.like(prefix + "%")


def list_cases(db, *, region: str | None = None, item: str | None = None,
               item_prefix: str | None = None, status: str | tuple | None = None,
               person_id: int | None = None, employer_id: int | None = None,
               assigned_to: str | None = None, overdue_on: dt.date | None = None,
               limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases matching every filter given, oldest due first. ``overdue_on``: open and past due
    on that day (cases waiting for the applicant's documents are not overdue)."""
    conds = [c for c in (region_condition(region),) if c is not None]
    if item:
        conds.append(service_case.c.item == item)
    if item_prefix:
        conds.append(service_case.c.item.like(item_prefix + "%"))
    if status:
        statuses = (status,) if isinstance(status, str) else tuple(status)
        conds.append(service_case.c.status.in_(statuses))
    if person_id is not None:
        conds.append(service_case.c.person_id == person_id)
    if employer_id is not None:
        conds.append(service_case.c.employer_id == employer_id)
    if assigned_to:
        conds.append(service_case.c.assigned_to == assigned_to)
    if overdue_on is not None:
        conds.append(and_(service_case.c.status.in_(
            (model.RECEIVED, model.IN_PROGRESS, model.PENDING_CHECK)),
            service_case.c.due_on < overdue_on))
    q = (select(service_case).where(and_(*conds)) if conds else select(service_case)) \
        .order_by(service_case.c.due_on, service_case.c.id).limit(limit).offset(offset)
    with reading(db) as conn:
        return [row_to_case(r) for r in conn.execute(q)]


def overdue(db, on: dt.date, region: str | None = None, limit: int = 500) -> list[Case]:
    return list_cases(db, region=region, overdue_on=on, limit=limit)


def events(db, case_id: int) -> list[dict]:
    with reading(db) as conn:
        rows = conn.execute(select(case_event).where(case_event.c.case_id == case_id)
                            .order_by(case_event.c.id)).mappings().all()
    return [{**r, "detail": json.loads(r["detail"]) if r["detail"] else None} for r in rows]


def documents(db, case_id: int) -> list[dict]:
    """Documents of a case without their bytes."""
    cols = [c for c in case_document.c if c.name != "content"]
    with reading(db) as conn:
        return [dict(r) for r in conn.execute(select(*cols).where(
            case_document.c.case_id == case_id).order_by(case_document.c.id)).mappings()]


def document_content(db, document_id: int) -> tuple[int, str, str, bytes]:
    """(case id, filename, content type, bytes) of one document."""
    with reading(db) as conn:
        r = conn.execute(select(case_document.c.case_id, case_document.c.filename,
                                case_document.c.content_type, case_document.c.content)
                         .where(case_document.c.id == document_id)).first()
    if r is None:
        raise InputError(f"no document {document_id}", field="document_id", value=document_id)
    return r.case_id, r.filename, r.content_type, bytes(r.content)


def rating(db, case_id: int) -> dict | None:
    with reading(db) as conn:
        r = conn.execute(select(case_rating).where(case_rating.c.case_id == case_id)
                         ).mappings().first()
    return dict(r) if r else None


@dataclass(frozen=True)
class OnTime:
    """One line of the on-time report: cases of an item at an outlet opened in the period."""
    item: str
    outlet: str | None
    opened: int
    decided: int
    on_time: int
    late: int
    open_overdue: int
    ratings: int
    mean_rating: float | None

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.decided else self.on_time / self.decided


def on_time(db, date_from: dt.date, date_to: dt.date, *, region: str | None = None,
            today: dt.date | None = None) -> list[OnTime]:
    """Per item and outlet, for cases opened in [date_from, date_to]: how many were decided,
    how many by their due date, how many are still open past it on ``today``, and the mean
    rating. One grouped query."""
    today = today or date_to
    sc = service_case
    decided = sc.c.decided_on.isnot(None)
    conds = [sc.c.opened_on >= date_from, sc.c.opened_on <= date_to]
    rc = region_condition(region)
    if rc is not None:
        conds.append(rc)
    q = (select(
        sc.c.item, sc.c.outlet, func.count().label("opened"),
        func.sum(sql_case((decided, 1), else_=0)).label("decided"),
        func.sum(sql_case((and_(decided, sc.c.decided_on <= sc.c.due_on), 1), else_=0))
        .label("on_time"),
        func.sum(sql_case((and_(decided, sc.c.decided_on > sc.c.due_on), 1), else_=0))
        .label("late"),
        func.sum(sql_case((and_(sc.c.status.in_(
            (model.RECEIVED, model.IN_PROGRESS, model.PENDING_CHECK)),
            sc.c.due_on < today), 1), else_=0)).label("open_overdue"),
        func.count(case_rating.c.id).label("ratings"),
        func.avg(case_rating.c.score).label("mean_rating"))
        .select_from(sc.outerjoin(case_rating, case_rating.c.case_id == sc.c.id))
        .where(and_(*conds)).group_by(sc.c.item, sc.c.outlet)
        .order_by(sc.c.item, sc.c.outlet))
    with reading(db) as conn:
        return [OnTime(r.item, r.outlet, int(r.opened), int(r.decided or 0),
                       int(r.on_time or 0), int(r.late or 0), int(r.open_overdue or 0),
                       int(r.ratings), float(r.mean_rating) if r.mean_rating is not None
                       else None) for r in conn.execute(q)]


