"""API: persons, employers, employment spells and enrolments (the registry bureau), and the
citizen's own contact details. Scope checks first, then the registry's services."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from shebao.collection import enrolment  # hires open the individual accounts (#19)
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.registry import access, hiring, queries
from shebao.registry import model as reg_model
from shebao.registry import service as reg

from .. import pagination
from ..deps import current_actor, engine, needs, purpose
from ..pagination import Page
from .params import Cursor, Limit, PathId

router = APIRouter()
Region = Annotated[str | None, Field(None, pattern=r"^\d{6}$")]


class PersonBrief(BaseModel):
    id: int
    citizen_id: str
    name: str
    sex: str | None
    birth_year: int | None
    region: str | None
    status: str


class PersonIn(BaseModel):
    citizen_id: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=64)
    hukou_region: Region = None
    residence_region: Region = None
    pension_region: Region = None
    phone: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=200)


class PersonOut(BaseModel):
    id: int
    citizen_id: str
    name: str
    sex: str | None
    birth_date: dt.date | None
    hukou_region: str | None
    residence_region: str | None
    pension_region: str | None
    phone: str | None
    address: str | None
    notify_channels: str | None
    status: str
    death_date: dt.date | None
    version: int


class Enrolment(BaseModel):
    id: int
    scheme: str
    region: str
    kind: str
    employer_id: int | None
    start_date: dt.date
    end_date: dt.date | None
    status: str


class Spell(BaseModel):
    id: int
    employer_id: int
    employer_name: str
    start_date: dt.date
    end_date: dt.date | None
    leave_reason: str | None


class PersonFull(BaseModel):
    person: PersonOut
    enrolments: list[Enrolment]
    employment: list[Spell]


class Version(BaseModel):
    version: int
    valid_from: dt.date
    valid_to: dt.date | None
    recorded_by: str
    reason: str
    source: str


class EmployerBrief(BaseModel):
    id: int
    uscc: str
    name: str
    region: str
    industry_code: str
    risk_class: int
    status: str


class Employee(BaseModel):
    employment_id: int
    person_id: int
    citizen_id: str
    name: str
    start_date: dt.date
    end_date: dt.date | None
    leave_reason: str | None


class HireIn(BaseModel):
    citizen_id: str = Field(min_length=1, max_length=20)
    name: str | None = Field(None, max_length=64, description="the person's registered name: "
                             "required to enrol a person the employer has not employed before")
    start_date: dt.date
    monthly_wage: str | None = Field(None, max_length=20, pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$",
                                     description="declared average monthly wage, yuan")


class PendingHire(BaseModel):
    request_id: int
    status: Literal["pending"]
    start_date: dt.date


class HireRequest(BaseModel):
    request_id: int
    employer_id: int
    employer_name: str
    employer_uscc: str
    citizen_id: str
    name: str
    start_date: dt.date
    requested_at: dt.datetime


class RefuseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class EndIn(BaseModel):
    end_date: dt.date
    leave_reason: Literal[tuple(sorted(reg_model.LEAVE_REASONS))]  # type: ignore[valid-type]


class ContactIn(BaseModel):
    phone: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=200)
    notify_channels: list[Literal[reg_model.NOTIFY_CHANNELS]] = Field(  # type: ignore
        default_factory=list, max_length=5)


def _person_out(p: dict) -> PersonOut:
    return PersonOut(**{k: p.get(k) for k in PersonOut.model_fields})


def _full(d: dict) -> PersonFull:
    return PersonFull(
        person=_person_out(d["person"]),
        enrolments=[Enrolment(**{k: e[k] for k in Enrolment.model_fields})
                    for e in d["enrolments"]],
        employment=[Spell(id=s["id"], employer_id=s["employer_id"],
                          employer_name=s["employer_name"], start_date=s["start_date"],
                          end_date=s["end_date"], leave_reason=s["leave_reason"])
                    for s in d["employment"]])


@router.get("/persons", response_model=Page[PersonBrief], tags=["registry"],
            summary="Search persons (masked): citizen ID, person number or exact name")
def persons(q: Annotated[str | None, Query(max_length=64)] = None, limit: Limit = 50,
            cursor: Cursor = None, actor: Actor = Depends(needs("person.read")),
            why: str | None = Depends(purpose), eng=Depends(engine)):
    items, nxt = queries.search_persons(eng, actor, q, limit=limit,
                                      after=pagination.decode(cursor), purpose=why)
    return Page[PersonBrief](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


@router.post("/persons", response_model=PersonOut, status_code=201, tags=["registry"],
             summary="Register a person (region must be in the clerk's scope)")
def person_create(body: PersonIn, actor: Actor = Depends(needs("person.write")),
                  eng=Depends(engine)):
    pid = register_person(eng, actor, body.model_dump())
    return _person_out(queries.person_detail(eng, actor, pid, purpose="registration")["person"])


@router.get("/persons/{person_id}", response_model=PersonFull, tags=["registry"],
            summary="A person in full (audited read; send X-Purpose)")
def person_get(person_id: PathId, actor: Actor = Depends(needs("person.read")),
               why: str | None = Depends(purpose), eng=Depends(engine)):
    _id_ok(person_id, "person_id")
    return _full(queries.person_detail(eng, actor, person_id, purpose=why))


@router.get("/persons/{person_id}/history", response_model=Page[Version], tags=["registry"])
def person_history(person_id: PathId, limit: Limit = 50, cursor: Cursor = None,
                   actor: Actor = Depends(needs("person.read")),
                   why: str | None = Depends(purpose), eng=Depends(engine)):
    _id_ok(person_id, "person_id")
    after = pagination.decode(cursor) or 0
    rows = [r for r in queries.person_history(eng, actor, person_id, purpose=why)
            if r["version"] > after]
    rows, nxt = pagination.page(rows[:limit + 1], limit, lambda r: r["version"])
    return Page[Version](items=[Version(**{k: r[k] for k in Version.model_fields})
                                for r in rows], next_cursor=nxt)


@router.get("/employers", response_model=Page[EmployerBrief], tags=["registry"])
def employers(q: Annotated[str | None, Query(max_length=120)] = None, limit: Limit = 50,
              cursor: Cursor = None, actor: Actor = Depends(needs("employer.read")),
              eng=Depends(engine)):
    items, nxt = queries.search_employers(eng, actor, q, limit=limit,
                                        after=pagination.decode(cursor))
    return Page[EmployerBrief](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


@router.get("/employers/{employer_id}", response_model=EmployerBrief, tags=["registry"])
def employer_get(employer_id: PathId, actor: Actor = Depends(needs("employer.read")),
                 eng=Depends(engine)):
    _id_ok(employer_id, "employer_id")
    d = queries.employer_detail(eng, actor, employer_id)
    return EmployerBrief(**{k: d[k] for k in EmployerBrief.model_fields})


@router.get("/employers/{employer_id}/employees", response_model=Page[Employee],
            tags=["registry"], summary="Employment spells of an employer (masked)")
def employer_employees(employer_id: PathId, limit: Limit = 50, cursor: Cursor = None,
                       current: bool = False, actor: Actor = Depends(needs("employer.read")),
                       why: str | None = Depends(purpose), eng=Depends(engine)):
    _id_ok(employer_id, "employer_id")
    items, nxt = queries.employees(eng, actor, employer_id, limit=limit,
                                 after=pagination.decode(cursor), current_only=current,
                                 purpose=why)
    return Page[Employee](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


@router.post("/employers/{employer_id}/employees", response_model=Employee | PendingHire,
             status_code=201, tags=["registry"],
             responses={202: {"model": PendingHire, "description": "pending confirmation"}},
             summary="Enrol an employee (opens a spell and the five schemes)",
             description="A person the employer has employed before is enrolled at once (201). "
                         "Anyone else needs `name` (the registered name) and stays pending "
                         "(202) until the person confirms or a clerk of the region approves.")
def employer_hire(employer_id: PathId, body: HireIn, response: Response,
                  actor: Actor = Depends(needs("employment.write")), eng=Depends(engine)):
    _id_ok(employer_id, "employer_id")
    out = hire(eng, actor, employer_id, body.citizen_id, body.start_date, body.monthly_wage,
               name=body.name)
    if out.get("status") == "pending":
        response.status_code = 202
    return out


@router.get("/employment-requests", response_model=list[HireRequest], tags=["registry"],
            summary="Pending enrolment requests of employers in my region")
def hire_requests(actor: Actor = Depends(needs("employment.approve")), eng=Depends(engine)):
    return hiring.pending_requests(eng, actor)


@router.post("/employment-requests/{request_id}/approve", response_model=Employee,
             tags=["registry"], summary="Approve an employer's enrolment request (clerk)")
def hire_approve(request_id: PathId, actor: Actor = Depends(needs("employment.approve")),
                 eng=Depends(engine)):
    _id_ok(request_id, "request_id")
    return _decided(eng, actor, enrolment.confirm_hire(eng, actor, request_id))


@router.post("/employment-requests/{request_id}/refuse", status_code=204, tags=["registry"])
def hire_refuse(request_id: PathId, body: RefuseIn,
                actor: Actor = Depends(needs("employment.approve")), eng=Depends(engine)):
    _id_ok(request_id, "request_id")
    hiring.refuse_hire(eng, actor, request_id, reason=body.reason)


@router.get("/me/employment-requests", response_model=list[HireRequest], tags=["me"],
            summary="Employers asking to enrol me")
def my_hire_requests(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    _citizen(actor)
    return hiring.pending_requests(eng, actor)


@router.post("/me/employment-requests/{request_id}/confirm", response_model=Employee,
             tags=["me"], summary="Confirm that this employer employs me")
def my_hire_confirm(request_id: PathId, actor: Actor = Depends(current_actor),
                    eng=Depends(engine)):
    _citizen(actor)
    _id_ok(request_id, "request_id")
    return _decided(eng, actor, enrolment.confirm_hire(eng, actor, request_id))


@router.post("/me/employment-requests/{request_id}/refuse", status_code=204, tags=["me"])
def my_hire_refuse(request_id: PathId, body: RefuseIn, actor: Actor = Depends(current_actor),
                   eng=Depends(engine)):
    _citizen(actor)
    _id_ok(request_id, "request_id")
    hiring.refuse_hire(eng, actor, request_id, reason=body.reason)


def _citizen(actor: Actor) -> None:
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("only citizens decide requests about themselves here")


def _decided(eng, actor: Actor, sid: int) -> dict:
    """The spell just opened, as the person (masked, as everywhere in lists) or the clerk
    sees it."""
    with eng.connect() as conn:
        row = queries.employment_of(conn, sid)
    p = queries.person_detail(eng, actor, row["person_id"], purpose="enrolment confirmed")
    return {"employment_id": sid, "person_id": row["person_id"],
            "citizen_id": mask_id(p["person"]["citizen_id"]),
            "name": mask_name(p["person"]["name"]), "start_date": row["start_date"],
            "end_date": row["end_date"], "leave_reason": row["leave_reason"]}


def register_person(eng, actor: Actor, fields: dict) -> int:
    """A clerk registers a person of their region subtree."""
    access.check_new_person_region(actor, fields)
    return reg.register_person(eng, actor, **fields)


def hire(eng, actor: Actor, employer_id: int, citizen_id: str, start_date: dt.date,
         monthly_wage: str | None, *, name: str | None = None) -> dict:
    """An enrolled employee (masked), or ``{"status": "pending", …}`` (registry.hiring)."""
    from shebao.core.money import to_fen
    wage = to_fen(monthly_wage) if monthly_wage else None
    out = enrolment.request_hire(eng, actor, employer_id, citizen_id, start_date, name=name,
                              wage_fen=wage,
                              wage_year=start_date.year - 1 if wage is not None else None)
    if out["status"] == "pending":
        return {"request_id": out["request_id"], "status": "pending", "start_date": start_date}
    sid = out["employment_id"]
    items, _ = queries.employees(eng, actor, employer_id, limit=1, after=sid - 1,
                                 purpose="employee enrolled")
    return items[0]


@router.post("/employments/{employment_id}/end", response_model=Employee, tags=["registry"],
             summary="End an employment spell (and its enrolments)")
def employment_end(employment_id: PathId, body: EndIn,
                   actor: Actor = Depends(needs("employment.write")), eng=Depends(engine)):
    _id_ok(employment_id, "employment_id")
    return end_spell(eng, actor, employment_id, body.end_date, body.leave_reason)


def end_spell(eng, actor: Actor, employment_id: int, end_date: dt.date, reason: str) -> dict:
    with eng.connect() as conn:
        row = queries.employment_of(conn, employment_id)
        if row is None:
            raise InputError(f"no employment spell {employment_id}", field="employment_id")
        access.check_employer(conn, actor, row["employer_id"])
    reg.end_employment(eng, actor, employment_id, end_date, leave_reason=reason)
    items, _ = queries.employees(eng, actor, row["employer_id"], limit=1,
                               after=employment_id - 1, purpose="employee left")
    return items[0]


@router.get("/me/contact", response_model=ContactIn, tags=["me"],
            summary="My contact details and notification channels")
def my_contact(actor: Actor = Depends(current_actor), eng=Depends(engine)):
    p = _self(eng, actor, "contact details")
    return ContactIn(phone=p["phone"], address=p["address"],
                     notify_channels=[c for c in (p["notify_channels"] or "").split(",") if c])


@router.put("/me/contact", response_model=ContactIn, tags=["me"])
def my_contact_put(body: ContactIn, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    _self(eng, actor, "contact details")
    update_contact(eng, actor, body.phone, body.address, body.notify_channels)
    return my_contact(actor, eng)


def _self(eng, actor: Actor, why: str) -> dict:
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("only citizens have their own record here")
    return reg.get_person(eng, actor, actor.person_id, purpose=why)


def update_contact(eng, actor: Actor, phone, address, channels) -> None:
    if not channels:
        raise InputError("keep at least one channel so the bureau can reach you",
                         field="notify_channels")
    changes: dict[str, Any] = {"phone": phone or None, "address": (address or "").strip() or None,
                               "notify_channels": ",".join(channels)}
    if changes["phone"] is None:
        raise InputError("a mobile number is required", field="phone")
    reg.change_person(eng, actor, actor.person_id, changes, reason="citizen updated contact "
                      "details online", source="citizen portal")


def _id_ok(value: int, field: str) -> None:
    if value < 1 or value > 2 ** 62:
        raise InputError("not a valid id", field=field)
