"""Ledger posting: the only way money moves in shebao.

``post_entry`` (one balanced entry), ``post_batch`` (many entries, person lines as numpy
arrays) and ``reverse_entry``, each under an idempotency key, in one transaction
(``shebao.db.uow``: own it, or join the caller's inside a SAVEPOINT so that a refusal leaves
nothing), with one audit record. See ``shebao.ledger.service`` for the contract.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, UnknownAccount
from shebao.db import bulk, dialect
from shebao.db.uow import now, transaction
from shebao.security import audit

from . import model
from .chart import _open_persons, _person_accounts, _serialise, int_matrix
from .model import (INDIVIDUAL, Batch, BatchEntry, EntryRequest, account_code, check_key,
                    parse_code)
from .tables import ledger_account, ledger_entry, ledger_posting, ledger_request

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
        key=key, content_hash=digest, kind=kind, actor=actor.id, created_at=now())
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




def _write(conn, request_id: int, prepared: list[_Prepared]) -> tuple[list[int], int]:
    ids = bulk.new_ids(conn, "ledger_entry", len(prepared)).tolist()
    at = now()
    entry_rows = []
    for p, eid in zip(prepared, ids):
        p.id = eid
        entry_rows.append({"id": eid, "request_id": request_id,
                           "effective_date": p.effective_date, "recorded_at": at,
                           "region": p.region, "scheme": p.scheme, "source": p.source,
                           "memo": p.memo or None, "reverses_id": p.reverses_id,
                           "n_postings": p.n_postings})
    if dialect.copies_in_bulk(conn):
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





_STAGE_COLUMNS = [("entry_id", "i8"), ("person_id", "i8"), ("account_id", "i8"),
                  ("amount", "i8"), ("effective_date", "date")]


def _stage(conn, prepared: list[_Prepared]) -> None:
    e, pers, acc, amt, day = [], [], [], [], []
    for p in prepared:
        k, m = len(p.amounts), len(p.person_amounts)
        e.append(np.full(k + m, p.id, np.int64))
        pers += [np.zeros(k, np.int64), p.person_ids.astype(np.int64)]
        acc += [p.account_ids.astype(np.int64), np.zeros(m, np.int64)]
        amt += [p.amounts.astype(np.int64), p.person_amounts.astype(np.int64)]
        day.append(np.full(k + m, bulk.day_number(p.effective_date), np.int64))
    bulk.stage(conn, _STAGE, _STAGE_COLUMNS,
               dict(zip([c for c, _ in _STAGE_COLUMNS],
                        [np.concatenate(c) for c in (e, pers, acc, amt, day)])))


def _pg_post(conn, prepared: list[_Prepared]) -> None:
    _stage(conn, prepared)
    # the stage joins probe the (person_id, scheme) index row by row in stage order
    with dialect.for_index_probes(conn):
        opened = 0
        for p in prepared:
            if p.open_missing and len(p.person_ids):
                opened += _open_from_stage(conn, p)
        dialect.refresh_statistics_if_grown(conn, "ledger_account", opened)
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
         "sign": INDIVIDUAL.normal_sign, "nn": INDIVIDUAL.no_negative, "at": now()}).rowcount)


def _explain_refusal(conn, p: _Prepared, q: dict, exc: IntegrityError) -> None:
    """Turn the database's refusal of an entry's postings into the service's own errors."""
    n, examples = conn.execute(text(
        "SELECT count(*), (array_agg(s.person_id ORDER BY s.person_id))[1:5] "
        + _MISSING_IN_STAGE), q).one()
    if n:
        shown = ", ".join(account_code(p.region, p.scheme, "individual", int(x))
                          for x in examples)
        raise UnknownAccount(f"unknown account(s): {n} person(s) have no {p.scheme} individual "
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
    if dialect.copies_in_bulk(conn):
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
        raise UnknownAccount(f"unknown account(s): {len(missing)} person(s) have no {be.scheme} "
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


__all__ = ["PostResult", "post_entry", "post_batch", "reverse_entry"]
