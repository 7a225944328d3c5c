"""Ledger chart: opening the accounts of a region × scheme and the persons' individual
accounts (idempotent), and the writers' lock order.

Every function takes ``db`` (an Engine or a Connection, see ``shebao.db.uow``) and an actor,
and writes one audit record.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.db import bulk, dialect
from shebao.db.dialect import xact_lock
from shebao.db.uow import now, transaction
from shebao.security import audit

from . import model
from .model import INDIVIDUAL, KINDS, SCHEMES, check_region, check_scheme
from .tables import ledger_account

_LEDGER_LOCK_NS = 0x5EBA1ED6  # advisory lock namespace of the ledger's writer lock


def _serialise(conn: Connection, actor: Actor) -> None:
    """Take the actor's audit chain lock, then the ledger's (PostgreSQL): a writer that already
    appended an audit row holds its chain lock, so chain-before-ledger is the one order every
    writer can keep; taking both before any account row makes deadlocks impossible."""
    audit.lock_chain(conn, audit.chain_of(actor))
    xact_lock(conn, _LEDGER_LOCK_NS, "ledger")


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
            conn.execute(ledger_account.insert(), _account_rows(new, now()))
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


# the persons whose individual accounts are opened by one statement (see ``_open_persons``)
_OPEN_STAGE = "ledger_open_persons"
_INSERT_OPENED = (
    "INSERT INTO ledger_account (code, region, scheme, kind, person_id, normal_sign, "
    "no_negative, balance, opened_at) "
    "SELECT :prefix || t.person_id, :r, :s, 'individual', t.person_id, :sign, :nn, 0, :at "
    "FROM ledger_open_persons t ORDER BY t.person_id "
    "ON CONFLICT (code) DO NOTHING")


def _open_persons(conn, region: str, scheme: str, pids: np.ndarray) -> int:
    """Open the individual accounts of ``pids`` (unique, positive) that have none yet in
    ``region`` × ``scheme``; returns how many were created. Idempotent: where batches are
    staged (PostgreSQL) the ids are copied into a temporary table and inserted with ``ON
    CONFLICT (code) DO NOTHING``; elsewhere the missing ones are inserted with executemany."""
    if len(pids) == 0:
        return 0
    at = now()
    sign, no_neg = INDIVIDUAL.normal_sign, INDIVIDUAL.no_negative
    prefix = f"{region}.{scheme}.individual."
    if dialect.copies_in_bulk(conn):
        bulk.stage(conn, _OPEN_STAGE, [("person_id", "i8")], {"person_id": pids})
        n = conn.execute(text(_INSERT_OPENED),
                         {"prefix": prefix, "r": region, "s": scheme, "sign": sign,
                          "nn": no_neg, "at": at}).rowcount
        dialect.refresh_statistics_if_grown(conn, "ledger_account", n)
        return int(n)
    have, _ = _person_accounts(conn, region, scheme, pids)
    missing = np.setdiff1d(pids, have)
    if len(missing):
        at_v = dialect.bind_value(conn, ledger_account.c.opened_at, at)
        conn.exec_driver_sql(
            "INSERT INTO ledger_account (code, region, scheme, kind, person_id, normal_sign, "
            "no_negative, balance, opened_at) VALUES (?, ?, ?, 'individual', ?, ?, ?, 0, ?)",
            [(prefix + str(p), region, scheme, p, sign, int(no_neg), at_v)
             for p in missing.tolist()])
    return int(len(missing))


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


__all__ = ["open_chart", "open_individual_accounts", "int_matrix"]
