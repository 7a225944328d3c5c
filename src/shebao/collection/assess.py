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

Which enrolments count: status active/ended, kind employee/flexible/resident, in force on any
day of the month (start ≤ month end, end ≥ month start). Bases: the latest declaration in force
(``base_declaration``), else the wage on the employment record, else the floor; clamped to the
floor/ceiling in force in the month. Flexible workers: the chosen base, else the floor
(pension lines of ``contribution.flexible.*``). Residents: the tier chosen for the year, billed
in ``collection.resident_billing_month``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.periods import month_end, month_str
from shebao.rules.formulas.contribution import (DEN, assess_employees, assess_flexible,
                                                clamp_base, rate_set)
from shebao.rules.loader import load_rules
from shebao.db.bulk import fetch_int_matrix, insert_columns, pg_settings
from shebao.db.uow import now as _now
from shebao.security import audit

from . import model
from .tables import assessment_chunk, assessment_run

FLAG_SCHEMES = model.COLLECTED_SCHEMES  # order of the flag columns read from the enrolments
KIND_CODE = {"employee": 0, "flexible": 1, "resident": 2}
PAYER_CODE = np.array([b"E", b"F", b"R"])
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


# Seconds spent per phase by the last ``assess`` call in this process (read, compute, diff,
# write, ledger, checkpoint) — printed by bench/monthly_cycle.py.
LAST_TIMINGS: dict[str, float] = {}


class _Crash(RuntimeError):
    """Raised by the crash hook in tests: the process 'dies' between two chunks."""


def _chunk_sql(dialect: str) -> str:
    flags = ",\n".join(f"MAX(CASE WHEN scheme = '{s}' THEN 1 ELSE 0 END) AS f_{s}"
                       for s in FLAG_SCHEMES)
    hint = " INDEXED BY ix_enrolment_person_scheme" if dialect == "sqlite" else ""
    return f"""
SELECT e.person_id, e.k, e.employer_id, COALESCE(s.wage_fen, -1) AS wage,
       {", ".join(f"e.f_{s}" for s in FLAG_SCHEMES)}
FROM (
  SELECT person_id,
         CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END AS k,
         COALESCE(employer_id, 0) AS employer_id,
         MAX(COALESCE(employment_id, 0)) AS employment_id,
         {flags}
  FROM enrolment{hint}
  WHERE person_id >= :lo AND person_id < :hi AND region = :r
    AND status IN ('active', 'ended') AND kind IN ('employee', 'flexible', 'resident')
    AND start_date <= :mend AND (end_date IS NULL OR end_date >= :mstart)
  GROUP BY person_id, kind, employer_id
) e LEFT JOIN employment s ON s.id = e.employment_id
ORDER BY e.person_id, e.k, e.employer_id"""


_DECL_SQL = """
SELECT person_id, CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END AS k,
       COALESCE(employer_id, 0), year, COALESCE(wage_fen, chosen_fen, 0)
FROM base_declaration
WHERE person_id >= :lo AND person_id < :hi AND region = :r AND superseded_by IS NULL
  AND effective_from <= :mstart
ORDER BY person_id, kind, employer_id, effective_from, id"""

# PostgreSQL reads a chunk's enrolments row by row (packed: ``db.bulk.fetch_int_matrix``), and
# groups them with numpy: the GROUP BY + ORDER BY of ``_chunk_sql`` spilled its sort and hash
# to disk and hashed the whole employment table for every chunk. Same matrix as ``_chunk_sql``.
_SCHEME_CODE = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(FLAG_SCHEMES))
_ENROL_SQL = f"""
SELECT person_id, CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END,
       COALESCE(employer_id, 0), COALESCE(employment_id, 0),
       CASE scheme {_SCHEME_CODE} ELSE -1 END
FROM enrolment
WHERE person_id >= :lo AND person_id < :hi AND region = :r
  AND status IN ('active', 'ended') AND kind IN ('employee', 'flexible', 'resident')
  AND start_date <= :mend AND (end_date IS NULL OR end_date >= :mstart)"""
# the wages of the chunk's persons' spells (an enrolment naming a spell of another person is
# looked up by id after)
_WAGE_SQL = """SELECT id, COALESCE(wage_fen, -1) FROM employment
WHERE person_id >= :lo AND person_id < :hi"""
_WAGE_BY_ID_SQL = "SELECT id, COALESCE(wage_fen, -1) FROM employment WHERE id = ANY(:ids)"
# declarations with their order (effective_from as days, id) for the latest-wins rule
_DECL_PG_SQL = """
SELECT person_id, CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END,
       COALESCE(employer_id, 0), year, COALESCE(wage_fen, chosen_fen, 0),
       effective_from - DATE '1970-01-01', id
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


def _pack(a: np.ndarray, b: np.ndarray):
    """The rows of ``a`` and ``b`` (same width, ints) as one int64 each, keeping equality —
    when the ranges of the columns fit in 62 bits together (else None)."""
    both = np.concatenate([a, b])
    lo, hi = both.min(axis=0), both.max(axis=0)
    span = [int(h) - int(l) + 1 for l, h in zip(lo.tolist(), hi.tolist())]
    total = 1
    for s in span:
        total *= s
    if total >= 1 << 62:
        return None
    key = np.zeros(len(both), dtype=np.int64)
    for j, s in enumerate(span):
        key = key * s + (both[:, j] - lo[j])
    return key[:len(a)], key[len(a):]


def _match(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row key of ``a`` (n×3 ints), the index of the same key in ``b`` (unique), or -1."""
    if len(a) == 0 or len(b) == 0:
        return np.full(len(a), -1, dtype=np.int64)
    packed = _pack(a, b)
    if packed is not None:    # one int64 per key: a sort of b and a binary search
        ka, kb = packed
        ob = np.argsort(kb, kind="stable")
        pos = np.minimum(np.searchsorted(kb[ob], ka), len(kb) - 1)
        return np.where(kb[ob[pos]] == ka, ob[pos], -1).astype(np.int64)
    _, inv = np.unique(np.concatenate([a, b]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.full(inv.max() + 1, -1, dtype=np.int64)
    pos[inv[len(a):]] = np.arange(len(b))
    return pos[inv[:len(a)]]


def group_enrolments(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enrolment rows (person, k, employer, employment, scheme index or −1) → one row per
    person × k × employer, sorted so: (person, k, employer, 0, one flag per ``FLAG_SCHEMES``)
    and the largest employment id of the group (0: none) — what ``_chunk_sql`` computes."""
    nf = len(FLAG_SCHEMES)
    if len(raw) == 0:
        return np.zeros((0, 4 + nf), np.int64), np.zeros(0, np.int64)
    o = np.lexsort((raw[:, 2], raw[:, 1], raw[:, 0]))
    r = raw[o]
    new = np.ones(len(r), dtype=bool)
    new[1:] = np.any(r[1:, 0:3] != r[:-1, 0:3], axis=1)
    starts = np.flatnonzero(new)
    g = np.cumsum(new) - 1
    out = np.zeros((len(starts), 4 + nf), np.int64)
    out[:, 0:3] = r[starts, 0:3]
    known = r[:, 4] >= 0
    out[g[known], 4 + r[known, 4]] = 1
    return out, np.maximum.reduceat(r[:, 3], starts)


def _read_chunk(conn, sql: str, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's enrolment rows (person, k, employer, wage or −1, flags) and declarations
    (person, k, employer, year, value; sorted, latest last per key)."""
    if conn.dialect.name != "postgresql":
        return (fetch_int_matrix(conn, sql, p, 4 + len(FLAG_SCHEMES)),
                fetch_int_matrix(conn, _DECL_SQL, p, 5))
    with pg_settings(conn, jit="off"):      # short queries: compiling them costs more
        return _read_chunk_pg(conn, p)


def _read_chunk_pg(conn, p: dict) -> tuple[np.ndarray, np.ndarray]:
    rows, spell = group_enrolments(fetch_int_matrix(conn, _ENROL_SQL, p, 5))
    need = np.unique(spell[spell > 0])
    wages = np.zeros((0, 2), np.int64)
    if len(need):
        wages = fetch_int_matrix(conn, _WAGE_SQL, p, 2)
        wages = wages[np.argsort(wages[:, 0], kind="stable")]
        if len(wages):
            pos = np.minimum(np.searchsorted(wages[:, 0], need), len(wages) - 1)
            missing = need[wages[pos, 0] != need]
        else:
            missing = need
        if len(missing):    # spells of persons outside the chunk (rare): by id
            more = fetch_int_matrix(conn, _WAGE_BY_ID_SQL, {"ids": missing.tolist()}, 2)
            wages = np.concatenate([wages, more])
            wages = wages[np.argsort(wages[:, 0], kind="stable")]
    rows[:, 3] = -1
    if len(wages):
        pos = np.minimum(np.searchsorted(wages[:, 0], spell), len(wages) - 1)
        hit = (spell > 0) & (wages[pos, 0] == spell)
        rows[hit, 3] = wages[pos[hit], 1]
    decl = fetch_int_matrix(conn, _DECL_PG_SQL, p, 7)
    if len(decl):
        decl = decl[np.lexsort((decl[:, 6], decl[:, 5], decl[:, 2], decl[:, 1], decl[:, 0]))]
    return rows, decl[:, 0:5]


class _Context:
    """Everything resolved once per run: rates, employers' classes, billing rules."""

    def __init__(self, conn, region: str, month: dt.date):
        rules = load_rules()
        self.rs = rate_set(rules, region, month)
        self.sources = list(self.rs.sources)
        bm = rules.lookup("collection.resident_billing_month", region, month)
        self.sources.append(bm.as_json())
        self.bill_residents = month.month == int(bm.value)
        arr = fetch_int_matrix(conn, "SELECT id, risk_class, float_tier_pct FROM employer "
                                     "ORDER BY id", {}, 3, order_by="c0")
        # the employer's version in force in the month (industry → class, floating tier),
        # where the registry kept versions; otherwise the current row
        ver = fetch_int_matrix(conn, "SELECT employer_id, risk_class, float_tier_pct "
                                     "FROM employer_version WHERE valid_from <= :m AND "
                                     "(valid_to IS NULL OR valid_to > :m) ORDER BY employer_id",
                               {"m": month}, 3, order_by="c0")
        if len(ver) and len(arr):
            pos = np.searchsorted(arr[:, 0], ver[:, 0])
            ok = (pos < len(arr)) & (arr[np.minimum(pos, len(arr) - 1), 0] == ver[:, 0])
            arr[pos[ok], 1:] = ver[ok, 1:]
        self.emp_ids, self.emp_class, self.emp_tier = arr[:, 0], arr[:, 1], arr[:, 2]
        self.lines = [(model.COLUMN_INDEX[model.column_for(ln.scheme, ln.payer, ln.account)], ln)
                      for ln in self.rs.lines]
        self.flex_lines = [(model.COLUMN_INDEX[model.column_for(ln.scheme, ln.payer,
                                                                ln.account)], ln)
                           for ln in self.rs.flexible_lines]

    def employer_attrs(self, employer_ids: np.ndarray):
        pos = np.searchsorted(self.emp_ids, employer_ids)
        pos = np.clip(pos, 0, max(len(self.emp_ids) - 1, 0))
        if len(employer_ids) and (len(self.emp_ids) == 0
                                  or np.any(self.emp_ids[pos] != employer_ids)):
            missing = employer_ids[(len(self.emp_ids) == 0) | (self.emp_ids[pos] != employer_ids)]
            raise InputError(f"enrolments name unknown employers: {missing[:5].tolist()}",
                             field="employer_id")
        return self.emp_class[pos], self.emp_tier[pos]


def compute_chunk(ctx: _Context, rows: np.ndarray, decl: np.ndarray, month: dt.date):
    """Vectorised assessment of one chunk.

    ``rows``: person_id, k, employer_id, wage (−1 unknown), 6 scheme flags.
    ``decl``: person_id, k, employer_id, year, value — sorted, several per key allowed (latest
    wins). Returns (keys n×3, info n×5 [wage, base, clamp, basis, injury_num], amounts n×NCOL).
    """
    rs = ctx.rs
    n = len(rows)
    keys = rows[:, 0:3]
    flags = rows[:, 4:4 + len(FLAG_SCHEMES)].astype(bool)
    amounts = np.zeros((n, NCOL), dtype=np.int64)
    info = np.zeros((n, 5), dtype=np.int64)
    if n == 0:
        return keys, info, amounts
    # latest declaration per key
    if len(decl):
        last = np.ones(len(decl), dtype=bool)
        last[:-1] = np.any(decl[1:, 0:3] != decl[:-1, 0:3], axis=1)
        decl = decl[last]
    di = _match(keys, decl[:, 0:3] if len(decl) else np.zeros((0, 3), np.int64))
    has_decl = di >= 0
    dval = np.where(has_decl, decl[np.maximum(di, 0), 4] if len(decl) else 0, 0)
    dyear = np.where(has_decl, decl[np.maximum(di, 0), 3] if len(decl) else 0, 0)
    k = rows[:, 1]
    # employees
    e = np.flatnonzero(k == 0)
    if len(e):
        wage = np.where(has_decl[e], dval[e], rows[e, 3])
        basis = np.where(has_decl[e], 0, np.where(rows[e, 3] >= 0, 1, 2))
        wage = np.maximum(wage, 0)
        base, how = clamp_base(wage, rs.floor_fen, rs.ceiling_fen)
        inj = np.zeros(len(e), dtype=np.int64)
        if rs.injury_base:
            cls, tier = ctx.employer_attrs(rows[e, 2])
            inj = rs.injury_rate_num(cls, tier * (DEN // 100))
        per_line = assess_employees(rs, base, inj)
        for col, ln in ctx.lines:
            f = flags[e, FLAG_SCHEMES.index(ln.scheme)]
            amounts[e, col] = np.where(f, per_line[ln], 0)
        injury_enrolled = flags[e, FLAG_SCHEMES.index("injury")]
        info[e] = np.column_stack([wage, base, how, basis, np.where(injury_enrolled, inj, 0)])
    # flexible workers: the chosen base (clamped to the month's limits) or the floor
    f_ = np.flatnonzero(k == 1)
    if len(f_):
        chosen = np.where(has_decl[f_], dval[f_], rs.floor_fen)
        base, how = clamp_base(chosen, rs.floor_fen, rs.ceiling_fen)
        per_line = assess_flexible(rs, base)
        for col, ln in ctx.flex_lines:
            amounts[f_, col] = np.where(flags[f_, FLAG_SCHEMES.index(ln.scheme)], per_line[ln], 0)
        info[f_] = np.column_stack([chosen, base, how, np.where(has_decl[f_], 3, 4),
                                    np.zeros(len(f_), np.int64)])
    # residents: the tier chosen for this year, in the billing month
    r = np.flatnonzero(k == 2)
    if len(r) and ctx.bill_residents:
        ok = has_decl[r] & (dyear[r] == month.year) & flags[r, FLAG_SCHEMES.index(
            model.RESIDENT_SCHEME)]
        col = model.COLUMN_INDEX[f"{model.RESIDENT_SCHEME}_ee_ind"]
        amounts[r, col] = np.where(ok, dval[r], 0)
        info[r] = np.column_stack([dval[r], dval[r], np.zeros(len(r), np.int64),
                                   np.full(len(r), 5), np.zeros(len(r), np.int64)])
    keep = amounts.any(axis=1)
    return keys[keep], info[keep], amounts[keep]


def diff_with_previous(keys, info, amounts, old: np.ndarray):
    """Subtract what earlier runs assessed (``old``: person, k, emp, NCOL sums); keep non-zero."""
    if len(old) == 0:
        return keys, info, amounts
    okeys, oamt = old[:, 0:3], old[:, 3:]
    allk = np.concatenate([keys, okeys])
    uk, inv = np.unique(allk, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    total = np.zeros((len(uk), NCOL), dtype=np.int64)
    np.add.at(total, inv[:len(keys)], amounts)
    np.subtract.at(total, inv[len(keys):], oamt)
    new_info = np.zeros((len(uk), 5), dtype=np.int64)
    new_info[inv[:len(keys)]] = info
    keep = total.any(axis=1)
    return uk[keep], new_info[keep], total[keep]


def _ledger_batch(region: str, month: dt.date, run_id: int, keys, amounts):
    from shebao.ledger.model import INDIVIDUAL_SCHEMES, Batch, BatchEntry, Line, account_code

    entries = []
    is_emp = keys[:, 1] == 0
    pids = keys[:, 0]
    for scheme in model.COLLECTED_SCHEMES:
        cols = model.scheme_columns(scheme)
        sub = amounts[:, cols]
        if not sub.any():
            continue
        names = [model.AMOUNT_COLUMNS[c] for c in cols]
        pool_mask = np.array([nm.endswith("_pool") for nm in names])
        ind = sub[:, ~pool_mask].sum(axis=1)
        pooled = int(sub[:, pool_mask].sum())
        recv_e = int(sub[is_emp].sum())
        recv_i = int(sub[~is_emp].sum())
        person_ids = np.zeros(0, np.int64)
        person_amts = np.zeros(0, np.int64)
        if scheme in INDIVIDUAL_SCHEMES:
            nz = ind != 0
            person_ids, inv = np.unique(pids[nz], return_inverse=True)
            person_amts = np.zeros(len(person_ids), np.int64)
            np.add.at(person_amts, inv.reshape(-1), -ind[nz])
        else:  # the ledger keeps no individual accounts for this scheme: pooled
            pooled += int(ind.sum())
        lines = []
        if recv_e:
            lines.append(Line(account_code(region, scheme, "receivable_employer"), recv_e))
        if recv_i:
            lines.append(Line(account_code(region, scheme, "receivable_individual"), recv_i))
        if pooled:
            lines.append(Line(account_code(region, scheme, "pooled_fund"), -pooled))
        entries.append(BatchEntry(region, scheme, month, tuple(lines), person_ids, person_amts,
                                  source="collection.assess",
                                  memo=f"assessment {region} {month_str(month)} run {run_id}"))
    return Batch(entries) if entries else None


def _lock(conn, region: str, month: dt.date) -> None:
    """Serialise chunk transactions of the same region × month across processes: each chunk
    then diffs against everything committed before it, so two runs can never both write
    the same amounts (SQLite: BEGIN IMMEDIATE already serialises writers)."""
    if conn.dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(f"assess:{region}:{month}".encode()).digest()[:8],
                           "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


def _post(ledger, conn, actor, key, batch) -> None:
    """Post the chunk's batch; only when some person has no individual account yet (their
    first contribution) ask the ledger to open the missing ones — saving a second account
    lookup per chunk in every month after the first. A refused request leaves nothing (the
    ledger works in a savepoint)."""
    try:
        ledger.post_batch(conn, actor, key, batch)
    except InputError as exc:
        if exc.field != "person_ids" or "unknown account" not in str(exc):
            raise
        ledger.post_batch(conn, actor, key, batch, open_missing=True)


def _start_or_resume(engine, actor: Actor, region: str, month: dt.date, chunk_size: int,
                     ctx_sources) -> tuple[dict, bool]:
    with engine.begin() as conn:
        running = conn.execute(select(assessment_run).where(
            assessment_run.c.region == region, assessment_run.c.month == month,
            assessment_run.c.status == "running").order_by(assessment_run.c.id)).mappings().first()
        if running is not None:
            return dict(running), True
        lo, hi = conn.execute(text("SELECT MIN(person_id), MAX(person_id) FROM enrolment "
                                   "WHERE region = :r"), {"r": region}).one()
        prior = conn.execute(text("SELECT 1 FROM assessment_run WHERE region = :r AND "
                                  "month = :m AND status = 'done'"),
                             {"r": region, "m": month}).first()
        row = dict(region=region, month=month, kind="correction" if prior else "initial",
                   status="running", chunk_size=chunk_size, lo=int(lo or 0), hi=int(hi or -1),
                   next_lo=int(lo or 0), chunks_done=0, persons=0, rows=0, total_fen=0,
                   sources=json.dumps(ctx_sources, ensure_ascii=False), actor=actor.id,
                   started_at=_now())
        rid = conn.execute(assessment_run.insert().values(**row)).inserted_primary_key[0]
        row["id"] = rid
        return row, False


def assess(engine, actor: Actor, region: str, month: dt.date, *, chunk_size: int = 50_000,
           on_chunk=None, _crash_after: int | None = None) -> RunResult:
    """Assess ``region`` for ``month`` (first day); see the module docstring."""
    from shebao.ledger import service as ledger

    month = month.replace(day=1)
    if chunk_size < 1:
        raise InputError("chunk size must be positive", field="chunk_size")
    with engine.connect() as conn:
        ctx = _Context(conn, region, month)
    run, resumed = _start_or_resume(engine, actor, region, month, chunk_size, ctx.sources)
    rid, size = run["id"], int(run["chunk_size"])
    ledger.open_chart(engine, actor, region, model.COLLECTED_SCHEMES)
    mend = month_end(month)
    sql = None
    lo = int(run["next_lo"])
    chunk_no = int(run["chunks_done"])
    correction = run["kind"] == "correction"
    done_now = 0
    tm = {k: 0.0 for k in ("read", "compute", "diff", "write", "ledger", "checkpoint")}
    LAST_TIMINGS.clear()
    while lo <= int(run["hi"]):
        hi = lo + size
        with engine.begin() as conn:
            sql = sql or _chunk_sql(conn.dialect.name)
            p = {"lo": lo, "hi": hi, "r": region, "mstart": month, "mend": mend}
            _lock(conn, region, month)
            now_lo = conn.execute(text("SELECT next_lo FROM assessment_run WHERE id = :i"),
                                  {"i": rid}).scalar_one()
            if int(now_lo) != lo:
                raise ConflictError(f"assessment run {rid} of {region} {month_str(month)} is "
                                    f"being advanced by another process (checkpoint {now_lo}, "
                                    f"expected {lo}); let it finish")
            t0 = time.perf_counter()
            rows, decl = _read_chunk(conn, sql, p)
            t1 = time.perf_counter()
            keys, info, amounts = compute_chunk(ctx, rows, decl, month)
            t2 = time.perf_counter()
            tm["read"] += t1 - t0
            tm["compute"] += t2 - t1
            if correction or conn.execute(text(_ANY_SQL), p).first() is not None:
                old = fetch_int_matrix(conn, _OLD_SQL, p, 3 + NCOL)
                keys, info, amounts = diff_with_previous(keys, info, amounts, old)
            t3 = time.perf_counter()
            tm["diff"] += t3 - t2
            n = len(keys)
            total = int(amounts.sum())
            key = None
            if n:
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
                t4 = time.perf_counter()
                tm["write"] += t4 - t3
                batch = _ledger_batch(region, month, rid, keys, amounts)
                if batch is not None:
                    key = f"collect.assess:{region}:{month_str(month)}:{rid}:{chunk_no}"
                    _post(ledger, conn, actor, key, batch)
                tm["ledger"] += time.perf_counter() - t4
            t5 = time.perf_counter()
            persons = int(len(np.unique(rows[:, 0]))) if len(rows) else 0
            conn.execute(assessment_chunk.insert().values(
                run_id=rid, chunk_no=chunk_no, lo=lo, hi=hi, persons=persons, rows=n,
                total_fen=total, ledger_key=key, done_at=_now()))
            conn.execute(update(assessment_run).where(assessment_run.c.id == rid).values(
                next_lo=hi, chunks_done=chunk_no + 1,
                persons=assessment_run.c.persons + persons,
                rows=assessment_run.c.rows + n, total_fen=assessment_run.c.total_fen + total))
        tm["checkpoint"] += time.perf_counter() - t5   # incl. the commit
        LAST_TIMINGS.update(tm)
        chunk_no += 1
        done_now += 1
        lo = hi
        if on_chunk:
            on_chunk(persons, chunk_no)
        if _crash_after is not None and done_now >= _crash_after and lo <= int(run["hi"]):
            raise _Crash(f"simulated crash after {done_now} chunk(s)")
    with engine.begin() as conn:
        r = conn.execute(select(assessment_run).where(assessment_run.c.id == rid)).mappings().one()
        conn.execute(update(assessment_run).where(assessment_run.c.id == rid).values(
            status="done", finished_at=_now()))
        audit.record(conn, actor, "collection.assess", "assessment_run", rid,
                     purpose=f"monthly assessment {region} {month_str(month)}",
                     detail={"region": region, "month": month_str(month), "kind": r["kind"],
                             "resumed": resumed, "chunks": r["chunks_done"],
                             "persons": r["persons"], "rows": r["rows"],
                             "total_fen": r["total_fen"],
                             "parameters": [s["name"] for s in ctx.sources]})
    return RunResult(rid, region, month, r["kind"], resumed, int(r["chunks_done"]),
                     int(r["persons"]), int(r["rows"]), int(r["total_fen"]))


