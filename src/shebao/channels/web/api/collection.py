"""API: wage declarations, bills, the collection month dashboard (the collection bureau)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shebao.collection import access as coll_access
from shebao.collection import bills, declarations
from shebao.collection import queries as coll_q
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.money import to_fen
from shebao.core.periods import parse_month

from .. import idempotency, pagination
from ..deps import current_actor, engine, needs
from ..pagination import Page
from .params import Cursor, IdemKey, Limit, MONTH_PATTERN, Month, PathId

router = APIRouter()


class DeclarationIn(BaseModel):
    citizen_id: str = Field(min_length=1, max_length=20)
    year: int = Field(ge=1990, le=2100)
    wage: str = Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$", description="average monthly wage, yuan")


class DeclarationOut(BaseModel):
    id: int
    person_id: int
    effective_from: str
    wage: str
    base: str
    clamp: str
    reason: str


class BillBrief(BaseModel):
    id: int
    e2e_id: str
    region: str
    month: str
    total: str
    paid: str
    outstanding: str
    status: str
    due_date: str


class BillLine(BaseModel):
    scheme: str
    employer: str
    employee: str
    amount: str
    paid: str


class BillPerson(BaseModel):
    person_id: int
    citizen_id: str
    name: str
    wage: str
    base: str
    why: str
    amount: str


class BillOut(BaseModel):
    bill_id: int
    e2e_id: str
    region: str
    month: str
    payer_type: str
    payer_id: int
    total: str
    paid: str
    outstanding: str
    status: str
    due_date: str
    lines: list[BillLine]
    persons: list[BillPerson]


class BillsIn(BaseModel):
    region: str = Field(pattern=r"^\d{6}$")
    month: Month


class BillsOut(BaseModel):
    region: str
    month: str
    bills: int
    new: int
    changed: int
    total: str


class Dashboard(BaseModel):
    region: str
    month: str
    ok: bool
    totals: dict[str, str]
    differences: list[dict]
    arrears: dict


def _month(text: str, field: str = "month"):
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from None


@router.post("/employers/{employer_id}/declarations", response_model=DeclarationOut,
             tags=["collection"], summary="Declare an employee's average monthly wage (the base "
             "follows, clamped to the limits); needs Idempotency-Key")
def declare(request: Request, employer_id: PathId, body: DeclarationIn,
            idempotency_key: IdemKey = None,
            actor: Actor = Depends(needs("declaration.write")), eng=Depends(engine)):
    if employer_id < 1 or employer_id > 2 ** 62:
        raise InputError("not a valid id", field="employer_id")
    return idempotency.run(
        request, actor.id, idempotency_key, body.model_dump() | {"employer_id": employer_id},
        lambda: declarations.declare_for_employer(eng, actor, employer_id, body.citizen_id, body.year,
                           to_fen(body.wage)))


@router.get("/employers/{employer_id}/bills", response_model=Page[BillBrief],
            tags=["collection"], summary="An employer's bills, newest first")
def employer_bills(employer_id: PathId, limit: Limit = 50, cursor: Cursor = None,
                   actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if employer_id < 1 or employer_id > 2 ** 62:
        raise InputError("not a valid id", field="employer_id")
    items, nxt = coll_q.bills_of_employer(eng, actor, employer_id, limit=limit,
                                      after=pagination.decode(cursor))
    return Page[BillBrief](items=items, next_cursor=pagination.encode(nxt) if nxt else None)


@router.get("/bills/{bill_id}", response_model=BillOut, tags=["collection"],
            summary="A bill with its lines and persons (masked)")
def bill_get(bill_id: PathId, actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if bill_id < 1 or bill_id > 2 ** 62:
        raise InputError("not a valid id", field="bill_id")
    return coll_q.bill_detail(eng, actor, bill_id)


@router.post("/collection/bills", response_model=BillsOut, tags=["collection"],
             summary="(Re)build the bills of a region × month from the assessment; needs "
             "Idempotency-Key")
def make_bills(request: Request, body: BillsIn, idempotency_key: IdemKey = None,
               actor: Actor = Depends(needs("collection.run")), eng=Depends(engine)):
    coll_access.require_region(actor, body.region, "collection.run")
    month = _month(body.month)
    return idempotency.run(request, actor.id, idempotency_key, body.model_dump(),
                           lambda: bills.make_bills(eng, actor, body.region, month).as_dict())


@router.get("/collection/dashboard", response_model=Dashboard, tags=["collection"],
            summary="Assessed, billed, collected, reconciled and arrears for a region × month")
def dashboard(region: Annotated[str, Query(pattern=r"^\d{6}$")],
              month: Annotated[str, Query(pattern=MONTH_PATTERN)],
              actor: Actor = Depends(needs("collection.read")), eng=Depends(engine)):
    d = coll_q.dashboard(eng, actor, region, _month(month))
    return {k: d[k] for k in Dashboard.model_fields}

