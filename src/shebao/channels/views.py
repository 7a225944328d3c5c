"""What each actor may see of the registry and the ledger, shaped for pages and the API.

The bureaus' services do the work and write the audit rows for full reads and writes; this
module adds the channel's duties around them: the region-scope / self / own-firm check
*before* anything is read (``shebao.security.policy``), masking in lists, and an audit row for
every list or search that shows personal data. Reads of the bureaus' tables here are plain
SELECTs; writes always go through the bureaus' service functions.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id, mask_name, parse_citizen_id
from shebao.security import audit, policy
from shebao.registry import service as reg
from shebao.registry.tables import employer, employment, enrolment, person

DEFAULT_PURPOSE = "case handling"


def person_region(row) -> str | None:
    """The region a person belongs to for scopes: where the pension relation is held, else
    residence, else hukou, else the area code of the citizen ID."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    return (get("pension_region") or get("residence_region") or get("hukou_region")
            or (get("citizen_id") or "")[:6] or None)


def employer_ids_of(conn, person_id: int) -> set[int]:
    return {r.employer_id for r in conn.execute(
        select(employment.c.employer_id).where(employment.c.person_id == person_id))}


def check_person(conn, actor: Actor, person_id: int) -> dict:
    """The person's scoping facts, or PermissionDenied / InputError (no such person)."""
    row = conn.execute(select(person.c.id, person.c.citizen_id, person.c.pension_region,
                              person.c.residence_region, person.c.hukou_region)
                       .where(person.c.id == person_id)).mappings().first()
    if row is None:
        if policy.is_staff(actor) or actor.role == "system":
            raise InputError(f"no person {person_id}", field="person_id")
        raise PermissionDenied(f"{actor.id} may not see person {person_id}")
    emps = employer_ids_of(conn, person_id) if actor.role == "employer" else set()
    policy.require_person(actor, person_id, person_region(row), emps)
    return dict(row)


def check_employer(conn, actor: Actor, employer_id: int) -> dict:
    row = conn.execute(select(employer.c.id, employer.c.region).where(
        employer.c.id == employer_id)).mappings().first()
    if row is None:
        if policy.is_staff(actor):
            raise InputError(f"no employer {employer_id}", field="employer_id")
        raise PermissionDenied(f"{actor.id} may not see employer {employer_id}")
    policy.require_employer(actor, employer_id, row["region"])
    return dict(row)


def _scope_filter(actor: Actor, *cols):
    """SQL condition: one of ``cols`` lies in the actor's region subtree (prefix match)."""
    scope = actor.scope
    if scope == "national":
        return None
    prefix = scope[:2] if scope.endswith("0000") else scope[:4] if scope.endswith("00") else scope
    return or_(*[c.like(prefix + "%") for c in cols])


def masked_person(r) -> dict:
    return {"id": r.id, "citizen_id": mask_id(r.citizen_id), "name": mask_name(r.name),
            "sex": r.sex, "birth_year": r.birth_date.year if r.birth_date else None,
            "region": person_region(r), "status": r.status}


def search_persons(engine, actor: Actor, q: str | None, *, limit: int, after: int | None,
                   purpose: str | None = None) -> tuple[list[dict], int | None]:
    """Persons matching a citizen ID (full or prefix), a person number or a name; masked.
    Staff see their region subtree, employers their employees, citizens themselves."""
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
        stmt = stmt.where(person.c.id.in_(select(employment.c.person_id).where(
            employment.c.employer_id == (actor.employer_id or -1))))
    else:
        cond = _scope_filter(actor, person.c.pension_region, person.c.residence_region,
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


def _dates(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
            for k, v in d.items()}


def person_detail(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """A person in full (audited by the registry), with enrolments and employment spells."""
    with engine.connect() as conn:
        check_person(conn, actor, person_id)
    p = reg.get_person(engine, actor, person_id, purpose=purpose or DEFAULT_PURPOSE)
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
    with engine.connect() as conn:
        check_person(conn, actor, person_id)
    return reg.person_history(engine, actor, person_id, purpose=purpose or DEFAULT_PURPOSE)


def statements(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """Individual-account statements (pension, medical) when the ledger exists."""
    try:
        from shebao.ledger import service as ledger
        from shebao.ledger.model import INDIVIDUAL_SCHEMES
    except ModuleNotFoundError:
        return {}
    with engine.connect() as conn:
        check_person(conn, actor, person_id)
    return {s: ledger.statement(engine, actor, person_id, s,
                                purpose=purpose or "individual account statement")
            for s in INDIVIDUAL_SCHEMES}


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
        cond = _scope_filter(actor, employer.c.region)
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
    with engine.connect() as conn:
        check_employer(conn, actor, employer_id)
        r = conn.execute(select(employer).where(employer.c.id == employer_id)).mappings().one()
    out = dict(r)
    if out.get("bank_account"):
        out["bank_account"] = mask_id(out["bank_account"])
    return out


def employees(engine, actor: Actor, employer_id: int, *, limit: int, after: int | None,
              current_only: bool = False, purpose: str | None = None
              ) -> tuple[list[dict], int | None]:
    """Employment spells of an employer with the employee masked; audited list read."""
    with engine.begin() as conn:
        check_employer(conn, actor, employer_id)
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


def check_new_person_region(actor: Actor, fields: dict) -> None:
    """A clerk registers only people who belong to their region subtree."""
    policy.require(actor, "person.write")
    region = person_region({**fields, "citizen_id": None})
    if not region:
        raise InputError("give the region the person belongs to (pension, residence or hukou "
                         "region)", field="pension_region")
    if not policy.in_region(actor, region):
        field = next(k for k in ("pension_region", "residence_region", "hukou_region")
                     if fields.get(k))
        err = PermissionDenied(f"region {region} is outside your scope {actor.scope}")
        err.field = field
        raise err


def register_person(engine, actor: Actor, fields: dict) -> int:
    check_new_person_region(actor, fields)
    return reg.register_person(engine, actor, **fields)


def employment_of(conn, employment_id: int):
    return conn.execute(select(employment).where(employment.c.id == employment_id)
                        ).mappings().first()


def count_persons(engine, actor: Actor) -> int:
    cond = _scope_filter(actor, person.c.pension_region, person.c.residence_region,
                         person.c.hukou_region)
    stmt = select(func.count()).select_from(person)
    if cond is not None:
        stmt = stmt.where(cond)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


__all__ = ["search_persons", "person_detail", "person_history", "statements",
           "search_employers", "employer_detail", "employees", "register_person",
           "check_person", "check_employer", "person_region"]
