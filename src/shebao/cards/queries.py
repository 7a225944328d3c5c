"""How other packages (and the channels, through ``access.py``) read cards: plain data."""
from __future__ import annotations

from sqlalchemy import select

from shebao.core.ids import mask_id
from shebao.db.uow import reading

from .tables import card


def _plain(r) -> dict:
    d = dict(r)
    d["bank_account"] = mask_id(d["bank_account"]) if d.get("bank_account") else None
    return d


def card_of_person(bind, person_id: int) -> dict | None:
    """The person's card in force, else the latest one (bank account masked); None if none."""
    with reading(bind) as conn:
        rows = conn.execute(select(card).where(card.c.person_id == person_id)
                            .order_by(card.c.id.desc())).mappings().all()
    if not rows:
        return None
    current = [r for r in rows if r["status"] in ("applied", "issued", "active")]
    return _plain(current[0] if current else rows[0])


def card_row(bind, card_id: int) -> dict | None:
    with reading(bind) as conn:
        r = conn.execute(select(card).where(card.c.id == card_id)).mappings().first()
    return _plain(r) if r else None


def cards_with_status(bind, status: str, *, region_prefix: str = "", after: int | None = None,
                      limit: int = 50) -> list[dict]:
    """Cards of one status whose region starts with ``region_prefix`` (``""``: all), by id."""
    stmt = select(card).where(card.c.status == status)
    if region_prefix:
        stmt = stmt.where(card.c.region.like(region_prefix + "%"))
    if after is not None:
        stmt = stmt.where(card.c.id > after)
    with reading(bind) as conn:
        return [_plain(r) for r in conn.execute(stmt.order_by(card.c.id).limit(limit)).mappings()]
