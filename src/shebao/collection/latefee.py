"""Late fees: the one accrual calculation, and charging it to employers (billed and posted).

**Accrual** (社会保险法 第八十六条: 用人单位未按时足额缴纳社会保险费的 … 按日加收万分之五的滞纳金;
the rate is the parameter ``collection.late_fee_rate``). For a bill with due date ``due`` and
a day ``T``: every fen paid after the due date accrues from the due date to the day the bank
booked it; every fen still owed on ``T`` accrues from the due date to ``T``::

    fen_days(T) = Σ paid_late × (booked_on − due)  +  owed(T) × (T − due)
    fee(T)      = round_half_up(fen_days(T) × rate)          (once per bill, integer fen)

Only employers are charged (the article names 用人单位); flexible workers' and residents'
bills accrue nothing. ``accrue`` computes this set-based (numpy arrays over the bills of a
region) and is used by ``arrears`` (the listing), ``charge_late_fees`` (the run), the bank
import (a bill settled late) and the bill view — there is no second formula.

**Charging.** A bill's charges are cumulative: a charge on day ``T`` is ``fee(T)`` minus what
was already charged on the bill, and it is written only when that differs from zero. So
re-running the same as-of day, or re-importing the same bank file, charges nothing; a later
as-of charges only the increment since the last charge; a receipt that arrives after a charge
(booked before the charged day) lowers ``fee`` on that day and is charged as a negative
adjustment at the last charged day. Each charge is a ``late_fee_charge`` row (payer, bill,
from/to day, days, base, fen·days, rate, fen, source, idempotency key
``LF:<bill>:<n-th charge>:<to day>`` — unique, so two concurrent runs cannot charge twice) and,
per bill month, one ledger entry Dr ``receivable_employer`` / Cr ``late_fee_income`` (source
``collection.late_fee``, effective in the bill's month so that ``reconcile`` sees it) of the
scheme whose accounts hold the agency's collection account (``collection.collection_account``
→ ``suspense_scheme``), under an idempotency key derived from the rows it posts.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text

from shebao.core.regions import check_region
from shebao.core.actor import Actor
from shebao.core.errors import AlreadyRunning, InputError
from shebao.core.money import fen_to_yuan_str, rate_ratio
from shebao.core.timing import FaultPoint, reach
from shebao.db import dialect
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from shebao.db.bulk import EPOCH_1970, date_days, day_number, insert_columns
from shebao.db.uow import transaction

SOURCE = "collection.late_fee"
# held by whoever charges late fees of a region (a run, a bank import) until it commits
LOCK = "collection.late_fees:{region}"


@dataclass
class Accrual:
    """Per bill (arrays of equal length): what accrued up to ``t`` (int days)."""

    bill_id: np.ndarray
    ptype: np.ndarray          # "E" / "F" / "R"
    payer: np.ndarray
    month: np.ndarray          # int days
    due: np.ndarray            # int days
    t: np.ndarray              # int days: the day accrued to
    owed: np.ndarray           # fen still owed on t
    base: np.ndarray           # owed on t + paid late up to t
    fen_days: np.ndarray
    fee: np.ndarray            # fen, rounded once (0 for non-employers)
    days: np.ndarray           # t − due (days overdue on t)
    charged: np.ndarray        # fen already charged
    n_charges: np.ndarray
    last_to: np.ndarray        # int days of the last charge (0: none)
    rate: str = ""
    reference: str = ""

    def __len__(self) -> int:
        return len(self.bill_id)


def _rate(region: str, on: dt.date):
    r = load_rules().lookup("collection.late_fee_rate", region, on)
    return r, *rate_ratio(r.value)


# Which bills of the region an accrual covers: conditions on the bill ``b``, by name.
_OVERDUE = ("b.due_date < :d AND (b.total_fen > b.paid_fen OR b.last_paid_on > b.due_date "
            "OR EXISTS (SELECT 1 FROM late_fee_charge c0 WHERE c0.bill_id = b.id))")
SELECTIONS = {
    # overdue on :d, paid late, or carrying a charge (the arrears listing)
    "overdue": _OVERDUE,
    # the same, employers only (the late-fee run)
    "overdue_employers": "b.payer_type = 'E' AND " + _OVERDUE,
    # employers' bills the bank import :i settled after their due date (not correlated: the
    # set of bills is computed once)
    "settled_late_by_import": (
        "b.payer_type = 'E' AND b.id IN (SELECT r1.bill_id FROM receipt r1 JOIN bill b1 "
        "ON b1.id = r1.bill_id WHERE r1.import_id = :i AND r1.booked_on > b1.due_date "
        "AND r1.applied_fen > 0)"),
    # one bill :b
    "bill": "b.id = :b",
}


def accrue(conn, region: str, as_of: dt.date, selection: str, params: dict | None = None, *,
           to_day: tuple[np.ndarray, np.ndarray] | None = None,
           extend_to_last_charge: bool = False) -> Accrual:
    """Accrue the late fee of the bills of ``region`` in ``selection`` (a key of
    ``SELECTIONS``, whose parameters ``params`` gives).

    Every bill accrues to ``as_of`` unless ``to_day`` = (bill ids, int days) gives its own; with
    ``extend_to_last_charge`` a bill already charged to a later day accrues to that day."""
    where = SELECTIONS[selection]
    p = {"r": region, **(params or {})}
    rate, num, den = _rate(region, as_of)
    bills = conn.execute(text(
        "SELECT b.id, b.payer_type, b.payer_id, b.month, b.due_date, b.total_fen FROM bill b "
        f"WHERE b.region = :r AND ({where}) ORDER BY b.id"), p).all()
    n = len(bills)
    bid = np.array([b[0] for b in bills], dtype=np.int64)
    ptype = np.array([b[1] for b in bills], dtype="U1")
    payer = np.array([b[2] for b in bills], dtype=np.int64)
    month = date_days([b[3] for b in bills]) if n else np.zeros(0, np.int64)
    due = date_days([b[4] for b in bills]) if n else np.zeros(0, np.int64)
    total = np.array([b[5] for b in bills], dtype=np.int64)
    charged = np.zeros(n, np.int64)
    n_charges = np.zeros(n, np.int64)
    last_to = np.zeros(n, np.int64)
    t = np.full(n, day_number(as_of), np.int64)
    if to_day is not None and n and len(to_day[0]):
        ids, days = (np.asarray(a, dtype=np.int64) for a in to_day)
        o = np.argsort(ids)
        ids, days = ids[o], days[o]
        pos = np.minimum(np.searchsorted(ids, bid), len(ids) - 1)
        t = np.where(ids[pos] == bid, days[pos], t)
    paid = np.zeros(n, np.int64)
    late_fd = np.zeros(n, np.int64)
    late_paid = np.zeros(n, np.int64)
    if n:
        ch = conn.execute(text(
            "SELECT c.bill_id, SUM(c.fen), COUNT(*), MAX(c.to_day) FROM late_fee_charge c "
            f"JOIN bill b ON b.id = c.bill_id WHERE b.region = :r AND ({where}) "
            "GROUP BY c.bill_id"), p).all()
        if ch:
            pos = np.searchsorted(bid, np.array([c[0] for c in ch], dtype=np.int64))
            charged[pos] = [int(c[1]) for c in ch]
            n_charges[pos] = [int(c[2]) for c in ch]
            last_to[pos] = date_days([c[3] for c in ch])
        if extend_to_last_charge:
            t = np.maximum(t, last_to)
        al = conn.execute(text(
            "SELECT a.bill_id, r.booked_on, SUM(a.amount_fen) FROM receipt_alloc a "
            "JOIN receipt r ON r.id = a.receipt_id JOIN bill b ON b.id = a.bill_id "
            f"WHERE b.region = :r AND ({where}) GROUP BY a.bill_id, r.booked_on"), p).all()
        if al:
            pos = np.searchsorted(bid, np.array([a[0] for a in al], dtype=np.int64))
            booked = date_days([a[1] for a in al])
            amt = np.array([a[2] for a in al], dtype=np.int64)
            upto = booked <= t[pos]                     # only what the bank booked by t
            late = upto & (booked > due[pos])
            np.add.at(paid, pos, np.where(upto, amt, 0))
            np.add.at(late_paid, pos, np.where(late, amt, 0))
            np.add.at(late_fd, pos, np.where(late, amt * (booked - due[pos]), 0))
    owed = np.maximum(total - paid, 0)
    days = np.maximum(t - due, 0)
    fen_days = late_fd + owed * days
    # 社会保险法 第八十六条: the late fee is charged to employers (用人单位) only
    fen_days = np.where(ptype == "E", fen_days, 0)
    fee = model.late_fee(fen_days, np.ones(n, np.int64), num, den) if n else \
        np.zeros(0, np.int64)
    return Accrual(bid, ptype, payer, month, due, t, owed, owed + late_paid, fen_days,
                   np.asarray(fee, dtype=np.int64), days, charged, n_charges, last_to,
                   str(rate.value), str(rate.reference or ""))


def _date(days: int) -> dt.date:
    return EPOCH_1970 + dt.timedelta(days=int(days))


@dataclass
class ChargeResult:
    region: str
    as_of: dt.date
    charges: int
    fen: int
    bills: int
    ledger_key: str | None
    rate: str

    def as_dict(self) -> dict:
        return {"region": self.region, "as_of": self.as_of.isoformat(), "charges": self.charges,
                "bills_examined": self.bills, "charged": fen_to_yuan_str(self.fen),
                "daily_rate": self.rate, "ledger_key": self.ledger_key}


def _charge(conn, actor: Actor, region: str, acc: Accrual, source: str,
            key_hint: str) -> tuple[int, int, str | None]:
    """Charge ``fee − charged`` of every bill where it is not zero: rows + one ledger batch."""
    from shebao.ledger import service as ledger
    from shebao.ledger.model import Batch, BatchEntry, Line, account_code

    inc = acc.fee - acc.charged
    sel = (inc != 0) & (acc.ptype == "E")
    if not sel.any():
        return 0, 0, None
    bid, t, inc_s = acc.bill_id[sel], acc.t[sel], inc[sel]
    seq = acc.n_charges[sel] + 1
    frm = np.where(acc.last_to[sel] > 0, acc.last_to[sel], acc.due[sel])
    t_iso = (np.datetime64("1970-01-01") + t.astype("timedelta64[D]")).astype(str)
    keys = [f"LF:{b}:{s}:{d}" for b, s, d in zip(bid.tolist(), seq.tolist(), t_iso.tolist())]
    h = hashlib.sha256("\n".join(f"{k}={v}" for k, v in zip(keys, inc_s.tolist()))
                       .encode()).hexdigest()[:16]
    lkey = f"collect.late_fee:{region}:{key_hint}:{h}"
    now = dt.datetime.now(dt.timezone.utc)
    n = int(sel.sum())
    insert_columns(conn, "late_fee_charge", [
        ("region", "S"), ("bill_id", "i8"), ("month", "date"), ("payer_type", "S"),
        ("payer_id", "i8"), ("from_day", "date"), ("to_day", "date"), ("days", "i4"),
        ("base_fen", "i8"), ("fen_days", "i8"), ("rate", "T"), ("fen", "i8"), ("source", "T"),
        ("idempotency_key", "T"), ("ledger_key", "T"), ("actor", "T"), ("at", "ts")], {
        "region": region, "bill_id": bid, "month": acc.month[sel],
        "payer_type": np.char.encode(acc.ptype[sel], "ascii"), "payer_id": acc.payer[sel],
        "from_day": frm, "to_day": t, "days": t - frm, "base_fen": acc.base[sel],
        "fen_days": acc.fen_days[sel], "rate": [acc.rate] * n, "fen": inc_s,
        "source": [source] * n, "idempotency_key": keys, "ledger_key": [lkey] * n,
        "actor": [actor.id] * n, "at": now})
    # one entry per bill month: Dr receivable_employer / Cr late_fee_income
    months, inv = np.unique(acc.month[sel], return_inverse=True)
    net = np.zeros(len(months), np.int64)
    np.add.at(net, inv.reshape(-1), inc_s)
    scheme = load_rules().value("collection.collection_account", region,
                                _date(int(t.max())))["suspense_scheme"]
    entries = [BatchEntry(region, scheme, _date(m), (
        Line(account_code(region, scheme, "receivable_employer"), int(v)),
        Line(account_code(region, scheme, "late_fee_income"), -int(v))),
        source=SOURCE, memo=f"late fees {source} ({region}, bills of "
                            f"{_date(m).isoformat()[:7]})")
        for m, v in zip(months.tolist(), net.tolist()) if v]
    if entries:
        ledger.open_chart(conn, actor, region, [scheme])
        ledger.post_batch(conn, actor, lkey, Batch(entries))
    return n, int(inc_s.sum()), lkey


def charge_late_fees(engine, actor: Actor, region: str, as_of: dt.date, *,
                     fault_point: FaultPoint | None = None) -> ChargeResult:
    """Charge employers the late fee accrued up to ``as_of`` on every overdue bill of
    ``region`` (idempotent; a later as-of charges only the increment). One transaction; while
    another run or a bank import charges the region's late fees, ``AlreadyRunning``.
    ``fault_point("charged")`` is reached before the transaction commits."""
    check_region(region)
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise InputError(f"as-of {as_of!r} is not a date", field="as_of", value=as_of)
    if as_of > dt.date.today():
        raise InputError(f"as-of {as_of} is in the future: a late fee is charged only for days "
                         "that have passed", field="as_of", value=str(as_of))
    with transaction(engine) as conn:
        if not dialect.try_xact_lock(conn, model.LOCK_NS, LOCK.format(region=region)):
            raise AlreadyRunning(f"late fees of region {region} are already being charged by "
                                 "another process (a late-fee run or a bank import): let it "
                                 "finish; running again afterwards charges nothing twice")
        acc = accrue(conn, region, as_of, "overdue_employers", {"d": as_of},
                     extend_to_last_charge=True)
        n, fen, key = _charge(conn, actor, region, acc, f"run:{as_of.isoformat()}",
                              as_of.isoformat())
        audit.record(conn, actor, "collection.late_fees", "region", region,
                     detail={"as_of": as_of, "bills": len(acc), "charges": n, "fen": fen,
                             "rate": acc.rate, "ledger_key": key})
        reach(fault_point, "charged")
    return ChargeResult(region, as_of, n, fen, len(acc), key, acc.rate)


def charge_settled_late(conn, actor: Actor, import_id: int) -> int:
    """In the bank import's transaction: charge the late fee of the employers' bills that this
    import's receipts settled (in part or in full) after their due date, accrued to the day the
    bank booked the payment. Returns the fen charged."""
    rows = conn.execute(text(
        "SELECT b.region, r.bill_id, MAX(r.booked_on) FROM receipt r JOIN bill b "
        "ON b.id = r.bill_id WHERE r.import_id = :i AND b.payer_type = 'E' "
        "AND r.booked_on > b.due_date AND r.applied_fen > 0 GROUP BY b.region, r.bill_id"),
        {"i": import_id}).all()
    total = 0
    for region in sorted({r[0] for r in rows}):      # per region (a file names few regions)
        mine = [r for r in rows if r[0] == region]
        ids = np.array([int(r[1]) for r in mine], dtype=np.int64)
        days = date_days([r[2] for r in mine])
        on = _date(int(days.max()))
        acc = accrue(conn, region, on, "settled_late_by_import", {"i": import_id},
                     to_day=(ids, days), extend_to_last_charge=True)
        _, fen, _ = _charge(conn, actor, region, acc, f"bank:{import_id}", f"bank{import_id}")
        total += fen
    return total


def bill_late_fee(conn, bill_id: int, region: str, as_of: dt.date) -> dict:
    """The late fee of one bill: accrued to ``as_of``, charged, not yet charged, the charges."""
    acc = accrue(conn, region, as_of, "bill", {"b": bill_id}, extend_to_last_charge=True)
    rows = conn.execute(text(
        "SELECT from_day, to_day, days, base_fen, rate, fen, source FROM late_fee_charge "
        "WHERE bill_id = :b ORDER BY id"), {"b": bill_id}).all()
    fee = int(acc.fee[0]) if len(acc) else 0
    charged = int(acc.charged[0]) if len(acc) else sum(int(r[5]) for r in rows)
    return {"as_of": as_of.isoformat(), "daily_rate": acc.rate,
            "accrued": fen_to_yuan_str(fee), "charged": fen_to_yuan_str(charged),
            "not_yet_charged": fen_to_yuan_str(fee - charged),
            "accrued_fen": fee, "charged_fen": charged, "not_yet_charged_fen": fee - charged,
            "charges": [{"from": str(r[0]), "to": str(r[1]), "days": int(r[2]),
                         "base": fen_to_yuan_str(int(r[3])), "rate": r[4],
                         "fee": fen_to_yuan_str(int(r[5])), "source": r[6]} for r in rows]}
