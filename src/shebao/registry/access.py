"""The only door to a protected person or employer (Zulip's ``access_*`` pattern).

Every read of one person or employer on behalf of an actor goes through here: first the scope
check (``shebao.security.policy``: staff in their region subtree, the citizen themself, an
employer for its *current* employees and itself), then the read, audited with the purpose.
An employer never gets the full record: :func:`access_person` gives it the masked brief
(masked name, citizen ID and phone; no address, no birth date), and only while a spell with
it is open (no end date, or an end date not yet passed). Refusals name the missing right,
never data of the record refused.

``check_person`` / ``check_employer`` are the scope check alone (no read, no audit) for
services of other packages that read their own tables about a person or an employer.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, or_, select

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.security import audit, policy
from shebao.security.audit_appender import record_read

from .model import person_region
from .service import merged_ids, transaction
from .tables import employer, employment, person

# what an employer sees of an employee (the rest of PersonOut is withheld)
MASKED_FIELDS = ("citizen_id", "name", "phone")


def current_employer_ids(conn, person_id: int, on: dt.date | None = None) -> set[int]:
    """Employers with a spell of the person that has not ended by ``on`` (default today).
    A spell ended in the past no longer gives its employer access."""
    on = on or dt.date.today()
    return {r.employer_id for r in conn.execute(
        select(employment.c.employer_id).where(and_(
            employment.c.person_id == person_id,
            or_(employment.c.end_date.is_(None), employment.c.end_date >= on))))}


def check_person(conn, actor: Actor, person_id: int) -> dict:
    """The person's scoping facts, or PermissionDenied / InputError (no such person: staff
    only; anyone else is refused the same way whether or not the person exists)."""
    row = conn.execute(select(person.c.id, person.c.citizen_id, person.c.pension_region,
                              person.c.residence_region, person.c.hukou_region)
                       .where(person.c.id == person_id)).mappings().first()
    _require_person(conn, actor, person_id, row)
    return dict(row)


def _require_person(conn, actor: Actor, person_id: int, row) -> None:
    """The scope check of ``check_person`` on a row already read (None: no such person)."""
    if row is None:
        if policy.is_staff(actor):
            raise InputError(f"no person {person_id}", field="person_id")
        raise PermissionDenied(f"{actor.id} may not see person {person_id}")
    emps = current_employer_ids(conn, person_id) if actor.role == "employer" else set()
    policy.require_person(actor, person_id, person_region(row), emps)


def check_employer(conn, actor: Actor, employer_id: int) -> dict:
    row = conn.execute(select(employer.c.id, employer.c.region).where(
        employer.c.id == employer_id)).mappings().first()
    if row is None:
        if policy.is_staff(actor):
            raise InputError(f"no employer {employer_id}", field="employer_id")
        raise PermissionDenied(f"{actor.id} may not see employer {employer_id}")
    policy.require_employer(actor, employer_id, row["region"])
    return dict(row)


def masked_record(row: dict) -> dict:
    """The employer's view of an employee: identity masked, no address or birth date."""
    return {"id": row["id"], "citizen_id": mask_id(row["citizen_id"]),
            "name": mask_name(row["name"]), "sex": row.get("sex"),
            "phone": mask_id(row["phone"]) if row.get("phone") else None,
            "status": row["status"], "version": row["version"], "birth_date": None,
            "hukou_region": None, "residence_region": None, "pension_region": None,
            "address": None, "notify_channels": None, "death_date": None, "merged_ids": []}


_PERSON = select(person).where(person.c.id == bindparam("id"))     # built once


def access_person(bind, actor: Actor, person_id: int, purpose: str) -> dict:
    """A person for ``actor``: scope check, then the audited read (full for staff in scope
    and the citizen themself; masked for a current employer)."""
    with transaction(bind) as conn:
        row = conn.execute(_PERSON, {"id": person_id}).mappings().first()
        _require_person(conn, actor, person_id, row)      # one read: the check, then the row
        row = dict(row)
        masked = policy.sees_masked(actor)
        record_read(bind, conn, actor, "registry.person.read", "person", person_id,
                    fields=list(MASKED_FIELDS) if masked else ["*"], purpose=purpose,
                    detail={"masked": True} if masked else None)
        if masked:
            return masked_record(row)
        row["merged_ids"] = merged_ids(conn, person_id)
        return row


def access_employer(bind, actor: Actor, employer_id: int) -> dict:
    """An employer for ``actor`` (staff in scope, the employer itself); bank account masked."""
    with transaction(bind) as conn:
        check_employer(conn, actor, employer_id)
        out = dict(conn.execute(select(employer).where(employer.c.id == employer_id)
                                ).mappings().one())
    if out.get("bank_account"):
        out["bank_account"] = mask_id(out["bank_account"])
    return out


def scope_filter(actor: Actor, *cols):
    """SQL condition: one of ``cols`` lies in the actor's region subtree (prefix match; the
    policy decides exactly afterwards). None for a national scope."""
    scope = actor.scope
    if scope == "national":
        return None
    prefix = scope[:2] if scope.endswith("0000") else scope[:4] if scope.endswith("00") else scope
    return or_(*[c.like(prefix + "%") for c in cols])


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
