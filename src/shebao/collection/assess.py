"""The monthly five-in-one assessment of a region: set-based, chunked, resumable, idempotent.

``assess(engine, actor, region, month)`` walks the insured of ``region`` in keyset chunks of
person ids ``[lo, lo + chunk_size)``. Per chunk, in ONE transaction: read the enrolments in force
in the month (pivoted to one row per person × payer), the declared bases and the employers' risk
classes as numpy arrays; compute every line with ``rules.formulas.contribution`` (the same code
as the ``contribution`` calculator); subtract what earlier runs of the same region × month
already assessed; bulk-insert the differences into ``contribution`` (COPY on PostgreSQL);
post them to the ledger with one ``post_batch`` (an aggregated entry per scheme: receivable
debited, pooled fund credited, individual accounts credited per person); and write the chunk's
checkpoint. A crash loses at most the chunk in flight: the next call finds the run still
``running`` and continues after its checkpoint. Running again after a finished run writes
nothing (all differences are zero); after a late declaration it writes only the differences.

The numbers are the pure ``model.compute_chunk`` / ``model.diff_with_previous`` /
``model.assessment_batch``; the enrolments come from ``registry.queries.enrolment_matrix``.
Phases (read, compute, diff, write, ledger, checkpoint) are told to ``on_phase``;
``fault_point("chunk_done")`` is reached after each committed chunk.

Which enrolments count: status active/ended, kind employee/flexible/resident, in force on any
day of the month (start ≤ month end, end ≥ month start). Bases: the latest declaration in force
(``base_declaration``), else the wage on the employment record, else the floor; clamped to the
floor/ceiling in force in the month. Flexible workers: the chosen base, else the floor
(pension and medical lines of ``contribution.flexible.*``). Residents: the tier chosen for the
year and the year's resident medical contribution (``resident.medical_contribution``), billed
in ``collection.resident_billing_month``.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sqlalchemy import select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, UnknownAccount
from shebao.core.money import to_fen
from shebao.core.periods import month_end, month_str
from shebao.core.timing import FaultPoint, OnPhase, phase, reach
from shebao.db import dialect
from shebao.db.bulk import fetch_int_matrix, insert_columns
from shebao.db.uow import now
from shebao.registry import queries as registry
from shebao.rules.formulas.contribution import rate_set
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .tables import assessment_chunk, assessment_run

PAYER_CODE = np.array([b"E", b"F", b"R"])       # by k: employee, flexible, resident
NCOL = len(model.AMOUNT_COLUMNS)


@dataclass
class RunResult:
    run_id: int
    region: str
    month: dt.date
    kind: str
    resumed: bool
    chunks: int
    persons: int
    rows: int
    total_fen: int

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "region": self.region, "month": month_str(self.month),
                "kind": self.kind, "resumed": self.resumed, "chunks": self.chunks,
                "persons": self.persons, "rows_written": self.rows,
                "total_fen": self.total_fen}


# declarations in force, with their order (effective_from as days, id) for the latest-wins rule
def _decl_sql(conn) -> str:
    return f"""
SELECT person_id, CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END,
       COALESCE(employer_id, 0), year, COALESCE(wage_fen, chosen_fen, 0),
       {dialect.days_since_epoch(conn, "effective_from")}, id
FROM base_declaration
WHERE person_id >= :lo AND person_id < :hi AND region = :r AND superseded_by IS NULL
  AND effective_from <= :mstart"""


_ANY_SQL = """SELECT 1 FROM contribution WHERE region = :r AND month = :mstart
AND person_id >= :lo AND person_id < :hi LIMIT 1"""

_OLD_SQL = f"""
SELECT person_id, CASE payer_type WHEN 'E' THEN 0 WHEN 'F' THEN 1 ELSE 2 END AS k,
       CASE payer_type WHEN 'E' THEN payer_id ELSE 0 END AS emp,
       {", ".join(f"SUM({c})" for c in model.AMOUNT_COLUMNS)}
FROM contribution
WHERE region = :r AND month = :mstart AND person_id >= :lo AND person_id < :hi
GROUP BY person_id, payer_type, payer_id"""


def read_chunk(conn, region: str, lo: int, hi: int, month: dt.date):
    """The persons ``[lo, hi)`` of ``region`` for ``month``: their enrolment rows (person, k,
    employer, wage or −1, one flag per ``model.COLLECTED_SCHEMES``; see
    ``registry.queries.enrolment_matrix``) and their declarations in force (person, k,
    employer, year, value; sorted, the latest last per key)."""
    month = month.replace(day=1)
    with dialect.for_short_queries(conn):
        rows = registry.enrolment_matrix(conn, region, lo, hi, month, month_end(month),
                                         model.COLLECTED_SCHEMES)
        decl = fetch_int_matrix(conn, _decl_sql(conn), {"lo": lo, "hi": hi, "r": region,
                                                        "mstart": month}, 7)
    if len(decl):
        decl = decl[np.lexsort((decl[:, 6], decl[:, 5], decl[:, 2], decl[:, 1], decl[:, 0]))]
    return rows, decl[:, 0:5]


def _context(conn, region: str, month: dt.date) -> model.RateContext:
    rules = load_rules()
    rs = rate_set(rules, region, month)
    sources = list(rs.sources)
    bm = rules.lookup("collection.resident_billing_month", region, month)
    sources.append(bm.as_json())
    emp = registry.employer_risk_matrix(conn, month)
    med = 0
    if rules.has("resident.medical_contribution", region, month):
        rm = rules.lookup("resident.medical_contribution", region, month)
        sources.append(rm.as_json())
        med = to_fen(Decimal(rm.value["individual"]))
    return model.RateContext(rs, sources, month.month == int(bm.value), emp[:, 0], emp[:, 1],
                             emp[:, 2], med)


def _post(ledger, conn, actor, key, batch) -> None:
    """Post the chunk's batch; only when some person has no individual account yet (their
    first contribution) ask the ledger to open the missing ones — saving a second account
    lookup per chunk in every month after the first. A refused request leaves nothing (the
    ledger works in a savepoint)."""
    try:
        ledger.post_batch(conn, actor, key, batch)
    except UnknownAccount:
        ledger.post_batch(conn, actor, key, batch, open_missing=True)


def _start_or_resume(engine, actor: Actor, region: str, month: dt.date, chunk_size: int,
                     ctx_sources) -> tuple[dict, bool]:
    with engine.begin() as conn:
        running = conn.execute(select(assessment_run).where(
            assessment_run.c.region == region, assessment_run.c.month == month,
            assessment_run.c.status == "running").order_by(assessment_run.c.id)).mappings().first()
        if running is not None:
            return dict(running), True
        lo, hi = registry.enrolled_person_range(conn, region)
        lo, hi = int(lo or 0), int(hi if hi is not None else -1)
        prior = conn.execute(text("SELECT 1 FROM assessment_run WHERE region = :r AND "
                                  "month = :m AND status = 'done'"),
                             {"r": region, "m": month}).first()
        row = dict(region=region, month=month, kind="correction" if prior else "initial",
                   status="running", chunk_size=chunk_size, lo=lo, hi=hi, next_lo=lo,
                   chunks_done=0, persons=0, rows=0, total_fen=0,
                   sources=json.dumps(ctx_sources, ensure_ascii=False), actor=actor.id,
                   started_at=now())
        rid = conn.execute(assessment_run.insert().values(**row)).inserted_primary_key[0]
        row["id"] = rid
        return row, False


def _write(conn, rid: int, region: str, month: dt.date, keys, info, amounts) -> None:
    data = {"run_id": rid, "region": region, "month": month,
            "person_id": keys[:, 0], "payer_type": PAYER_CODE[keys[:, 1]],
            "payer_id": np.where(keys[:, 1] == 0, keys[:, 2], keys[:, 0]),
            "wage_fen": info[:, 0], "base_fen": info[:, 1], "clamp": info[:, 2],
            "basis": info[:, 3], "injury_num": info[:, 4],
            "total_fen": amounts.sum(axis=1)}
    for i, c in enumerate(model.AMOUNT_COLUMNS):
        data[c] = amounts[:, i]
    insert_columns(conn, "contribution", [
        ("run_id", "i8"), ("region", "S"), ("month", "date"), ("person_id", "i8"),
        ("payer_type", "S"), ("payer_id", "i8"), ("wage_fen", "i8"),
        ("base_fen", "i8"), ("clamp", "i2"), ("basis", "i2"), ("injury_num", "i8"),
        *[(c, "i8") for c in model.AMOUNT_COLUMNS], ("total_fen", "i8")], data)


def _chunk(conn, ledger, actor, ctx, run: dict, chunk_no: int, lo: int, hi: int,
           month: dt.date, on_phase: OnPhase | None) -> tuple[int, int, int, str | None]:
    """One chunk in the caller's transaction: read, compute, diff, write, post. Returns
    (persons seen, rows written, their total, the ledger key)."""
    rid, region = run["id"], run["region"]
    p = {"lo": lo, "hi": hi, "r": region, "mstart": month}
    dialect.xact_lock(conn, model.LOCK_NS, f"assess:{region}:{month}")
    now_lo = conn.execute(text("SELECT next_lo FROM assessment_run WHERE id = :i"),
                          {"i": rid}).scalar_one()
    if int(now_lo) != lo:
        raise ConflictError(f"assessment run {rid} of {region} {month_str(month)} is "
                            f"being advanced by another process (checkpoint {now_lo}, "
                            f"expected {lo}); let it finish")
    with phase(on_phase, "read"):
        rows, decl = read_chunk(conn, region, lo, hi, month)
    with phase(on_phase, "compute"):
        keys, info, amounts = model.compute_chunk(ctx, rows, decl, month)
    with phase(on_phase, "diff"):
        if run["kind"] == "correction" or conn.execute(text(_ANY_SQL), p).first() is not None:
            old = fetch_int_matrix(conn, _OLD_SQL, p, 3 + NCOL)
            keys, info, amounts = model.diff_with_previous(keys, info, amounts, old)
    n = len(keys)
    total = int(amounts.sum())
    key = None
    if n:
        with phase(on_phase, "write"):
            _write(conn, rid, region, month, keys, info, amounts)
        with phase(on_phase, "ledger"):
            batch = model.assessment_batch(region, month, rid, keys, amounts)
            if batch is not None:
                key = f"collect.assess:{region}:{month_str(month)}:{rid}:{chunk_no}"
                _post(ledger, conn, actor, key, batch)
    persons = int(len(np.unique(rows[:, 0]))) if len(rows) else 0
    return persons, n, total, key


def _checkpoint(conn, rid: int, chunk_no: int, lo: int, hi: int, persons: int, n: int,
                total: int, key: str | None) -> None:
    conn.execute(assessment_chunk.insert().values(
        run_id=rid, chunk_no=chunk_no, lo=lo, hi=hi, persons=persons, rows=n,
        total_fen=total, ledger_key=key, done_at=now()))
    conn.execute(update(assessment_run).where(assessment_run.c.id == rid).values(
        next_lo=hi, chunks_done=chunk_no + 1, persons=assessment_run.c.persons + persons,
        rows=assessment_run.c.rows + n, total_fen=assessment_run.c.total_fen + total))


def assess(engine, actor: Actor, region: str, month: dt.date, *, chunk_size: int = 50_000,
           on_chunk=None, on_phase: OnPhase | None = None,
           fault_point: FaultPoint | None = None) -> RunResult:
    """Assess ``region`` for ``month`` (first day); see the module docstring."""
    from shebao.ledger import service as ledger

    month = month.replace(day=1)
    if chunk_size < 1:
        raise InputError("chunk size must be positive", field="chunk_size")
    with engine.connect() as conn:
        ctx = _context(conn, region, month)
    run, resumed = _start_or_resume(engine, actor, region, month, chunk_size, ctx.sources)
    rid, size = run["id"], int(run["chunk_size"])
    ledger.open_chart(engine, actor, region, model.COLLECTED_SCHEMES)
    lo = int(run["next_lo"])
    chunk_no = int(run["chunks_done"])
    while lo <= int(run["hi"]):
        hi = lo + size
        with engine.begin() as conn:
            persons, n, total, key = _chunk(conn, ledger, actor, ctx, run, chunk_no, lo, hi,
                                            month, on_phase)
            started = time.perf_counter()
            _checkpoint(conn, rid, chunk_no, lo, hi, persons, n, total, key)
        if on_phase:                                 # the checkpoint and the commit
            on_phase("checkpoint", time.perf_counter() - started)
        chunk_no += 1
        lo = hi
        if on_chunk:
            on_chunk(persons, chunk_no)
        if lo <= int(run["hi"]):
            reach(fault_point, "chunk_done")
    with engine.begin() as conn:
        r = conn.execute(select(assessment_run).where(assessment_run.c.id == rid)).mappings().one()
        conn.execute(update(assessment_run).where(assessment_run.c.id == rid).values(
            status="done", finished_at=now()))
        audit.record(conn, actor, "collection.assess", "assessment_run", rid,
                     purpose=f"monthly assessment {region} {month_str(month)}",
                     detail={"region": region, "month": month_str(month), "kind": r["kind"],
                             "resumed": resumed, "chunks": r["chunks_done"],
                             "persons": r["persons"], "rows": r["rows"],
                             "total_fen": r["total_fen"],
                             "parameters": [s["name"] for s in ctx.sources]})
    return RunResult(rid, region, month, r["kind"], resumed, int(r["chunks_done"]),
                     int(r["persons"]), int(r["rows"]), int(r["total_fen"]))
