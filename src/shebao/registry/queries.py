"""Reads of the registry's tables for other packages and the channels: plain functions
returning plain data (dicts, lists, ids). Nothing outside ``shebao.registry`` reads the
registry's tables any other way.

Functions that show personal data to an actor take the actor, check scope through
:mod:`shebao.registry.access` first, mask in lists and write an audit row for every list or
search that shows personal data. Functions without an actor are for batch services of other
bureaus (they receive the facts they need, never a record to show).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_id, mask_name, parse_citizen_id
from shebao.security import audit, policy

from . import access
from . import service as reg
from .model import person_region
from .tables import employer, employment, enrolment, person

DEFAULT_PURPOSE = "case handling"


def masked_person(r) -> dict:
    return {"id": r.id, "citizen_id": mask_id(r.citizen_id), "name": mask_name(r.name),
            "sex": r.sex, "birth_year": r.birth_date.year if r.birth_date else None,
            "region": person_region(r), "status": r.status}


def search_persons(engine, actor: Actor, q: str | None, *, limit: int, after: int | None,
                   purpose: str | None = None) -> tuple[list[dict], int | None]:
    """Persons matching a citizen ID (full or prefix), a person number or a name; masked.
    Staff see their region subtree, employers their current employees, citizens themselves."""
    policy.require(actor, "person.read")
    q = (q or "").strip()
    if len(q) > 64:
        raise InputError("at most 64 characters", field="q")
    stmt = select(person).where(person.c.status != "merged")
    if q:
        cid = parse_citizen_id(q)
        conds = [person.c.citizen_id == (cid.normalized if cid.valid else q.upper()),
                 person.c.name == q]
        if q.isdigit() and len(q) <= 12:
            conds.append(person.c.id == int(q))
        if len(q) >= 6 and q[:6].isdigit():
            conds.append(person.c.citizen_id.like(q.upper() + "%"))
        stmt = stmt.where(or_(*conds))
    if actor.role == "citizen":
        stmt = stmt.where(person.c.id == (actor.person_id or -1))
    elif actor.role == "employer":
        today = dt.date.today()
        stmt = stmt.where(person.c.id.in_(select(employment.c.person_id).where(
            employment.c.employer_id == (actor.employer_id or -1),
            or_(employment.c.end_date.is_(None), employment.c.end_date >= today))))
    else:
        cond = access.scope_filter(actor, person.c.pension_region, person.c.residence_region,
                                   person.c.hukou_region)
        if cond is not None:
            stmt = stmt.where(cond)
    if after is not None:
        stmt = stmt.where(person.c.id > after)
    with engine.begin() as conn:
        rows = conn.execute(stmt.order_by(person.c.id).limit(limit * 3 + 1)).all()
        # the SQL prefix filter is coarse; the policy decides exactly
        rows = [r for r in rows if actor.role in ("citizen", "employer")
                or policy.in_region(actor, person_region(r))]
        more = len(rows) > limit
        rows = rows[:limit]
        audit.record(conn, actor, "registry.person.search", "person", None,
                     fields=["citizen_id", "name", "sex", "birth_date"],
                     purpose=purpose or "search",
                     detail={"query": mask_id(q) if q[:6].isdigit() else mask_name(q),
                             "results": [r.id for r in rows]})
    return [masked_person(r) for r in rows], (rows[-1].id if more and rows else None)


def person_detail(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """A person (full, or masked for an employer; audited), with enrolments and spells — an
    employer sees only its own."""
    p = access.access_person(engine, actor, person_id, purpose or DEFAULT_PURPOSE)
    with engine.connect() as conn:
        enr = [dict(r) for r in conn.execute(select(enrolment).where(
            enrolment.c.person_id == person_id).order_by(enrolment.c.start_date,
                                                         enrolment.c.id)).mappings()]
        spells = [dict(r) for r in conn.execute(
            select(employment, employer.c.name.label("employer_name"),
                   employer.c.uscc.label("employer_uscc"))
            .join(employer, employer.c.id == employment.c.employer_id)
            .where(employment.c.person_id == person_id)
            .order_by(employment.c.start_date, employment.c.id)).mappings()]
    if actor.role == "employer":  # an employer sees its own spells only
        spells = [s for s in spells if s["employer_id"] == actor.employer_id]
        enr = [e for e in enr if e["employer_id"] == actor.employer_id]
    return {"person": p, "enrolments": enr, "employment": spells}


def person_history(engine, actor: Actor, person_id: int, *, purpose: str | None = None):
    """Every version of a person (audited). An employer gets the versions' dates and reasons
    only, never their contents."""
    with engine.connect() as conn:
        access.check_person(conn, actor, person_id)
    rows = reg.person_history(engine, actor, person_id, purpose=purpose or DEFAULT_PURPOSE)
    if policy.sees_masked(actor):
        keep = ("version", "valid_from", "valid_to", "recorded_by", "reason", "source")
        rows = [{k: r[k] for k in keep} for r in rows]
    return rows


def search_employers(engine, actor: Actor, q: str | None, *, limit: int, after: int | None
                     ) -> tuple[list[dict], int | None]:
    policy.require(actor, "employer.read")
    q = (q or "").strip()
    if len(q) > 120:
        raise InputError("at most 120 characters", field="q")
    stmt = select(employer)
    if q:
        conds = [employer.c.uscc == q.upper(), employer.c.name.like(f"%{q}%")]
        if q.isdigit() and len(q) <= 12:
            conds.append(employer.c.id == int(q))
        stmt = stmt.where(or_(*conds))
    if actor.role == "employer":
        stmt = stmt.where(employer.c.id == (actor.employer_id or -1))
    else:
        cond = access.scope_filter(actor, employer.c.region)
        if cond is not None:
            stmt = stmt.where(cond)
    if after is not None:
        stmt = stmt.where(employer.c.id > after)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(employer.c.id).limit(limit * 3 + 1)).all()
    rows = [r for r in rows if actor.role == "employer" or policy.in_region(actor, r.region)]
    more = len(rows) > limit
    rows = rows[:limit]
    return ([{"id": r.id, "uscc": r.uscc, "name": r.name, "region": r.region,
              "industry_code": r.industry_code, "risk_class": r.risk_class,
              "status": r.status} for r in rows], rows[-1].id if more and rows else None)


def employer_detail(engine, actor: Actor, employer_id: int) -> dict:
    return access.access_employer(engine, actor, employer_id)


def employees(engine, actor: Actor, employer_id: int, *, limit: int, after: int | None,
              current_only: bool = False, purpose: str | None = None
              ) -> tuple[list[dict], int | None]:
    """Employment spells of an employer with the employee masked; audited list read."""
    with engine.begin() as conn:
        access.check_employer(conn, actor, employer_id)
        stmt = (select(employment, person.c.citizen_id, person.c.name)
                .join(person, person.c.id == employment.c.person_id)
                .where(employment.c.employer_id == employer_id))
        if current_only:
            stmt = stmt.where(employment.c.end_date.is_(None))
        if after is not None:
            stmt = stmt.where(employment.c.id > after)
        rows = conn.execute(stmt.order_by(employment.c.id).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        audit.record(conn, actor, "registry.employees.list", "employer", employer_id,
                     fields=["citizen_id", "name"], purpose=purpose or "employee list",
                     detail={"persons": [r.person_id for r in rows]})
    return ([{"employment_id": r.id, "person_id": r.person_id,
              "citizen_id": mask_id(r.citizen_id), "name": mask_name(r.name),
              "start_date": r.start_date.isoformat(),
              "end_date": r.end_date.isoformat() if r.end_date else None,
              "leave_reason": r.leave_reason} for r in rows],
            rows[-1].id if more and rows else None)


def employment_of(conn, employment_id: int) -> dict | None:
    r = conn.execute(select(employment).where(employment.c.id == employment_id)
                     ).mappings().first()
    return dict(r) if r is not None else None


__all__ = ["search_persons", "person_detail", "person_history", "search_employers",
           "employer_detail", "employees", "employment_of", "masked_person", "DEFAULT_PURPOSE"]


# --- read by benefits ---
def identities(conn, person_ids) -> dict[int, dict]:
    """person id → {citizen_id, name} (unmasked: the caller masks what it shows)."""
    ids = sorted({int(i) for i in person_ids})
    out: dict[int, dict] = {}
    for i in range(0, len(ids), 5000):
        for r in conn.execute(select(person.c.id, person.c.citizen_id, person.c.name).where(
                person.c.id.in_(ids[i:i + 5000]))):
            out[r.id] = {"citizen_id": r.citizen_id, "name": r.name}
    return out


def person_facts(conn, person_ids) -> dict[int, dict]:
    """person id → {id, sex, birth_date, status, death_date, pension_region}: what pension
    determination and payroll decide on. Unknown ids are absent."""
    ids = sorted({int(i) for i in person_ids})
    out: dict[int, dict] = {}
    cols = (person.c.id, person.c.sex, person.c.birth_date, person.c.status,
            person.c.death_date, person.c.pension_region)
    for i in range(0, len(ids), 5000):
        for r in conn.execute(select(*cols).where(person.c.id.in_(ids[i:i + 5000]))).mappings():
            out[r["id"]] = dict(r)
    return out


def active_persons_in(conn, region_like: str) -> list:
    """Active persons with a birth date whose pension region matches the LIKE pattern
    ``region_like`` (a region subtree, e.g. ``31%``): rows (id, sex, birth_date,
    pension_region) in id order."""
    return conn.execute(select(person.c.id, person.c.sex, person.c.birth_date,
                               person.c.pension_region).where(
        person.c.status == "active", person.c.birth_date.is_not(None),
        person.c.pension_region.like(region_like)).order_by(person.c.id)).all()


# A derived table for set-based statements of benefits (payroll) that join the persons they
# pay: ``FROM … JOIN ({PAYEES}) r ON r.person_id = …``. The registry owns its columns; the
# databases inline it like a plain join (a projection of one table, no grouping).
PAYEES = ("SELECT id AS person_id, name, bank_name, bank_account, death_date, status "
          "FROM person")


def payees_sql() -> str:
    """SQL of the derived table ``(person_id, name, bank_name, bank_account, death_date,
    status)`` over every person, for a benefits statement to join (see ``PAYEES``)."""
    return PAYEES

