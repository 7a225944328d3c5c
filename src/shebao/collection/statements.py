"""The yearly personal rights statement (权益记录单) announced to every insured person: one
notice per person with contributions in the year, in one set-based statement (the statement
itself is read in the portal, ``/me/rights-statement``)."""
from __future__ import annotations

import datetime as dt

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.db.uow import transaction
from shebao.notices import bulk
from shebao.security import audit, policy


def _like(region: str) -> str:
    if region == regions.NATIONAL:
        return "%"
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


def months_by_person_sql() -> str:
    """Derived table (recipient_id, region, months): persons with contributions paid or due
    in the months ``:m_from``–``:m_to`` in regions ``LIKE :like`` (a month counts when the
    runs of it sum to more than zero; the region is the latest of the year)."""
    return ("SELECT m.person_id AS recipient_id, MAX(m.region) AS region, COUNT(*) AS months "
            "FROM (SELECT person_id, month, MAX(region) AS region FROM contribution "
            "WHERE month >= :m_from AND month <= :m_to AND region LIKE :like "
            "GROUP BY person_id, month HAVING SUM(total_fen) > 0) m GROUP BY m.person_id")


def announce_yearly_statements(db, actor: Actor, region: str, year: int) -> int:
    """Enqueue ``contribution.statement`` for ``year`` to every person with contributions in
    the region subtree; returns the number of notices added (a rerun adds none)."""
    policy.require(actor, "collection.run")
    region = regions.check_region(region)
    policy.require_region(actor, region)
    if not 1990 <= year < dt.date.today().year + 1:
        raise InputError("year out of range", field="year", value=year)
    with transaction(db) as conn:
        n = bulk.enqueue_from(
            conn, months_by_person_sql(),
            {"m_from": dt.date(year, 1, 1), "m_to": dt.date(year, 12, 31),
             "like": _like(region)},
            recipient_type="person", template="contribution.statement",
            key_prefix=f"statement:{year}:", data={"year": year}, int_columns=["months"])
        audit.record(conn, actor, "collection.statements.announce", "region", region,
                     detail={"year": year, "notices": n})
    return n
