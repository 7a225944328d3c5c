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

import numpy as np
from sqlalchemy import bindparam, func, or_, select, text

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_id, mask_name, parse_citizen_id
from shebao.db import dialect
from shebao.db.bulk import (fetch_int_matrix, fetch_tuples, json_ids_sql, json_list,
                            json_rows_sql)
from shebao.db.uow import reading
from shebao.security import audit, policy
from shebao.security.audit_appender import read_session

from . import access
from . import service as reg
from .model import person_region
from .queries_enrolled import enrolled_persons, last_enrolment_id  # noqa: F401 (re-export)
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
        audit.record_listed(conn, actor, "registry.person.search", [r.id for r in rows],
                            fields=["citizen_id", "name", "sex", "birth_date"],
                            purpose=purpose or "search",
                            detail={"query": mask_id(q) if q[:6].isdigit() else mask_name(q)})
    return [masked_person(r) for r in rows], (rows[-1].id if more and rows else None)


# built once (a statement object caches its compiled form; building it per call costs more
# than running it)
_ENROLMENTS = (select(enrolment).where(enrolment.c.person_id == bindparam("p"))
               .order_by(enrolment.c.start_date, enrolment.c.id))
_SPELLS = (select(employment, employer.c.name.label("employer_name"),
                  employer.c.uscc.label("employer_uscc"))
           .join(employer, employer.c.id == employment.c.employer_id)
           .where(employment.c.person_id == bindparam("p"))
           .order_by(employment.c.start_date, employment.c.id))


def person_detail(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """A person (full, or masked for an employer; audited), with enrolments and spells — an
    employer sees only its own."""
    with read_session(engine) as db:       # one connection and transaction for the three
        p = access.access_person(db, actor, person_id, purpose or DEFAULT_PURPOSE)
        with reading(db) as conn:
            enr = [dict(r) for r in conn.execute(_ENROLMENTS, {"p": person_id}).mappings()]
            spells = [dict(r) for r in conn.execute(_SPELLS, {"p": person_id}).mappings()]
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
        audit.record_listed(conn, actor, "registry.employees.list",
                            [r.person_id for r in rows], fields=["citizen_id", "name"],
                            purpose=purpose or "employee list",
                            detail={"employer_id": employer_id})
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


# --- read by the channels' command line ---
def person_id_of(conn, citizen_id: str) -> int | None:
    """The person's id for a citizen ID as typed, following merges (a merged ID finds the
    survivor); None if unknown."""
    return reg.resolve_person_id(conn, citizen_id)


def employer_id_of(conn, uscc: str) -> int | None:
    """The employer's id for a unified social credit code as typed; None if unknown."""
    return conn.execute(select(employer.c.id).where(
        employer.c.uscc == uscc.strip().upper())).scalar()


def enrolled_person_range(conn, region: str) -> tuple[int | None, int | None]:
    """(lowest, highest) person id with an enrolment in ``region``: the keyset span a
    batch run over the region walks (None, None when nobody is enrolled)."""
    from sqlalchemy import func
    lo, hi = conn.execute(select(func.min(enrolment.c.person_id), func.max(enrolment.c.person_id))
                          .where(enrolment.c.region == region)).one()
    return lo, hi


# --- read by collection ---

# how a person is insured, as the assessment codes it (k): the row order of enrolment_matrix
ASSESSED_KINDS = ("employee", "flexible", "resident")

_KIND_CODE = "CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END"


def _enrolment_sql(conn, schemes) -> str:
    code = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(schemes))
    return f"""
SELECT person_id, {_KIND_CODE}, COALESCE(employer_id, 0), COALESCE(employment_id, 0),
       CASE scheme {code} ELSE -1 END
FROM enrolment{dialect.index_hint(conn, "ix_enrolment_person_scheme")}
WHERE person_id >= :lo AND person_id < :hi AND region = :r
  AND status IN ('active', 'ended') AND kind IN ('employee', 'flexible', 'resident')
  AND start_date <= :mend AND (end_date IS NULL OR end_date >= :mstart)"""


# the wages of the persons' spells (an enrolment naming a spell of another person is looked up
# by id after)
_WAGE_SQL = """SELECT id, COALESCE(wage_fen, -1) FROM employment
WHERE person_id >= :lo AND person_id < :hi"""


def group_enrolments(raw: np.ndarray, nflags: int) -> tuple[np.ndarray, np.ndarray]:
    """Enrolment rows (person, k, employer, employment, scheme index or −1) → one row per
    person × k × employer, sorted: (person, k, employer, 0, one flag per scheme) and the
    largest employment id of the group (0: none)."""
    if len(raw) == 0:
        return np.zeros((0, 4 + nflags), np.int64), np.zeros(0, np.int64)
    o = np.lexsort((raw[:, 2], raw[:, 1], raw[:, 0]))
    r = raw[o]
    new = np.ones(len(r), dtype=bool)
    new[1:] = np.any(r[1:, 0:3] != r[:-1, 0:3], axis=1)
    starts = np.flatnonzero(new)
    g = np.cumsum(new) - 1
    out = np.zeros((len(starts), 4 + nflags), np.int64)
    out[:, 0:3] = r[starts, 0:3]
    known = r[:, 4] >= 0
    out[g[known], 4 + r[known, 4]] = 1
    return out, np.maximum.reduceat(r[:, 3], starts)


def _spell_wages(conn, spell: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sorted (spell id, wage or −1) of the spells ``spell`` names (ids > 0)."""
    need = np.unique(spell[spell > 0])
    wages = np.zeros((0, 2), np.int64)
    if not len(need):
        return wages
    wages = fetch_int_matrix(conn, _WAGE_SQL, {"lo": lo, "hi": hi}, 2)
    wages = wages[np.argsort(wages[:, 0], kind="stable")]
    if len(wages):
        pos = np.minimum(np.searchsorted(wages[:, 0], need), len(wages) - 1)
        missing = need[wages[pos, 0] != need]
    else:
        missing = need
    if len(missing):    # spells of persons outside the range (rare): by id
        more = fetch_int_matrix(
            conn, "SELECT id, COALESCE(wage_fen, -1) FROM employment WHERE id IN "
                  f"(SELECT CAST(value AS BIGINT) FROM {json_rows_sql(conn)})",
            {"vals": json_list(missing)}, 2)
        wages = np.concatenate([wages, more])
        wages = wages[np.argsort(wages[:, 0], kind="stable")]
    return wages


def enrolment_matrix(conn, region: str, lo: int, hi: int, month_start: dt.date,
                     month_end: dt.date, schemes) -> np.ndarray:
    """The enrolments of ``region`` in force on some day of the month (start ≤ month end, end ≥
    month start; status active/ended; kind employee/flexible/resident) of persons with ids in
    ``[lo, hi)``, as an int64 matrix with one row per person × kind × employer, sorted by
    those: (person, k = index in ``ASSESSED_KINDS``, employer id or 0, the wage on the
    employment record of the group's latest spell or −1, then one 0/1 flag per scheme of
    ``schemes``). Read as plain rows (packed where the database can) and grouped by numpy."""
    p = {"lo": lo, "hi": hi, "r": region, "mstart": month_start, "mend": month_end}
    rows, spell = group_enrolments(fetch_int_matrix(conn, _enrolment_sql(conn, schemes), p, 5),
                                    len(schemes))
    wages = _spell_wages(conn, spell, lo, hi)
    rows[:, 3] = -1
    if len(wages):
        pos = np.minimum(np.searchsorted(wages[:, 0], spell), len(wages) - 1)
        hit = (spell > 0) & (wages[pos, 0] == spell)
        rows[hit, 3] = wages[pos[hit], 1]
    return rows


def employer_risk_matrix(conn, month: dt.date) -> np.ndarray:
    """Every employer's (id, injury risk class, floating tier %) in force in ``month``, sorted
    by id: the employer's version valid then where the registry kept versions, else the
    current row."""
    arr = fetch_int_matrix(conn, "SELECT id, risk_class, float_tier_pct FROM employer",
                           {}, 3, order_by="c0")
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    ver = fetch_int_matrix(conn, "SELECT employer_id, risk_class, float_tier_pct "
                                 "FROM employer_version WHERE valid_from <= :m AND "
                                 "(valid_to IS NULL OR valid_to > :m)",
                           {"m": month}, 3, order_by="c0")
    if len(ver) and len(arr):
        ver = ver[np.argsort(ver[:, 0], kind="stable")]
        pos = np.searchsorted(arr[:, 0], ver[:, 0])
        ok = (pos < len(arr)) & (arr[np.minimum(pos, len(arr) - 1), 0] == ver[:, 0])
        arr[pos[ok], 1:] = ver[ok, 1:]
    return arr


def employee_region(conn, person_id: int, employer_id: int, on: dt.date) -> str | None:
    """The employer's region if the person has an employee enrolment with it not ended
    before ``on`` (None otherwise)."""
    return conn.execute(
        select(employer.c.region).select_from(
            enrolment.join(employer, employer.c.id == enrolment.c.employer_id))
        .where(enrolment.c.person_id == person_id, enrolment.c.employer_id == employer_id,
               enrolment.c.kind == "employee",
               or_(enrolment.c.end_date.is_(None), enrolment.c.end_date >= on))
        .limit(1)).scalar()


def employee_pairs(conn, person_ids, on: dt.date) -> dict[tuple[int, int], str]:
    """(person, employer) → the employer's region, for every employee enrolment of
    ``person_ids`` not ended before ``on``."""
    ids = sorted({int(p) for p in person_ids})
    if not ids:
        return {}
    rows = conn.execute(text(
        "SELECT en.person_id, en.employer_id, em.region FROM enrolment en "
        "JOIN employer em ON em.id = en.employer_id WHERE en.kind = 'employee' "
        "AND (en.end_date IS NULL OR en.end_date >= :on) AND en.person_id IN "
        f"(SELECT CAST(value AS BIGINT) FROM {json_rows_sql(conn)})"),
        {"on": on, "vals": json_list(ids)})
    return {(int(p), int(e)): r for p, e, r in rows}


def enrolment_region(conn, person_id: int, kind: str, scheme: str, on: dt.date) -> str | None:
    """The region of the person's ``kind`` enrolment in ``scheme`` not ended before ``on``."""
    return conn.execute(
        select(enrolment.c.region).where(
            enrolment.c.person_id == person_id, enrolment.c.kind == kind,
            enrolment.c.scheme == scheme,
            or_(enrolment.c.end_date.is_(None), enrolment.c.end_date >= on)).limit(1)).scalar()


def person_ids_by_citizen_id(conn, citizen_ids) -> dict[str, int]:
    """citizen ID → person id, for those of ``citizen_ids`` that are registered."""
    vals = sorted(set(citizen_ids))
    if not vals:
        return {}
    return {c: int(i) for c, i in conn.execute(text(
        f"SELECT citizen_id, id FROM person WHERE citizen_id IN "
        f"(SELECT value FROM {json_rows_sql(conn)})"), {"vals": json_list(vals)})}


def employer_ids_by_uscc(conn, usccs) -> dict[str, int]:
    """Unified social credit code → employer id, for those of ``usccs`` that are registered."""
    vals = sorted(set(usccs))
    if not vals:
        return {}
    return {u: int(i) for u, i in conn.execute(text(
        f"SELECT uscc, id FROM employer WHERE uscc IN "
        f"(SELECT value FROM {json_rows_sql(conn)})"), {"vals": json_list(vals)})}


def payer_bank_accounts(conn, employer_ids, person_ids) -> dict[tuple[str, int], tuple]:
    """("E", employer id) / ("P", person id) → (name, bank name, bank account) of the payers
    named (persons pay as flexible workers or residents)."""
    out: dict[tuple[str, int], tuple] = {}
    for tag, table, ids in (("E", "employer", employer_ids), ("P", "person", person_ids)):
        ids = sorted({int(i) for i in ids})
        if not ids:
            continue
        for row in fetch_tuples(conn, f"SELECT id, name, bank_name, bank_account FROM {table} "
                                      f"WHERE id IN (SELECT CAST(value AS BIGINT) FROM "
                                      f"{json_rows_sql(conn)})", {"vals": json_list(ids)}):
            out[(tag, int(row[0]))] = tuple(row[1:])
    return out


def person_facts(conn, person_ids) -> dict[int, dict]:
    """person id → {id, sex, birth_date, status, death_date, pension_region}: what pension
    determination and payroll decide on. Unknown ids are absent. One query (the ids as one
    parameter)."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return {}
    cols = (person.c.id, person.c.sex, person.c.birth_date, person.c.status,
            person.c.death_date, person.c.pension_region)
    q = text(f"SELECT p.id, p.sex, p.birth_date, p.status, p.death_date, p.pension_region "
             f"FROM person p JOIN {json_ids_sql(conn)} ON p.id = v.id").columns(*cols)
    return {r["id"]: dict(r) for r in conn.execute(q, {"vals": json_list(ids)}).mappings()}


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



# The employers a benefit is paid to (maternity allowance paid to the employer that keeps
# paying the wage): ``JOIN ({EMPLOYER_PAYEES}) e ON e.employer_id = …`` (benefits' payroll).
EMPLOYER_PAYEES = "SELECT id AS employer_id, name, bank_name, bank_account FROM employer"


def employer_payees_sql() -> str:
    """SQL of the derived table ``(employer_id, name, bank_name, bank_account)``."""
    return EMPLOYER_PAYEES


# --- read by reports (#18): insured counts for the monthly statistics ---
def insured_counts(conn, region_like: str, on: dt.date) -> dict[tuple[str, str], int]:
    """(scheme, enrolment kind) → persons with an enrolment in force on ``on`` in the regions
    matching the LIKE pattern ``region_like`` (one aggregate statement)."""
    rows = conn.execute(
        select(enrolment.c.scheme, enrolment.c.kind, func.count(func.distinct(enrolment.c.person_id)))
        .where(enrolment.c.region.like(region_like), enrolment.c.start_date <= on,
               or_(enrolment.c.end_date.is_(None), enrolment.c.end_date >= on))
        .group_by(enrolment.c.scheme, enrolment.c.kind)).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


# Derived tables for the supervision bureau's set-based monitoring rules (``supervision``):
# ``FROM ({persons_sql()}) p JOIN …``. The registry writes every line of SQL about its tables.
def persons_sql() -> str:
    """``(person_id, region, sex, birth_date, death_date, status, bank_account)`` of every
    person not merged into another; ``region`` is the pension region."""
    return ("SELECT id AS person_id, pension_region AS region, sex, birth_date, death_date, "
            "status, bank_account FROM person WHERE status <> 'merged'")


def spells_sql() -> str:
    """``(spell_id, person_id, employer_id, start_date, end_date, employer_region)``: every
    employment spell with the region of its employer."""
    return ("SELECT e.id AS spell_id, e.person_id, e.employer_id, e.start_date, e.end_date, "
            "m.region AS employer_region FROM employment e JOIN employer m "
            "ON m.id = e.employer_id")


def employers_sql() -> str:
    """``(employer_id, region, industry_code, name, status)`` of every employer."""
    return "SELECT id AS employer_id, region, industry_code, name, status FROM employer"


def enrolments_sql() -> str:
    """``(person_id, scheme, region, kind, employer_id, start_date, end_date, status)``."""
    return ("SELECT person_id, scheme, region, kind, employer_id, start_date, end_date, status "
            "FROM enrolment")

