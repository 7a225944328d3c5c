"""Enrolment of an employee by an employer, the way a bureau does it.

An employer may only enrol a person it can show it really is linked to:

* **A person it has employed before** (any spell with this employer, open or ended) is
  enrolled at once: the employer already holds the person's papers, and the spell is checked
  like any other (overlaps, death, plausible dates).
* **A person it has never employed** needs the person's name as well as the citizen ID, and the
  name must be the registered one. The request stays ``pending``: it opens nothing and gives the
  employer no access to the person. It becomes effective (the spell and the five employee
  enrolments are opened from the requested start date) only when **the person confirms** it in
  the citizen portal, or **a clerk of the employer's region approves** it (back office). The
  person or the clerk may refuse it instead.

Staff (a collection clerk in scope) enrol directly: they are the bureau.

An employer is never told anything about a person it cannot see: a wrong name and an unknown
citizen ID get the same answer, and refusals caused by the person's other spells or enrolments
do not name them (no ids, no dates).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.security import audit, policy

from . import model
from .access import check_employer
from .service import (employment_date_bounds, now, resolve_person_id, start_employment,
                      transaction)
from .tables import employer, employment, employment_request, person

UNKNOWN = "no registered person with this citizen ID and name"


def _generic(exc: InvariantError) -> InvariantError:
    return InvariantError("the person's record already has a spell or enrolment in this "
                          "period; the bureau can check it with the person")


def request_hire(bind, actor: Actor, employer_id: int, citizen_id: str, start_date: dt.date,
                 *, name: str | None = None, wage_fen: int | None = None,
                 wage_year: int | None = None) -> dict:
    """Enrol ``citizen_id`` with ``employer_id``. Returns ``{"status": "effective",
    "employment_id": …}`` or ``{"status": "pending", "request_id": …}`` (see the module
    docstring for which)."""
    policy.require(actor, "employment.write")
    with transaction(bind) as conn:
        check_employer(conn, actor, employer_id)
        pid = resolve_person_id(conn, citizen_id)
        staff = policy.is_staff(actor)
        known = pid is not None and conn.execute(select(employment.c.id).where(and_(
            employment.c.person_id == pid, employment.c.employer_id == employer_id))
            .limit(1)).first() is not None
        if staff or known:
            if pid is None:
                raise InputError("no registered person with this citizen ID (the bureau "
                                 "registers new persons)", field="citizen_id")
            try:
                sid = start_employment(conn, actor, pid, employer_id, start_date,
                                       wage_fen=wage_fen, wage_year=wage_year)
            except InvariantError as exc:
                if staff:
                    raise
                raise _generic(exc) from None
            return {"status": "effective", "employment_id": sid}
        given = model.check_name(name, "name") if name is not None and name.strip() else None
        if given is None:
            raise InputError("the person's name is required to enrol someone the employer "
                             "has not employed before", field="name")
        row = None if pid is None else conn.execute(
            select(person.c.name, person.c.birth_date, person.c.status)
            .where(person.c.id == pid)).first()
        if row is None or row.name != given or row.status != "active":
            raise InputError(UNKNOWN, field="citizen_id")
        region = conn.execute(select(employer.c.region).where(employer.c.id == employer_id)
                              ).scalar_one()
        model.check_employment_dates(start_date, None, row.birth_date,
                                     employment_date_bounds(region))
        if conn.execute(select(employment_request.c.id).where(and_(
                employment_request.c.person_id == pid,
                employment_request.c.employer_id == employer_id,
                employment_request.c.status == "pending"))).first():
            raise ConflictError("a request to enrol this person is already waiting for "
                                "confirmation")
        rid = conn.execute(employment_request.insert().values(
            employer_id=employer_id, person_id=pid, start_date=start_date, wage_fen=wage_fen,
            wage_year=wage_year, status="pending", requested_by=actor.id,
            requested_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "registry.employment.request", "person", pid,
                     purpose="enrolment requested by an employer",
                     detail={"request_id": rid, "employer_id": employer_id,
                             "start": start_date})
        return {"status": "pending", "request_id": rid}


def _request(conn, request_id: int) -> dict:
    r = conn.execute(select(employment_request).where(employment_request.c.id == request_id)
                     ).mappings().first()
    if r is None:
        raise InputError(f"no enrolment request {request_id}", field="request_id")
    return dict(r)


def _decider(conn, actor: Actor, req: dict) -> str:
    """``person`` or ``clerk``; PermissionDenied for anyone else (the same answer whether or
    not the request exists is not needed here: its id reveals nothing about a person)."""
    if actor.role == "citizen" and actor.person_id is not None \
            and int(actor.person_id) == req["person_id"]:
        return "person"
    if policy.has(actor, "employment.approve") and actor.role != "system":
        region = conn.execute(select(employer.c.region).where(
            employer.c.id == req["employer_id"])).scalar_one()
        policy.require_region(actor, region)
        return "clerk"
    if actor.role == "system":
        return "clerk"
    raise PermissionDenied(f"{actor.id} may not decide enrolment request {req['id']}")


def confirm_hire(bind, actor: Actor, request_id: int) -> int:
    """The person confirms, or a clerk of the employer's region approves: the spell and its
    enrolments open from the requested start date. Returns the employment id."""
    with transaction(bind) as conn:
        req = _request(conn, request_id)
        who = _decider(conn, actor, req)
        if req["status"] != "pending":
            raise InvariantError(f"enrolment request {request_id} is {req['status']}")
        sid = start_employment(conn, actor, req["person_id"], req["employer_id"],
                               req["start_date"], wage_fen=req["wage_fen"],
                               wage_year=req["wage_year"],
                               source=f"employer request {request_id}")
        conn.execute(update(employment_request).where(
            employment_request.c.id == request_id).values(
            status="effective", decided_by=actor.id, decided_as=who, decided_at=now(),
            employment_id=sid))
        audit.record(conn, actor, "registry.employment.request.confirm", "person",
                     req["person_id"], purpose=f"confirmed by the {who}",
                     detail={"request_id": request_id, "employment_id": sid})
        return sid


def refuse_hire(bind, actor: Actor, request_id: int, *, reason: str) -> None:
    if not reason or not reason.strip():
        raise InputError("a reason is required", field="reason")
    with transaction(bind) as conn:
        req = _request(conn, request_id)
        who = _decider(conn, actor, req)
        if req["status"] != "pending":
            raise InvariantError(f"enrolment request {request_id} is {req['status']}")
        conn.execute(update(employment_request).where(
            employment_request.c.id == request_id).values(
            status="refused", decided_by=actor.id, decided_as=who, decided_at=now(),
            note=reason.strip()[:200]))
        audit.record(conn, actor, "registry.employment.request.refuse", "person",
                     req["person_id"], purpose=reason.strip()[:200],
                     detail={"request_id": request_id, "by": who})


def pending_requests(bind, actor: Actor) -> list[dict]:
    """Pending requests the actor may decide: a citizen's own (with the employer named), or
    those of employers in a clerk's region (the person masked)."""
    stmt = (select(employment_request, employer.c.name.label("employer_name"),
                   employer.c.uscc.label("employer_uscc"), employer.c.region,
                   person.c.citizen_id, person.c.name)
            .join(employer, employer.c.id == employment_request.c.employer_id)
            .join(person, person.c.id == employment_request.c.person_id)
            .where(employment_request.c.status == "pending")
            .order_by(employment_request.c.id))
    if actor.role == "citizen":
        stmt = stmt.where(employment_request.c.person_id == (actor.person_id or -1))
    elif not policy.has(actor, "employment.approve"):
        raise PermissionDenied(f"role {actor.role} may not employment.approve")
    with transaction(bind) as conn:
        rows = [r for r in conn.execute(stmt).mappings()
                if actor.role == "citizen" or policy.in_region(actor, r["region"])]
    return [{"request_id": r["id"], "employer_id": r["employer_id"],
             "employer_name": r["employer_name"], "employer_uscc": r["employer_uscc"],
             "citizen_id": mask_id(r["citizen_id"]), "name": mask_name(r["name"]),
             "start_date": r["start_date"].isoformat(), "requested_by": r["requested_by"],
             "requested_at": r["requested_at"]} for r in rows]
