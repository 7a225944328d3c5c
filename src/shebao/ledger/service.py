"""Ledger services: the only way money moves in shebao.

Every function takes ``db`` — an Engine (the function runs its own transaction and commits)
or a Connection (if it is already in a transaction the work joins it inside a SAVEPOINT, so a
refused request leaves nothing behind and the caller commits; otherwise the function begins
and commits) — and an :class:`~shebao.core.actor.Actor`, and writes one audit record.

Public API (what collection, payroll, transfers and the CLI call)::

    open_chart(db, actor, region, schemes=SCHEMES) -> int                   # accounts created
    open_individual_accounts(db, actor, region, scheme, person_ids) -> int
    post_entry(db, actor, key, entry: EntryRequest) -> PostResult
    post_batch(db, actor, key, batch: Batch, *, open_missing=False) -> PostResult
    reverse_entry(db, actor, key, entry_id, *, effective_date=None, memo="") -> PostResult
    balance(db, code, *, as_of=None, recorded_before=None) -> int            # normal side, fen
    account_balances(db, region, scheme, *, as_of=None) -> dict[str, int]
    statement(db, actor, person_id, scheme, *, region=None, purpose=...) -> Statement
    interest.credit_interest(db, actor, region, scheme, year) -> InterestResult
    check.run_check(db, *, as_of=None) -> CheckReport
    transaction(db) / reading(db)        # context managers: join or own a transaction

Amounts are integer fen, **debit positive, credit negative** (``Line.debit``/``Line.credit``).
Balances returned to callers are on the account's *normal* side (an individual account with
1,000.00 yuan in it has balance 100000).

Idempotency: every write carries a ``key`` (see ``model.check_key``), stored unique in
``ledger_request`` with the SHA-256 of the request's content. Posting the same key with the
same content again returns the original entries (``PostResult.replayed``) and writes nothing;
the same key with different content raises :class:`ConflictError`. Derive batch keys from
what makes the request unique, e.g. ``f"collect:{run_id}:{region}:{period}:{chunk}"``.

Bad requests — unbalanced, unknown account, zero or float amounts, a forbidden negative
balance, a malformed key — raise ``InputError``/``InvariantError`` and write nothing.

Batch posting: one call, one transaction, one entry per :class:`BatchEntry` (the aggregated
entry of a region × scheme × run: a few chart lines plus one posting per person to the
individual accounts, given as int64 numpy arrays). PostgreSQL: the lines are copied (``COPY …
(FORMAT BINARY)`` built from numpy) into a temporary stage, and one ``INSERT … SELECT`` per
entry writes its postings, finding each person's individual account by index in the same
statement; the posting trigger (migration 0007) checks the entry from the statement's rows and
adds the per-account sums to the stored balances. SQLite: account ids are looked up, postings
go in with ``executemany`` and the service updates the balances set-based.
Writers are serialised on the ledger's lock (PostgreSQL advisory lock, ``BEGIN IMMEDIATE`` on
SQLite), so ledger writers never deadlock on account rows. Before it they take their actor's
audit chain lock (the one their audit row needs anyway): every writer locks chain, then
ledger, then rows, in that order.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.db.bulk import pg_settings
from shebao.db.uow import now as _now
from shebao.db.uow import reading, transaction
from shebao.db.locks import xact_lock
from shebao.security import audit

from . import model
from .model import (INDIVIDUAL, KINDS, SCHEMES, Batch, BatchEntry, EntryRequest, account_code,
                    check_key, check_region, check_scheme, parse_code)
from .tables import ledger_account, ledger_entry, ledger_posting, ledger_request

PG_EPOCH = dt.date(2000, 1, 1)


_LEDGER_LOCK_NS = 0x5EBA1ED6  # advisory lock namespace of the ledger's writer lock


def _serialise(conn: Connection, actor: Actor) -> None:
    """Take the actor's audit chain lock, then the ledger's (PostgreSQL): a writer that already
    appended an audit row holds its chain lock, so chain-before-ledger is the one order every
    writer can keep; taking both before any account row makes deadlocks impossible."""
    audit.lock_chain(conn, audit.chain_of(actor))
    xact_lock(conn, _LEDGER_LOCK_NS, "ledger")


def _as_dt(v) -> dt.datetime:
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return v


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PostResult:
    key: str
    entry_ids: list[int]
    replayed: bool
    n_postings: int

    @property
    def entry_id(self) -> int:
        return self.entry_ids[0]


@dataclass(frozen=True)
class Account:
    id: int
    code: str
    region: str
    scheme: str
    kind: str
    person_id: int | None
    normal_sign: int
    no_negative: bool
    balance: int            # normal side

    @staticmethod
    def from_row(r) -> "Account":
        return Account(r.id, r.code, r.region, r.scheme, r.kind, r.person_id, r.normal_sign,
                       bool(r.no_negative), int(r.balance) * r.normal_sign)


# --------------------------------------------------------------------------- chart
def _account_rows(codes: list[model.AccountCode], at: dt.datetime) -> list[dict]:
    rows = []
    for ac in codes:
        k = KINDS[ac.kind]
        rows.append({"code": ac.code, "region": ac.region, "scheme": ac.scheme, "kind": ac.kind,
                     "person_id": ac.person_id, "normal_sign": k.normal_sign,
                     "no_negative": k.no_negative, "balance": 0, "opened_at": at})
    return rows


def open_chart(db, actor: Actor, region: str, schemes=SCHEMES) -> int:
    """Open the chart of accounts of ``region`` for each scheme (idempotent); returns how many
    accounts were created."""
    check_region(region)
    wanted = [model.AccountCode(region, check_scheme(s), k.kind) for s in schemes
              for k in model.CHART]
    with transaction(db) as conn:
        _serialise(conn, actor)
        have = set(conn.execute(select(ledger_account.c.code).where(
            ledger_account.c.region == region, ledger_account.c.person_id.is_(None))).scalars())
        new = [ac for ac in wanted if ac.code not in have]
        if new:
            conn.execute(ledger_account.insert(), _account_rows(new, _now()))
        audit.record(conn, actor, "ledger.chart.open", "ledger_region", region,
                     detail={"schemes": list(schemes), "created": len(new)})
    return len(new)


def _person_accounts(conn, region: str, scheme: str, pids: np.ndarray):
    """SQLite: (person_ids, account_ids) of the existing individual accounts among ``pids``
    (PostgreSQL resolves them inside the posting statement: ``_INSERT_FROM_STAGE``)."""
    if len(pids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = conn.execute(text(
        "SELECT person_id, id FROM ledger_account WHERE region = :r AND scheme = :s "
        "AND kind = 'individual' AND person_id IN (SELECT value FROM json_each(:p))"),
        {"r": region, "s": scheme, "p": json.dumps(pids.tolist())}).all()
    arr = int_matrix(rows, 2)
    return arr[:, 0], arr[:, 1]


def int_matrix(rows, width: int) -> np.ndarray:
    """Rows of integers → an int64 array (n, width), without per-row attribute lookups."""
    return np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                       count=len(rows) * width).reshape(len(rows), width)


def _open_persons(conn, region: str, scheme: str, pids: np.ndarray) -> int:
    """Open the individual accounts of ``pids`` (unique, positive) that have none yet in
    ``region`` × ``scheme``; returns how many were created. Idempotent: on PostgreSQL the ids
    are copied (binary COPY from numpy) into a temporary table and inserted with ``ON
    CONFLICT (code) DO NOTHING``; on SQLite the missing ones are inserted with executemany."""
    if len(pids) == 0:
        return 0
    at = _now()
    sign, no_neg = INDIVIDUAL.normal_sign, INDIVIDUAL.no_negative
    prefix = f"{region}.{scheme}.individual."
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS ledger_open_persons "
                             "(person_id BIGINT NOT NULL) ON COMMIT DROP")
        conn.exec_driver_sql("TRUNCATE ledger_open_persons")
        rec = np.empty(len(pids), dtype=[("nf", ">i2"), ("l", ">i4"), ("p", ">i8")])
        rec["nf"], rec["l"], rec["p"] = 1, 8, pids
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy("COPY ledger_open_persons (person_id) FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
                step = 1 << 18
                for i in range(0, len(rec), step):
                    cp.write(rec[i:i + step].tobytes())
                cp.write(b"\xff\xff")
        n = conn.execute(text(
            "INSERT INTO ledger_account (code, region, scheme, kind, person_id, normal_sign, "
            "no_negative, balance, opened_at) "
            "SELECT :prefix || t.person_id, :r, :s, 'individual', t.person_id, :sign, :nn, 0, :at "
            "FROM ledger_open_persons t ORDER BY t.person_id "
            "ON CONFLICT (code) DO NOTHING"),
            {"prefix": prefix, "r": region, "s": scheme, "sign": sign, "nn": no_neg,
             "at": at}).rowcount
        _analyze_if_grown(conn, n)
        return int(n)
    have, _ = _person_accounts(conn, region, scheme, pids)
    missing = np.setdiff1d(pids, have)
    if len(missing):
        at_db = ledger_account.c.opened_at.type.bind_processor(conn.dialect)
        at_v = at_db(at) if at_db else at
        conn.exec_driver_sql(
            "INSERT INTO ledger_account (code, region, scheme, kind, person_id, normal_sign, "
            "no_negative, balance, opened_at) VALUES (?, ?, ?, 'individual', ?, ?, ?, 0, ?)",
            [(prefix + str(p), region, scheme, p, sign, int(no_neg), at_v)
             for p in missing.tolist()])
    return int(len(missing))


def _analyze_if_grown(conn, created: int) -> None:
    """PostgreSQL: after a large open, refresh ``ledger_account``'s planner statistics (in
    this transaction, which sees its own rows) so that joins on it are planned for its real
    size — stale statistics turned the person → account join into a many-minute plan."""
    if created < 10_000:
        return
    est = conn.exec_driver_sql(
        "SELECT reltuples FROM pg_class WHERE oid = 'ledger_account'::regclass").scalar()
    if est is None or est < 0 or created * 5 >= est:
        conn.exec_driver_sql("ANALYZE ledger_account")


def open_individual_accounts(db, actor: Actor, region: str, scheme: str, person_ids) -> int:
    """Open one individual account per person (idempotent); returns how many were created."""
    check_region(region)
    check_scheme(scheme)
    if scheme not in model.INDIVIDUAL_SCHEMES:
        raise InputError(f"scheme {scheme} has no individual accounts", field="scheme")
    pids = np.unique(np.asarray(person_ids, dtype=np.int64))
    if len(pids) and pids.min() <= 0:
        raise InputError("person_ids must be positive", field="person_ids")
    with transaction(db) as conn:
        _serialise(conn, actor)
        n = _open_persons(conn, region, scheme, pids)
        audit.record(conn, actor, "ledger.individual.open", "ledger_region", region,
                     detail={"scheme": scheme, "persons": int(len(pids)), "created": n})
    return n


def get_account(db, code: str) -> Account:
    parse_code(code)
    with reading(db) as conn:
        r = conn.execute(select(ledger_account).where(ledger_account.c.code == code)).first()
    if r is None:
        raise InputError(f"unknown account {code!r}: it has not been opened", field="account")
    return Account.from_row(r)


# --------------------------------------------------------------------------- idempotency
def _claim(conn, actor: Actor, key: str, kind: str, digest: str):
    """Return (request_id, None) for a new key or (None, PostResult) for a faithful repeat."""
    r = conn.execute(select(ledger_request).where(ledger_request.c.key == key)).first()
    if r is not None:
        if r.content_hash != digest or r.kind != kind:
            raise ConflictError(
                f"idempotency key {key!r} was already used on {r.created_at} by {r.actor} for a "
                f"different {r.kind} request (stored content hash {r.content_hash[:12]}…, this "
                f"request {digest[:12]}…); nothing was posted — a new request needs a new key")
        ids = list(conn.execute(select(ledger_entry.c.id).where(
            ledger_entry.c.request_id == r.id).order_by(ledger_entry.c.id)).scalars())
        n = conn.execute(select(func.count()).select_from(ledger_posting).where(
            ledger_posting.c.entry_id.in_(ids))).scalar_one() if ids else 0
        return None, PostResult(key, ids, True, int(n))
    rid = conn.execute(ledger_request.insert().values(
        key=key, content_hash=digest, kind=kind, actor=actor.id, created_at=_now())
        .returning(ledger_request.c.id)).scalar_one()
    return rid, None


def _with_key(db, actor, key, kind, digest, write):
    """Run ``write(conn, request_id)`` once per key; a concurrent duplicate that slipped past
    the lookup hits the unique index, and is answered from the stored request."""
    check_key(key)
    try:
        with transaction(db) as conn:
            _serialise(conn, actor)
            rid, replay = _claim(conn, actor, key, kind, digest)
            if replay is not None:
                return replay
            return write(conn, rid)
    except IntegrityError as exc:
        if "ledger_request" not in str(exc) or not isinstance(db, Engine):
            raise
        with transaction(db) as conn:
            _, replay = _claim(conn, actor, key, kind, digest)
            return replay


# --------------------------------------------------------------------------- writing
@dataclass
class _Prepared:
    """One entry ready to write: its metadata and its postings as arrays."""

    effective_date: dt.date
    source: str
    memo: str
    region: str | None
    scheme: str | None
    account_ids: np.ndarray
    amounts: np.ndarray
    reverses_id: int | None = None
    id: int = 0
    # PostgreSQL: person lines whose individual accounts the database resolves while writing
    # (no round trip of a million account ids); empty elsewhere
    person_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    person_amounts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_missing: bool = False

    @property
    def n_postings(self) -> int:
        return int(len(self.amounts) + len(self.person_amounts))


def _allocate_ids(conn, n: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('ledger_entry', 'id')) "
            "FROM generate_series(1, :n)"), {"n": n}).scalars())
    # SQLite: the write lock (BEGIN IMMEDIATE) is held, so max(id) is ours to extend.
    top = conn.execute(text("SELECT coalesce(max(id), 0) FROM ledger_entry")).scalar_one()
    return list(range(top + 1, top + 1 + n))


def _write(conn, request_id: int, prepared: list[_Prepared]) -> tuple[list[int], int]:
    ids = _allocate_ids(conn, len(prepared))
    at = _now()
    entry_rows = []
    for p, eid in zip(prepared, ids):
        p.id = eid
        entry_rows.append({"id": eid, "request_id": request_id,
                           "effective_date": p.effective_date, "recorded_at": at,
                           "region": p.region, "scheme": p.scheme, "source": p.source,
                           "memo": p.memo or None, "reverses_id": p.reverses_id,
                           "n_postings": p.n_postings})
    if conn.dialect.name == "postgresql":
        conn.execute(ledger_entry.insert(), entry_rows)
        _pg_post(conn, prepared)
        return ids, sum(p.n_postings for p in prepared)
    e_col = np.concatenate([np.full(len(p.amounts), p.id, np.int64) for p in prepared])
    a_col = np.concatenate([p.account_ids.astype(np.int64) for p in prepared])
    m_col = np.concatenate([p.amounts.astype(np.int64) for p in prepared])
    # SQLite: postings first, then the entry rows seal them (triggers in 0003).
    dates = itertools.chain.from_iterable(
        itertools.repeat(p.effective_date.isoformat(), len(p.amounts)) for p in prepared)
    conn.exec_driver_sql(
        "INSERT INTO ledger_posting (entry_id, account_id, amount, effective_date) "
        "VALUES (?, ?, ?, ?)",
        list(zip(e_col.tolist(), a_col.tolist(), m_col.tolist(), dates)))
    conn.execute(ledger_entry.insert(), entry_rows)
    _apply_balances(conn, ids, a_col, m_col)
    return ids, int(len(m_col))


# PostgreSQL posting: every line of the batch is copied (binary, from numpy) into a temporary
# stage — chart lines with their account id, person lines with their person id — and each
# entry's postings are then written by ONE INSERT … SELECT that finds the persons' individual
# accounts by index in stage (= person) order. The posting trigger (migration 0007) checks
# the entry and adds the per-account sums to the stored balances.
_STAGE = "ledger_stage"
_STAGE_COLUMNS = "entry_id, person_id, account_id, amount, effective_date"
_INSERT_FROM_STAGE = (
    "INSERT INTO ledger_posting (entry_id, account_id, amount, effective_date) "
    "SELECT s.entry_id, CASE WHEN s.person_id = 0 THEN s.account_id ELSE a.id END, s.amount, "
    "s.effective_date FROM ledger_stage s LEFT JOIN ledger_account a ON s.person_id <> 0 "
    "AND a.person_id = s.person_id AND a.scheme = :s AND a.region = :r "
    "AND a.kind = 'individual' WHERE s.entry_id = :e")
_MISSING_IN_STAGE = (
    "FROM ledger_stage s WHERE s.entry_id = :e AND s.person_id <> 0 AND NOT EXISTS "
    "(SELECT 1 FROM ledger_account a WHERE a.person_id = s.person_id AND a.scheme = :s "
    "AND a.region = :r AND a.kind = 'individual')")


def _stage(conn, prepared: list[_Prepared]) -> None:
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (entry_id BIGINT NOT NULL, "
                         "person_id BIGINT NOT NULL, account_id BIGINT NOT NULL, "
                         "amount BIGINT NOT NULL, effective_date DATE NOT NULL) ON COMMIT DROP")
    conn.exec_driver_sql(f"TRUNCATE {_STAGE}")
    e, pers, acc, amt, day = [], [], [], [], []
    for p in prepared:
        k, m = len(p.amounts), len(p.person_amounts)
        e.append(np.full(k + m, p.id, np.int64))
        pers += [np.zeros(k, np.int64), p.person_ids.astype(np.int64)]
        acc += [p.account_ids.astype(np.int64), np.zeros(m, np.int64)]
        amt += [p.amounts.astype(np.int64), p.person_amounts.astype(np.int64)]
        day.append(np.full(k + m, (p.effective_date - PG_EPOCH).days, np.int64))
    cols = [np.concatenate(c) for c in (e, pers, acc, amt)] + [np.concatenate(day)]
    dtype = np.dtype([("nf", ">i2")] + [x for i in range(4) for x in
                                        ((f"l{i}", ">i4"), (f"v{i}", ">i8"))]
                     + [("l4", ">i4"), ("v4", ">i4")])
    rec = np.empty(len(cols[0]), dtype=dtype)
    rec["nf"] = 5
    for i, c in enumerate(cols):
        rec[f"l{i}"], rec[f"v{i}"] = (8 if i < 4 else 4), c
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {_STAGE} ({_STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
            step = 1 << 17
            for i in range(0, len(rec), step):
                cp.write(rec[i:i + step].tobytes())
            cp.write(b"\xff\xff")


# the stage joins probe the (person_id, scheme) index row by row in stage order — a hash join
# would read all of ledger_account for every batch — and a statement that runs once is not
# worth compiling (JIT)
_INDEX_PLAN = {"enable_hashjoin": "off", "enable_mergejoin": "off", "jit": "off"}


def _pg_post(conn, prepared: list[_Prepared]) -> None:
    _stage(conn, prepared)
    with pg_settings(conn, **_INDEX_PLAN):
        opened = 0
        for p in prepared:
            if p.open_missing and len(p.person_ids):
                opened += _open_from_stage(conn, p)
        _analyze_if_grown(conn, opened)
        for p in prepared:
            q = {"e": p.id, "s": p.scheme, "r": p.region}
            sp = conn.begin_nested()
            try:
                conn.execute(text(_INSERT_FROM_STAGE), q)
                sp.commit()
            except IntegrityError as exc:
                sp.rollback()
                _explain_refusal(conn, p, q, exc)
                raise


def _open_from_stage(conn, p: _Prepared) -> int:
    """Open the individual accounts of the entry's persons that have none (idempotent)."""
    return int(conn.execute(text(
        "INSERT INTO ledger_account (code, region, scheme, kind, person_id, normal_sign, "
        "no_negative, balance, opened_at) SELECT :prefix || s.person_id, CAST(:r AS VARCHAR), "
        "CAST(:s AS VARCHAR), 'individual', "
        "s.person_id, :sign, :nn, 0, :at " + _MISSING_IN_STAGE +
        " ORDER BY s.person_id ON CONFLICT (code) DO NOTHING"),
        {"e": p.id, "s": p.scheme, "r": p.region, "prefix": f"{p.region}.{p.scheme}.individual.",
         "sign": INDIVIDUAL.normal_sign, "nn": INDIVIDUAL.no_negative, "at": _now()}).rowcount)


def _explain_refusal(conn, p: _Prepared, q: dict, exc: IntegrityError) -> None:
    """Turn the database's refusal of an entry's postings into the service's own errors."""
    n, examples = conn.execute(text(
        "SELECT count(*), (array_agg(s.person_id ORDER BY s.person_id))[1:5] "
        + _MISSING_IN_STAGE), q).one()
    if n:
        shown = ", ".join(account_code(p.region, p.scheme, "individual", int(x))
                          for x in examples)
        raise InputError(f"unknown account(s): {n} person(s) have no {p.scheme} individual "
                         f"account in {p.region} (e.g. {shown}); open them with "
                         f"open_individual_accounts or pass open_missing=True",
                         field="person_ids") from exc
    rows = conn.execute(text(
        "SELECT a.code, a.balance * a.normal_sign AS bal, d.s * a.normal_sign AS chg FROM "
        "(SELECT CASE WHEN s.person_id = 0 THEN s.account_id ELSE a.id END AS account_id, "
        "sum(s.amount) AS s FROM ledger_stage s LEFT JOIN ledger_account a ON s.person_id <> 0 "
        "AND a.person_id = s.person_id AND a.scheme = :s AND a.region = :r "
        "AND a.kind = 'individual' WHERE s.entry_id = :e GROUP BY 1) d "
        "JOIN ledger_account a ON a.id = d.account_id "
        "WHERE a.no_negative AND (a.balance + d.s) * a.normal_sign < 0 ORDER BY a.code LIMIT 10"),
        q).all()
    if rows:
        _refuse_negative(rows, exc)


def _refuse_negative(rows, exc) -> None:
    shown = "; ".join(f"{r.code}: balance {r.bal} fen, change {r.chg} fen" for r in rows)
    raise InvariantError(f"refused: the entry would take {len(rows)} account(s) that may "
                         f"not go negative below zero — {shown}") from exc


def _apply_balances(conn, ids: list[int], accounts: np.ndarray, amounts: np.ndarray) -> None:
    """SQLite: add the new postings to the stored balances, set-based; the CHECK constraint
    refuses a forbidden negative, and then we name the accounts. (On PostgreSQL the posting
    trigger does this; ``check`` re-verifies that every stored balance equals the sum of its
    postings.)"""
    delta = ("SELECT account_id, SUM(amount) AS s FROM ledger_posting "
             "WHERE entry_id BETWEEN :lo AND :hi GROUP BY account_id")
    params = {"lo": min(ids), "hi": max(ids)}
    sp = conn.begin_nested()
    try:
        conn.execute(text(f"UPDATE ledger_account SET balance = ledger_account.balance + d.s "
                          f"FROM ({delta}) d WHERE ledger_account.id = d.account_id"), params)
        sp.commit()
    except IntegrityError as exc:
        sp.rollback()
        rows = conn.execute(text(
            f"SELECT a.code, a.balance * a.normal_sign AS bal, d.s * a.normal_sign AS chg "
            f"FROM ({delta}) d JOIN ledger_account a ON a.id = d.account_id "
            f"WHERE a.no_negative AND (a.balance + d.s) * a.normal_sign < 0 "
            f"ORDER BY a.code LIMIT 10"), params).all()
        if not rows:
            raise
        _refuse_negative(rows, exc)


def _resolve_codes(conn, codes: list[str]) -> dict[str, int]:
    for c in codes:
        parse_code(c)
    uniq = sorted(set(codes))
    rows = conn.execute(select(ledger_account.c.code, ledger_account.c.id).where(
        ledger_account.c.code.in_(uniq))).all()
    found = {r.code: r.id for r in rows}
    missing = [c for c in uniq if c not in found]
    if missing:
        raise InputError(f"unknown account(s) {', '.join(missing[:10])}: not opened (open the "
                         f"chart with open_chart / individual accounts with "
                         f"open_individual_accounts)", field="account")
    return found


def _prepare_entry(conn, e: EntryRequest) -> _Prepared:
    ids = _resolve_codes(conn, [ln.account for ln in e.lines])
    region, scheme = e.region_scheme()
    return _Prepared(e.effective_date, e.source, e.memo, region, scheme,
                     np.array([ids[ln.account] for ln in e.lines], np.int64),
                     np.array([ln.amount for ln in e.lines], np.int64))


def _audit_post(conn, actor, action, key, digest, ids, n, extra=None):
    audit.record(conn, actor, action, "ledger_entry", ids[0] if ids else None,
                 detail={"key": key, "content_hash": digest, "entries": ids[:50],
                         "n_entries": len(ids), "postings": n, **(extra or {})})


def post_entry(db, actor: Actor, key: str, entry: EntryRequest) -> PostResult:
    """Post one balanced journal entry under an idempotency key."""
    check_key(key)
    if not isinstance(entry, EntryRequest):
        raise InputError(f"entry must be an EntryRequest, got {type(entry).__name__}",
                         field="entry")
    e = entry.validated()
    digest = e.content_hash()

    def write(conn, rid):
        p = _prepare_entry(conn, e)
        ids, n = _write(conn, rid, [p])
        _audit_post(conn, actor, "ledger.post", key, digest, ids, n,
                    {"source": e.source, "effective_date": e.effective_date.isoformat()})
        return PostResult(key, ids, False, n)

    return _with_key(db, actor, key, "entry", digest, write)


def post_batch(db, actor: Actor, key: str, batch: Batch, *,
               open_missing: bool = False) -> PostResult:
    """Post many entries in one transaction (see :class:`model.BatchEntry`).

    With ``open_missing`` the individual accounts of persons who have none yet in the entry's
    region × scheme are opened first (a first contribution opens the account); otherwise such
    persons are refused as unknown accounts.
    """
    check_key(key)
    if not isinstance(batch, Batch) or not all(isinstance(x, BatchEntry) for x in batch.entries):
        raise InputError("batch must be a Batch of BatchEntry", field="batch")
    b = batch.validated()
    digest = b.content_hash()

    def write(conn, rid):
        prepared = []
        for be in b.entries:
            prepared.append(_prepare_batch_entry(conn, be, open_missing))
        ids, n = _write(conn, rid, prepared)
        _audit_post(conn, actor, "ledger.post_batch", key, digest, ids, n,
                    {"persons": int(sum(len(be.person_ids) for be in b.entries))})
        return PostResult(key, ids, False, n)

    return _with_key(db, actor, key, "batch", digest, write)


def _prepare_batch_entry(conn, be: BatchEntry, open_missing: bool) -> _Prepared:
    chart = _resolve_codes(conn, [ln.account for ln in be.lines]) if be.lines else {}
    chart_ids = np.array([chart[ln.account] for ln in be.lines], np.int64)
    chart_amounts = np.array([ln.amount for ln in be.lines], np.int64)
    pids = be.person_ids
    if conn.dialect.name == "postgresql":
        return _Prepared(be.effective_date, be.source, be.memo, be.region, be.scheme,
                         chart_ids, chart_amounts, person_ids=pids,
                         person_amounts=be.person_amounts, open_missing=open_missing)
    have_p, have_a = _person_accounts(conn, be.region, be.scheme, pids)
    if open_missing and len(have_p) != len(pids):
        # open only the missing ones, then look up only those (not everyone twice)
        new_p = np.setdiff1d(pids, have_p)
        _open_persons(conn, be.region, be.scheme, new_p)
        got_p, got_a = _person_accounts(conn, be.region, be.scheme, new_p)
        have_p, have_a = np.concatenate([have_p, got_p]), np.concatenate([have_a, got_a])
    if len(have_p) != len(pids):
        missing = np.setdiff1d(pids, have_p)
        shown = ", ".join(account_code(be.region, be.scheme, "individual", int(p))
                          for p in missing[:5])
        raise InputError(f"unknown account(s): {len(missing)} person(s) have no {be.scheme} "
                         f"individual account in {be.region} (e.g. {shown}); open them with "
                         f"open_individual_accounts or pass open_missing=True",
                         field="person_ids")
    order = np.argsort(have_p)
    acct = have_a[order][np.searchsorted(have_p[order], pids)]
    return _Prepared(be.effective_date, be.source, be.memo, be.region, be.scheme,
                     np.concatenate([chart_ids, acct]),
                     np.concatenate([chart_amounts, be.person_amounts]))


def reverse_entry(db, actor: Actor, key: str, entry_id: int, *,
                  effective_date: dt.date | None = None, memo: str = "") -> PostResult:
    """Post the exact opposite of entry ``entry_id``, naming it. The reversal is effective on
    the original's date unless ``effective_date`` is given. An entry is reversed at most once."""
    check_key(key)
    if isinstance(entry_id, bool) or not isinstance(entry_id, (int, np.integer)):
        raise InputError(f"entry_id must be an integer, got {entry_id!r}", field="entry_id")
    entry_id = int(entry_id)
    digest = model.content_hash({"kind": "reversal", "entry_id": entry_id, "memo": memo or "",
                                 "effective_date": effective_date.isoformat()
                                 if effective_date else None})

    def write(conn, rid):
        orig = conn.execute(select(ledger_entry).where(ledger_entry.c.id == entry_id)).first()
        if orig is None:
            raise InputError(f"no ledger entry {entry_id} to reverse", field="entry_id")
        prior = conn.execute(select(ledger_entry.c.id).where(
            ledger_entry.c.reverses_id == entry_id)).scalar_one_or_none()
        if prior is not None:
            raise ConflictError(f"entry {entry_id} was already reversed by entry {prior}")
        rows = conn.execute(select(ledger_posting.c.account_id, ledger_posting.c.amount).where(
            ledger_posting.c.entry_id == entry_id).order_by(ledger_posting.c.id)).all()
        arr = int_matrix(rows, 2)
        eff = effective_date or orig.effective_date
        if isinstance(eff, dt.datetime) or not isinstance(eff, dt.date):
            raise InputError("effective_date must be a date", field="effective_date")
        p = _Prepared(eff, "reversal", memo or f"reversal of entry {entry_id}", orig.region,
                      orig.scheme, arr[:, 0], -arr[:, 1], reverses_id=entry_id)
        ids, n = _write(conn, rid, [p])
        _audit_post(conn, actor, "ledger.reverse", key, digest, ids, n,
                    {"reverses": entry_id})
        return PostResult(key, ids, False, n)

    return _with_key(db, actor, key, "reversal", digest, write)


# --------------------------------------------------------------------------- reading
def balance(db, code: str, *, as_of: dt.date | None = None,
            recorded_before: dt.datetime | None = None) -> int:
    """Balance of an account on its normal side, in fen: all postings effective on or before
    ``as_of`` (and, for "what did the books say then", recorded before ``recorded_before``).
    Back-dated entries count in every later balance."""
    parse_code(code)
    with reading(db) as conn:
        acct = conn.execute(select(ledger_account).where(ledger_account.c.code == code)).first()
        if acct is None:
            raise InputError(f"unknown account {code!r}", field="account")
        q = select(func.coalesce(func.sum(ledger_posting.c.amount), 0)).where(
            ledger_posting.c.account_id == acct.id)
        if as_of is not None:
            q = q.where(ledger_posting.c.effective_date <= as_of)
        if recorded_before is not None:
            q = q.where(ledger_posting.c.entry_id.in_(select(ledger_entry.c.id).where(
                ledger_entry.c.recorded_at < recorded_before)))
        return int(conn.execute(q).scalar_one()) * acct.normal_sign


def account_balances(db, region: str, scheme: str, *, as_of: dt.date | None = None
                     ) -> dict[str, int]:
    """Normal-side balances of the chart accounts of a region × scheme (individual accounts
    summed under ``individual``), as of a date."""
    check_region(region)
    check_scheme(scheme)
    cond = "AND p.effective_date <= :d" if as_of else ""
    with reading(db) as conn:
        rows = conn.execute(text(
            f"SELECT a.kind, a.normal_sign, coalesce(sum(p.amount), 0) AS s "
            f"FROM ledger_account a LEFT JOIN ledger_posting p ON p.account_id = a.id {cond} "
            f"WHERE a.region = :r AND a.scheme = :s GROUP BY a.kind, a.normal_sign"),
            {"r": region, "s": scheme, "d": as_of}).all()
    return {r.kind: int(r.s) * r.normal_sign for r in rows}


@dataclass(frozen=True)
class StatementLine:
    effective_date: dt.date
    recorded_at: dt.datetime
    entry_id: int
    region: str
    source: str
    memo: str | None
    amount: int          # credit to the account positive, debit negative (normal side)
    balance: int         # running balance after this line

    def as_json(self) -> dict:
        from shebao.core.money import fen_to_yuan_str
        return {"effective_date": self.effective_date.isoformat(),
                "recorded_at": self.recorded_at.isoformat(), "entry_id": self.entry_id,
                "region": self.region, "source": self.source, "memo": self.memo,
                "amount": fen_to_yuan_str(self.amount), "balance": fen_to_yuan_str(self.balance)}


@dataclass
class Statement:
    person_id: int
    scheme: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing_balance(self) -> int:
        return self.lines[-1].balance if self.lines else 0


def statement(db, actor: Actor, person_id: int, scheme: str, *, region: str | None = None,
              purpose: str = "individual account statement") -> Statement:
    """Every credit and debit of a person's individual account(s) in a scheme, ordered by
    effective date then entry, with the running balance. The read is audited."""
    check_scheme(scheme)
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen may read only their own account statement")
    if actor.role == "employer":
        raise PermissionDenied("employers may not read individual account statements")
    cond = "AND a.region = :r" if region else ""
    with transaction(db) as conn:
        rows = conn.execute(text(
            f"SELECT e.effective_date, e.recorded_at, e.id AS entry_id, a.region, e.source, "
            f"e.memo, -p.amount AS amount FROM ledger_posting p "
            f"JOIN ledger_account a ON a.id = p.account_id "
            f"JOIN ledger_entry e ON e.id = p.entry_id "
            f"WHERE a.person_id = :pid AND a.scheme = :s AND a.kind = 'individual' {cond} "
            f"ORDER BY e.effective_date, e.id, p.id"),
            {"pid": int(person_id), "s": scheme, "r": region}).all()
        if region and actor.role != "citizen" and not actor.covers(region):
            raise PermissionDenied(f"region {region} is outside {actor.id}'s scope")
        audit.record(conn, actor, "ledger.statement.read", "person", int(person_id),
                     fields=["individual_account"], purpose=purpose,
                     detail={"scheme": scheme, "region": region, "lines": len(rows)})
    out = Statement(int(person_id), scheme)
    running = 0
    for r in rows:
        running += int(r.amount)
        eff = r.effective_date
        if isinstance(eff, str):
            eff = dt.date.fromisoformat(eff)
        out.lines.append(StatementLine(eff, _as_dt(r.recorded_at), int(r.entry_id), r.region,
                                       r.source, r.memo, int(r.amount), running))
    return out


__all__ = ["PostResult", "Account", "Statement", "StatementLine", "open_chart",
           "open_individual_accounts", "get_account", "post_entry", "post_batch",
           "reverse_entry", "balance", "account_balances", "statement", "transaction",
           "reading", "INDIVIDUAL"]
