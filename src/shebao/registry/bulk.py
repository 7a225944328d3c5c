"""Set-based writes for the batch paths (import, generator): no per-row round trips.

Rows go in through ``db.bulk.insert_rows`` (COPY on PostgreSQL, executemany on SQLite), inside
the caller's transaction. New person/employer rows are inserted together with their first
version row; the ids are read back by ``import_run_id`` (every bulk write belongs to a run).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, select, update

from shebao.core.actor import Actor
from shebao.db.bulk import fetch_rows_by_keys as fetch_by_keys  # noqa: F401  (importer's name)
from shebao.db.bulk import insert_rows as bulk_insert

from . import model
from .tables import (EMPLOYER_FIELDS, PERSON_FIELDS, employer, employer_version, import_run,
                     person, person_version)


def new_run(conn, actor: Actor, kind: str, file_name: str, sha256: str, encoding: str | None,
            dry_run: bool = False) -> int:
    return conn.execute(import_run.insert().values(
        kind=kind, file_name=file_name[-300:], file_sha256=sha256, encoding=encoding,
        dry_run=dry_run, actor=actor.id, started_at=dt.datetime.now(dt.timezone.utc))
    ).inserted_primary_key[0]


def finish_run(conn, run_id: int, **counts) -> None:
    conn.execute(update(import_run).where(import_run.c.id == run_id).values(
        **counts, finished_at=dt.datetime.now(dt.timezone.utc)))


def insert_persons(conn, actor: Actor, run_id: int, records: list[dict], *, source: str,
                   valid_from: dt.date, reason: str) -> dict[str, int]:
    """Insert new persons (dicts with citizen_id and PERSON_FIELDS) and their version 1.
    Returns citizen_id → person id."""
    t = dt.datetime.now(dt.timezone.utc)
    rows = []
    for r in records:
        row = {k: r.get(k) for k in PERSON_FIELDS}
        row["status"] = row["status"] or "active"
        row.update(citizen_id=r["citizen_id"], name_pinyin=model.pinyin_key(r["name"]),
                   version=1, source=source, import_run_id=run_id, created_at=t, updated_at=t)
        rows.append(row)
    bulk_insert(conn, person, rows)
    ids = dict(conn.execute(select(person.c.citizen_id, person.c.id)
                            .where(person.c.import_run_id == run_id)).all())
    versions = []
    for row in rows:
        v = {k: row[k] for k in PERSON_FIELDS}
        v.update(person_id=ids[row["citizen_id"]], version=1, citizen_id=row["citizen_id"],
                 valid_from=valid_from, valid_to=None, recorded_at=t, recorded_by=actor.id,
                 reason=reason, source=source, import_run_id=run_id)
        versions.append(v)
    bulk_insert(conn, person_version, versions)
    return ids


def update_persons(conn, actor: Actor, run_id: int, changes: list[tuple[dict, dict]], *,
                   source: str, valid_from: dt.date, reason: str) -> int:
    """Apply (current row, changed fields) pairs as new versions, set-based."""
    if not changes:
        return 0
    t = dt.datetime.now(dt.timezone.utc)
    close = [{"pid": cur["id"], "ver": cur["version"], "vt": valid_from} for cur, _ in changes]
    conn.execute(update(person_version).where(and_(
        person_version.c.person_id == bindparam("pid"),
        person_version.c.version == bindparam("ver"))).values(valid_to=bindparam("vt")), close)
    versions, current = [], []
    for cur, diff in changes:
        attrs = {k: cur[k] for k in PERSON_FIELDS}
        attrs.update(diff)
        versions.append({**attrs, "person_id": cur["id"], "version": cur["version"] + 1,
                         "citizen_id": cur["citizen_id"], "valid_from": valid_from,
                         "valid_to": None, "recorded_at": t, "recorded_by": actor.id,
                         "reason": reason, "source": source, "import_run_id": run_id})
        current.append({**{f"n_{k}": attrs[k] for k in PERSON_FIELDS}, "pid": cur["id"],
                        "n_version": cur["version"] + 1})
    bulk_insert(conn, person_version, versions)
    conn.execute(update(person).where(person.c.id == bindparam("pid")).values(
        **{k: bindparam(f"n_{k}") for k in PERSON_FIELDS}, version=bindparam("n_version"),
        source=source, updated_at=t), current)
    return len(changes)


def insert_employers(conn, actor: Actor, run_id: int, records: list[dict], *, source: str,
                     valid_from: dt.date, reason: str) -> dict[str, int]:
    t = dt.datetime.now(dt.timezone.utc)
    rows = []
    for r in records:
        row = {k: r.get(k) for k in EMPLOYER_FIELDS}
        row["status"] = row["status"] or "active"
        row.update(uscc=r["uscc"], version=1, source=source, import_run_id=run_id,
                   created_at=t, updated_at=t)
        rows.append(row)
    bulk_insert(conn, employer, rows)
    ids = dict(conn.execute(select(employer.c.uscc, employer.c.id)
                            .where(employer.c.import_run_id == run_id)).all())
    bulk_insert(conn, employer_version, [
        {**{k: row[k] for k in EMPLOYER_FIELDS}, "employer_id": ids[row["uscc"]], "version": 1,
         "uscc": row["uscc"], "valid_from": valid_from, "valid_to": None, "recorded_at": t,
         "recorded_by": actor.id, "reason": reason, "source": source, "import_run_id": run_id}
        for row in rows])
    return ids


def update_employers(conn, actor: Actor, run_id: int, changes: list[tuple[dict, dict]], *,
                     source: str, valid_from: dt.date, reason: str) -> int:
    if not changes:
        return 0
    t = dt.datetime.now(dt.timezone.utc)
    conn.execute(update(employer_version).where(and_(
        employer_version.c.employer_id == bindparam("eid"),
        employer_version.c.version == bindparam("ver"))).values(valid_to=bindparam("vt")),
        [{"eid": c["id"], "ver": c["version"], "vt": valid_from} for c, _ in changes])
    versions, current = [], []
    for cur, diff in changes:
        attrs = {k: cur[k] for k in EMPLOYER_FIELDS}
        attrs.update(diff)
        versions.append({**attrs, "employer_id": cur["id"], "version": cur["version"] + 1,
                         "uscc": cur["uscc"], "valid_from": valid_from, "valid_to": None,
                         "recorded_at": t, "recorded_by": actor.id, "reason": reason,
                         "source": source, "import_run_id": run_id})
        current.append({**{f"n_{k}": attrs[k] for k in EMPLOYER_FIELDS}, "eid": cur["id"],
                        "n_version": cur["version"] + 1})
    bulk_insert(conn, employer_version, versions)
    conn.execute(update(employer).where(employer.c.id == bindparam("eid")).values(
        **{k: bindparam(f"n_{k}") for k in EMPLOYER_FIELDS}, version=bindparam("n_version"),
        source=source, updated_at=t), current)
    return len(changes)
