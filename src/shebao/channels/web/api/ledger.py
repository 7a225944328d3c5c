"""API: individual-account statements (the ledger), for staff in scope and the citizen."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.ledger import service as ledger
from shebao.registry import access

from .. import pagination
from ..deps import current_actor, engine, needs, purpose
from .params import Cursor, Limit, PathId

router = APIRouter()
Scheme = Literal["pension", "medical"]


class Line(BaseModel):
    effective_date: dt.date
    entry_id: int
    region: str
    source: str
    memo: str | None
    amount: str
    balance: str


class StatementOut(BaseModel):
    person_id: int
    scheme: str
    closing_balance: str
    items: list[Line]
    next_cursor: str | None = None


def statement_page(eng, actor: Actor, person_id: int, scheme: str, limit: int, cursor,
                   why: str | None) -> StatementOut:
    with eng.connect() as conn:
        access.check_person(conn, actor, person_id)
    st = ledger.statement(eng, actor, person_id, scheme,
                          purpose=why or "individual account statement")
    start = pagination.decode(cursor) or 0
    lines = st.lines[start:start + limit]
    nxt = pagination.encode(start + limit) if start + limit < len(st.lines) else None
    return StatementOut(person_id=person_id, scheme=scheme,
                        closing_balance=fen_to_yuan_str(st.closing_balance), next_cursor=nxt,
                        items=[Line(effective_date=ln.effective_date, entry_id=ln.entry_id,
                                    region=ln.region, source=ln.source, memo=ln.memo,
                                    amount=fen_to_yuan_str(ln.amount),
                                    balance=fen_to_yuan_str(ln.balance)) for ln in lines])


@router.get("/persons/{person_id}/statements/{scheme}", response_model=StatementOut,
            tags=["ledger"], summary="Individual-account statement with running balance")
def person_statement(person_id: PathId, scheme: Scheme, limit: Limit = 100,
                     cursor: Cursor = None, actor: Actor = Depends(needs("account.read")),
                     why: str | None = Depends(purpose), eng=Depends(engine)):
    if person_id < 1 or person_id > 2 ** 62:
        raise PermissionDenied("no such person")
    return statement_page(eng, actor, person_id, scheme, limit, cursor, why)


@router.get("/me/statements/{scheme}", response_model=StatementOut, tags=["me"],
            summary="My individual-account statement")
def my_statement(scheme: Scheme, limit: Limit = 100, cursor: Cursor = None,
                 actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("only citizens have their own statement")
    return statement_page(eng, actor, actor.person_id, scheme, limit, cursor, "my statement")
