"""Reads of the registry for the sharing platform (partner agencies' searches): plain rows,
unmasked; ``shebao.sharing`` checks the partner's scopes, shows only the items it holds and
audits every search. Like ``queries.py``, the only way another package reads these tables."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from . import service as reg
from .tables import enrolment, person

PARTNER_FIELDS = ("id", "citizen_id", "name", "sex", "birth_date", "status", "death_date",
                  "pension_region", "residence_region", "hukou_region")


def persons_matching(conn, *, citizen_id: str | None = None, name: str | None = None,
                     birth_date: dt.date | None = None, sex: str | None = None,
                     after: int | None = None, limit: int = 20) -> list[dict]:
    """Persons (not merged away) with this citizen ID (a merged ID finds the survivor), or
    this name and birth date (and sex): plain rows of ``PARTNER_FIELDS`` in id order, from
    id ``after``, at most ``limit``."""
    stmt = select(*[person.c[f] for f in PARTNER_FIELDS]).where(person.c.status != "merged")
    if citizen_id is not None:
        pid = reg.resolve_person_id(conn, citizen_id)
        stmt = stmt.where(person.c.id == (pid if pid is not None else -1))
    else:
        stmt = stmt.where(person.c.name == name, person.c.birth_date == birth_date)
        if sex:
            stmt = stmt.where(person.c.sex == sex)
    if after is not None:
        stmt = stmt.where(person.c.id > after)
    return [dict(r) for r in conn.execute(stmt.order_by(person.c.id).limit(limit)).mappings()]


def enrolments_of(conn, person_ids) -> dict[int, list[dict]]:
    """person id → its enrolments (scheme, kind, region, start, end, status), oldest first."""
    ids = sorted({int(i) for i in person_ids})
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    for r in conn.execute(select(enrolment.c.person_id, enrolment.c.scheme, enrolment.c.kind,
                                 enrolment.c.region, enrolment.c.start_date,
                                 enrolment.c.end_date, enrolment.c.status)
                          .where(enrolment.c.person_id.in_(ids))
                          .order_by(enrolment.c.person_id, enrolment.c.start_date)):
        out[r.person_id].append({"scheme": r.scheme, "kind": r.kind, "region": r.region,
                                 "start_date": r.start_date.isoformat(),
                                 "end_date": r.end_date.isoformat() if r.end_date else None,
                                 "status": r.status})
    return out
