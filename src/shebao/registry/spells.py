"""Employment spells and enrolments: opened and ended with their invariants (no overlaps,
nothing after a death, plausible dates), one transaction and one audit row each. Re-exported
by :mod:`shebao.registry.service`, whose helpers it uses."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError, InvariantError
from shebao.db.uow import now, transaction
from shebao.security import audit

from . import model
from .service import _person_row, employment_date_bounds
from .tables import employer, employment, enrolment


# --------------------------------------------------------------------------- spells, enrolments

def _intervals(conn, table, where) -> list[tuple[int, model.Interval]]:
    return [(r.id, model.Interval(r.start_date, r.end_date)) for r in
            conn.execute(select(table.c.id, table.c.start_date, table.c.end_date).where(where))]


def _insert_enrolment(conn, actor: Actor, pid: int, death: dt.date | None, scheme: str,
                      region: str, kind: str, start: dt.date, end: dt.date | None,
                      employer_id: int | None, employment_id: int | None, source: str) -> int:
    if scheme not in model.SCHEMES:
        raise InputError(f"scheme must be one of {model.SCHEMES}", field="scheme", value=scheme)
    if kind not in model.KINDS:
        raise InputError(f"kind must be one of {model.KINDS}", field="kind", value=kind)
    if (kind == "employee") != (employer_id is not None):
        raise InputError("an employee enrolment needs an employer, other kinds none",
                         field="employer_id", value=employer_id)
    region = model.region_code(region, "region")
    model.check_interval(start, end, f"{scheme} enrolment")
    model.check_alive(start, death, f"{scheme} enrolment")
    if death is not None and (end is None or end > death):
        end = death
    existing = _intervals(conn, enrolment, and_(enrolment.c.person_id == pid,
                                                enrolment.c.scheme == scheme))
    model.check_no_overlap(model.Interval(start, end), existing,
                           f"person {pid}: {scheme} enrolment")
    return conn.execute(enrolment.insert().values(
        person_id=pid, origin_person_id=pid, scheme=scheme, region=region, kind=kind,
        employer_id=employer_id, employment_id=employment_id, start_date=start, end_date=end,
        status="active" if end is None else "ended",
        end_reason="death" if end is not None and end == death else None, source=source,
        created_at=now(), created_by=actor.id)).inserted_primary_key[0]


def _living(conn, person_id: int) -> dict:
    cur = _person_row(conn, person_id)
    if cur["status"] == "merged":
        raise InvariantError(f"person {person_id} was merged into {cur['merged_into']}; "
                             f"record activity on the surviving record")
    return cur


def enrol(bind, actor: Actor, person_id: int, scheme: str, region: str, kind: str,
          start_date: dt.date, *, end_date: dt.date | None = None,
          employer_id: int | None = None, source: str = "manual") -> int:
    """Enrol a person in a scheme. Refused (InvariantError) when it would overlap another
    enrolment in the same scheme, or start after the person's death."""
    with transaction(bind) as conn:
        cur = _living(conn, person_id)
        eid = _insert_enrolment(conn, actor, person_id, cur["death_date"], scheme, region, kind,
                                start_date, end_date, employer_id, None, source)
        audit.record(conn, actor, "registry.enrolment.start", "person", person_id,
                     detail={"enrolment_id": eid, "scheme": scheme, "region": region,
                             "kind": kind, "start": start_date})
        return eid


def end_enrolment(bind, actor: Actor, enrolment_id: int, end_date: dt.date, *,
                  reason: str) -> None:
    with transaction(bind) as conn:
        row = conn.execute(select(enrolment).where(enrolment.c.id == enrolment_id)
                           ).mappings().first()
        if row is None:
            raise InputError(f"no enrolment {enrolment_id}", field="enrolment_id")
        if row["end_date"] is not None:
            raise InvariantError(f"enrolment {enrolment_id} already ended on {row['end_date']}")
        model.check_interval(row["start_date"], end_date, "enrolment")
        conn.execute(update(enrolment).where(enrolment.c.id == enrolment_id).values(
            end_date=end_date, status="ended", end_reason=reason, ended_at=now(),
            ended_by=actor.id))
        audit.record(conn, actor, "registry.enrolment.end", "person", row["person_id"],
                     purpose=reason, detail={"enrolment_id": enrolment_id, "end": end_date})


def start_employment(bind, actor: Actor, person_id: int, employer_id: int,
                     start_date: dt.date, *, end_date: dt.date | None = None,
                     wage_fen: int | None = None, wage_year: int | None = None,
                     enrol_schemes: bool = True, source: str = "manual") -> int:
    """Open an employment spell; with ``enrol_schemes`` the person is enrolled as an employee
    in the five employee schemes in the employer's region from the same date."""
    if wage_fen is not None and (not isinstance(wage_fen, int) or wage_fen < 0):
        raise InputError("wage must be a non-negative integer number of fen", field="wage_fen",
                         value=wage_fen)
    with transaction(bind) as conn:
        cur = _living(conn, person_id)
        emp = conn.execute(select(employer).where(employer.c.id == employer_id)
                           ).mappings().first()
        if emp is None:
            raise InputError(f"no employer {employer_id}", field="employer_id")
        model.check_employment_dates(start_date, end_date, cur["birth_date"],
                                     employment_date_bounds(emp["region"]))
        model.check_interval(start_date, end_date, "employment spell")
        model.check_alive(start_date, cur["death_date"], "employment spell")
        model.check_no_overlap(
            model.Interval(start_date, end_date),
            _intervals(conn, employment, and_(employment.c.person_id == person_id,
                                              employment.c.employer_id == employer_id)),
            f"person {person_id}: employment with employer {employer_id}")
        sid = conn.execute(employment.insert().values(
            person_id=person_id, origin_person_id=person_id, employer_id=employer_id,
            start_date=start_date, end_date=end_date, wage_fen=wage_fen, wage_year=wage_year,
            source=source, created_at=now(), created_by=actor.id)).inserted_primary_key[0]
        enrolled = []
        if enrol_schemes:
            for scheme in model.EMPLOYEE_SCHEMES:
                enrolled.append(_insert_enrolment(
                    conn, actor, person_id, cur["death_date"], scheme, emp["region"],
                    "employee", start_date, end_date, employer_id, sid, source))
        audit.record(conn, actor, "registry.employment.start", "person", person_id,
                     detail={"employment_id": sid, "employer_id": employer_id,
                             "start": start_date, "enrolments": enrolled})
        return sid


def end_employment(bind, actor: Actor, employment_id: int, end_date: dt.date, *,
                   leave_reason: str, involuntary: bool | None = None) -> None:
    """End a spell (and the enrolments opened with it). ``involuntary`` defaults from the
    reason (dismissal, contract end, bankruptcy… are involuntary job loss)."""
    if leave_reason not in model.LEAVE_REASONS:
        raise InputError(f"leave reason must be one of {sorted(model.LEAVE_REASONS)}",
                         field="leave_reason", value=leave_reason)
    if involuntary is None:
        involuntary = model.LEAVE_REASONS[leave_reason]
    with transaction(bind) as conn:
        row = conn.execute(select(employment).where(employment.c.id == employment_id)
                           ).mappings().first()
        if row is None:
            raise InputError(f"no employment spell {employment_id}", field="employment_id")
        if row["end_date"] is not None:
            raise InvariantError(f"spell {employment_id} already ended on {row['end_date']}")
        model.check_interval(row["start_date"], end_date, "employment spell")
        t = now()
        conn.execute(update(employment).where(employment.c.id == employment_id).values(
            end_date=end_date, leave_reason=leave_reason, involuntary=involuntary,
            ended_at=t, ended_by=actor.id))
        n = conn.execute(update(enrolment).where(and_(
            enrolment.c.employment_id == employment_id, enrolment.c.end_date.is_(None)))
            .values(end_date=end_date, status="ended", end_reason=f"employment ended: "
                    f"{leave_reason}", ended_at=t, ended_by=actor.id)).rowcount
        audit.record(conn, actor, "registry.employment.end", "person", row["person_id"],
                     purpose=leave_reason,
                     detail={"employment_id": employment_id, "end": end_date,
                             "involuntary": involuntary, "enrolments_ended": n})


def active_enrolments(conn, region: str, scheme: str, on: dt.date):
    """Select of enrolments in force on ``on`` in a region (exact code) and scheme, for the
    set-based readers (assessment). Uses ix_enrolment_region_scheme_status."""
    return (select(enrolment).where(and_(
        enrolment.c.region == region, enrolment.c.scheme == scheme,
        enrolment.c.status.in_(("active", "ended")), enrolment.c.start_date <= on,
        (enrolment.c.end_date.is_(None)) | (enrolment.c.end_date >= on)))
        .order_by(enrolment.c.id))



def end_contributing_enrolments(bind, actor: Actor, person_id: int, last_day: dt.date, *,
                                reason: str, kinds=("employee", "flexible")) -> list[int]:
    """A pension starts the day after ``last_day``: the person's contributing enrolments
    (employee, flexible) in force then end on ``last_day``, so no contribution is assessed or
    credited from the pension's start (benefits #13). Employment spells stay (a pensioner may
    keep working); enrolments starting later are left for a clerk. Returns the ids ended."""
    with transaction(bind) as conn:
        ids = conn.execute(select(enrolment.c.id).where(and_(
            enrolment.c.person_id == person_id, enrolment.c.kind.in_(list(kinds)),
            enrolment.c.start_date <= last_day,
            (enrolment.c.end_date.is_(None)) | (enrolment.c.end_date > last_day)))
            .order_by(enrolment.c.id)).scalars().all()
        if ids:
            conn.execute(update(enrolment).where(enrolment.c.id.in_(ids)).values(
                end_date=last_day, status="ended", end_reason=reason[:64], ended_at=now(),
                ended_by=actor.id))
        audit.record(conn, actor, "registry.enrolment.end_contributing", "person", person_id,
                     purpose=reason, detail={"enrolments": list(ids), "end": last_day})
        return list(ids)
