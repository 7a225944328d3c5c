"""The clerk's suspense queue: money a bank import could not apply (no bill, or beyond one),
and applying it to a bill by hand (ledger entries balanced per region × scheme)."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str
from shebao.db.uow import now
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .tables import bill, receipt

PRIORITY = {s: i for i, s in enumerate(model.COLLECTED_SCHEMES)}


def suspense(engine, region: str) -> list[dict]:
    """The clerk's queue: receipts with money in suspense (unmatched, or paid beyond a bill)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, bank_ref, e2e_id, amount_fen, excess_fen, booked_on, status, bill_id "
            "FROM receipt WHERE region = :r AND excess_fen > 0 ORDER BY id"),
            {"r": region}).all()
    return [{"receipt_id": r[0], "bank_ref": r[1], "e2e_id": r[2],
             "amount": fen_to_yuan_str(r[3]), "in_suspense": fen_to_yuan_str(r[4]),
             "in_suspense_fen": int(r[4]), "booked_on": str(r[5]), "status": r[6],
             "bill_id": r[7]} for r in rows]


def resolve_suspense(engine, actor: Actor, receipt_id: int, e2e_id: str) -> dict:
    """A clerk applies money held in suspense (receipt ``receipt_id``) to the bill ``e2e_id``:
    the bill's outstanding lines are paid in scheme order, up to what is in suspense.

    Ledger (region of the suspense account, scheme P = ``suspense_scheme``): Dr suspense(P) by
    the amount used; Cr the receivables of each scheme S paid; the cash moves between the
    schemes' fund accounts (Cr fund_bank(P), Dr fund_bank(S) for S ≠ P): each entry balances
    within its region × scheme. Idempotent: the same request on the same state posts once."""
    from shebao.ledger import service as ledger
    from shebao.ledger.model import Batch, BatchEntry, Line, account_code

    with engine.begin() as conn:
        rc = conn.execute(select(receipt).where(receipt.c.id == receipt_id)).mappings().first()
        if rc is None or rc["excess_fen"] <= 0:
            raise InputError(f"receipt {receipt_id} has nothing in suspense", field="receipt_id")
        b = conn.execute(select(bill).where(bill.c.e2e_id == e2e_id)).mappings().first()
        if b is None:
            raise InputError(f"no bill with end-to-end id {e2e_id}", field="e2e_id")
        if b["region"] != rc["region"]:
            raise InputError(f"bill {e2e_id} is of region {b['region']}, the money is in the "
                             f"suspense of {rc['region']}", field="e2e_id")
        lines = conn.execute(text(
            "SELECT scheme, amount_fen - paid_fen FROM bill_line WHERE bill_id = :b"),
            {"b": b["id"]}).all()
        lines = sorted(lines, key=lambda x: PRIORITY.get(x[0], 99))
        cap = np.maximum(np.array([x[1] for x in lines], dtype=np.int64), 0)
        alloc, _ = model.allocate(np.zeros(len(cap), np.int64), [int(rc["excess_fen"])], cap)
        used = int(alloc.sum())
        if used == 0:
            raise InputError(f"bill {e2e_id} has nothing outstanding", field="e2e_id")
        mon = b["month"] if isinstance(b["month"], dt.date) else dt.date.fromisoformat(
            str(b["month"]))
        day = rc["booked_on"] if isinstance(rc["booked_on"], dt.date) else \
            dt.date.fromisoformat(str(rc["booked_on"]))
        region = rc["region"]
        p_scheme = load_rules().value("collection.collection_account", region, day)[
            "suspense_scheme"]
        recv = "receivable_employer" if b["payer_type"] == "E" else "receivable_individual"
        by_scheme = {lines[i][0]: int(a) for i, a in enumerate(alloc.tolist()) if a}
        entries = []
        p_lines = [Line(account_code(region, p_scheme, "suspense"), used)]
        if by_scheme.get(p_scheme):
            p_lines.append(Line(account_code(region, p_scheme, recv), -by_scheme[p_scheme]))
        rest = used - by_scheme.get(p_scheme, 0)
        if rest:
            p_lines.append(Line(account_code(region, p_scheme, "fund_bank"), -rest))
        entries.append(BatchEntry(region, p_scheme, mon, tuple(p_lines),
                                  source="collection.bank", memo=f"suspense {receipt_id} → "
                                  f"{e2e_id}"))
        for s, a in by_scheme.items():
            if s == p_scheme:
                continue
            entries.append(BatchEntry(region, s, mon, (
                Line(account_code(region, s, "fund_bank"), a),
                Line(account_code(region, s, recv), -a)), source="collection.bank",
                memo=f"suspense {receipt_id} → {e2e_id}"))
        key = f"collect.resolve:{receipt_id}:{b['id']}:{int(rc['excess_fen'])}"
        ledger.post_batch(conn, actor, key, Batch(entries))
        for s, a in by_scheme.items():
            conn.execute(text(
                "INSERT INTO receipt_alloc (receipt_id, bill_id, region, month, payer_type, "
                "scheme, amount_fen) VALUES (:r, :b, :g, :m, :t, :s, :a)"),
                {"r": receipt_id, "b": b["id"], "g": region, "m": mon, "t": b["payer_type"],
                 "s": s, "a": a})
            conn.execute(text("UPDATE bill_line SET paid_fen = paid_fen + :a "
                              "WHERE bill_id = :b AND scheme = :s"),
                         {"a": a, "b": b["id"], "s": s})
        paid = b["paid_fen"] + used
        conn.execute(update(bill).where(bill.c.id == b["id"]).values(
            paid_fen=paid, status="paid" if paid >= b["total_fen"] else "partial",
            last_paid_on=day, updated_at=now()))
        conn.execute(update(receipt).where(receipt.c.id == receipt_id).values(
            excess_fen=rc["excess_fen"] - used, applied_fen=rc["applied_fen"] + used,
            bill_id=rc["bill_id"] or b["id"],
            status="paid" if rc["excess_fen"] - used == 0 and rc["bill_id"] is None
            else rc["status"]))
        audit.record(conn, actor, "collection.resolve_suspense", "receipt", receipt_id,
                     detail={"bill": e2e_id, "used_fen": used, "by_scheme": by_scheme})
    return {"receipt_id": receipt_id, "bill": e2e_id, "applied": fen_to_yuan_str(used),
            "left_in_suspense": fen_to_yuan_str(int(rc["excess_fen"]) - used),
            "by_scheme": {s: fen_to_yuan_str(a) for s, a in by_scheme.items()}}
