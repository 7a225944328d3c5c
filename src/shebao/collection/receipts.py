"""Applying a bank file's new receipts, in the import's transaction: each receipt is matched to
its bill by end-to-end id, allocated to the bill's lines in scheme order
(``model.allocate_receipts``), written with its allocations and what the bills were paid, and
posted to the ledger (per bill region × scheme × month: Dr bank_transit / Cr receivable, then
bank_transit → fund_bank; what matches no bill or exceeds it: suspense)."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import InvariantError
from shebao.core.periods import month_str
from shebao.core.timing import OnPhase, phase
from shebao.db.bulk import (day_number, fetch_int_matrix, insert_columns, json_list,
                            json_rows_sql, new_ids)
from shebao.db.uow import now
from shebao.rules.loader import load_rules

from . import model


def _temp(conn, name: str, cols: str) -> None:
    """A scratch table for one set-based update (dropped by the caller)."""
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({cols})"))


def _scheme_case(column: str) -> str:
    return (f"CASE {column} " + " ".join(f"WHEN '{s}' THEN {i}"
                                         for i, s in enumerate(model.COLLECTED_SCHEMES))
            + " ELSE -1 END")


# receipt (its position in the file) → its bill → the bill's lines: one row per receipt × line
# (line 0 and scheme 0 when the bill has no line yet)
_MATCH_SQL = """
SELECT v.ord - 1, b.id, COALESCE(l.id, 0),
       CASE WHEN l.id IS NULL THEN 0 ELSE {scheme} END, COALESCE(l.amount_fen - l.paid_fen, 0)
FROM {rows} JOIN bill b ON b.e2e_id = v.value LEFT JOIN bill_line l ON l.bill_id = b.id
WHERE v.value <> ''"""


def _match_bills(conn, e2e: list[str]):
    """Each receipt's bill (0: none), and the lines of those bills: a matrix (line id, bill id,
    scheme index in the returned names, still open) sorted by bill, then scheme priority
    (``model.COLLECTED_SCHEMES``; a scheme outside it after them, in name order)."""
    m = fetch_int_matrix(conn, _MATCH_SQL.format(scheme=_scheme_case("l.scheme"),
                                                 rows=json_rows_sql(conn)),
                         {"vals": json_list(e2e)}, 5)
    bill_id = np.zeros(len(e2e), np.int64)
    bill_id[m[:, 0]] = m[:, 1]
    lines = m[m[:, 2] > 0][:, [2, 1, 3, 4]]
    lines = lines[np.unique(lines[:, 0], return_index=True)[1]]            # a line once
    names = list(model.COLLECTED_SCHEMES)
    odd = lines[:, 2] < 0
    if odd.any():
        other = dict(conn.execute(text(
            "SELECT id, scheme FROM bill_line WHERE id IN "
            f"(SELECT CAST(value AS BIGINT) FROM {json_rows_sql(conn)})"),
            {"vals": json_list(lines[odd, 0])}).all())
        names += sorted(set(other.values()))
        lines[odd, 2] = [names.index(other[i]) for i in lines[odd, 0].tolist()]
    if len(lines):
        lines = lines[np.lexsort((lines[:, 0], lines[:, 2], lines[:, 1]))]
    return bill_id, lines, names


def _bill_keys(e2e: list[str], matched: np.ndarray):
    """Region, month (int days) and payer type of the matched receipts' bills, read from
    their end-to-end ids (``model.e2e_id`` spells them; a bill's id is unique)."""
    n = len(e2e)
    region = np.full(n, "", dtype="U6")
    ptype = np.full(n, "", dtype="U1")
    month = np.zeros(n, np.int64)
    idx = np.flatnonzero(matched)
    if not len(idx):
        return region, month, ptype
    ids = np.array([e2e[i] for i in idx.tolist()], dtype=f"U{model.E2E_LEN}")
    ch = ids.view("U1").reshape(len(ids), model.E2E_LEN)
    if not (np.all(ch[:, 0] == "S") and np.all(np.char.isdigit(ch[:, 2:14]))
            and np.all(np.isin(ch[:, 14], list(model.PAYER_TYPES)))):
        raise InvariantError("a bill's end-to-end id does not spell its region, month and "
                             "payer (model.e2e_id)")
    digits = ch[:, 2:14].astype(np.int64)
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    mon = digits[:, 10] * 10 + digits[:, 11]
    region[idx] = np.ascontiguousarray(ch[:, 2:8]).view("U6").ravel()
    ptype[idx] = ch[:, 14]
    month[idx] = ((year - 1970) * 12 + mon - 1).astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)
    return region, month, ptype


def apply_receipts(conn, actor: Actor, iid: int, region: str, rc: model.Receipts,
           on_phase: OnPhase | None) -> dict:
    """Match the new receipts to bills, allocate them to the bills' lines, write receipts,
    allocations and what the bills were paid, and post the ledger batch."""
    with phase(on_phase, "apply"):
        n = len(rc)
        amount = np.asarray(rc.amount_fen, dtype=np.int64)
        day_of = {d: day_number(d) for d in set(rc.booked_on)}
        booked = np.array([day_of[d] for d in rc.booked_on], dtype=np.int64)
        bill_id, lines, names = _match_bills(conn, rc.e2e_id)
        matched = bill_id > 0
        b_region, b_month, b_ptype = _bill_keys(rc.e2e_id, matched)
        applied, (a_ri, a_li, a_amt) = model.allocate_receipts(bill_id, amount, lines[:, 1],
                                                               lines[:, 3])
        a_line, a_bill, a_scheme = lines[a_li, 0], lines[a_li, 1], lines[a_li, 2]
        excess = amount - applied
        status = np.where(~matched, "unmatched", np.where(excess > 0, "overpaid",
                          np.where(applied < amount, "partial", "paid")))
        _write(conn, iid, region, rc, amount, booked, bill_id, matched, applied, excess, status,
               b_region, b_month, b_ptype, a_ri, a_line, a_bill, a_amt, a_scheme, names)
        entries, groups = _ledger_entries(iid, region, rc, excess, b_region, b_month, b_ptype,
                                          a_ri, a_scheme, a_amt, names)
    key = None
    with phase(on_phase, "ledger"):
        if entries:
            from shebao.ledger import service as ledger
            from shebao.ledger.model import Batch

            for reg in {k[0] for k in groups}:
                ledger.open_chart(conn, actor, reg, model.COLLECTED_SCHEMES)
            if excess.any():
                acc = load_rules().value("collection.collection_account", region,
                                         max(rc.booked_on))
                ledger.open_chart(conn, actor, region, [acc["suspense_scheme"]])
            key = f"collect.bank:{iid}"
            ledger.post_batch(conn, actor, key, Batch(entries))
    # partial = bills still not fully paid after this import
    partial = 0
    if matched.any():
        partial = int(conn.execute(text(
            "SELECT COUNT(*) FROM bill b JOIN receipt r ON r.bill_id = b.id WHERE "
            "r.import_id = :i AND b.status = 'partial'"), {"i": iid}).scalar_one())
    return {"applied": int(applied.sum()), "suspense": int(excess.sum()), "key": key,
            "unmatched": int((~matched).sum()), "partial": partial,
            "overpaid": int(((excess > 0) & matched).sum())}


def _write(conn, iid, region, rc, amount, booked, bill_id, matched, applied, excess, status,
           b_region, b_month, b_ptype, a_ri, a_line, a_bill, a_amt, a_scheme, names) -> None:
    """Receipts, their allocations, and what the bills and their lines were paid."""
    n = len(rc)
    rid = new_ids(conn, "receipt", n)
    r_region = np.where(matched, b_region, region)
    insert_columns(conn, "receipt", [
        ("id", "i8"), ("import_id", "i8"), ("region", "T"), ("bank_ref", "T"), ("e2e_id", "T"),
        ("amount_fen", "i8"), ("booked_on", "date"), ("bill_id", "i8"), ("applied_fen", "i8"),
        ("excess_fen", "i8"), ("status", "T")], {
        "id": rid, "import_id": np.full(n, iid), "region": r_region.tolist(),
        "bank_ref": rc.bank_ref, "e2e_id": rc.e2e_id, "amount_fen": amount, "booked_on": booked,
        "bill_id": bill_id, "bill_id?": ~matched, "applied_fen": applied,
        "excess_fen": excess, "status": status.tolist()})
    if len(a_amt):
        insert_columns(conn, "receipt_alloc", [
            ("receipt_id", "i8"), ("bill_id", "i8"), ("region", "T"), ("month", "date"),
            ("payer_type", "T"), ("scheme", "T"), ("amount_fen", "i8")], {
            "receipt_id": rid[a_ri], "bill_id": a_bill, "region": b_region[a_ri].tolist(),
            "month": b_month[a_ri], "payer_type": b_ptype[a_ri].tolist(),
            "scheme": np.array(names, dtype=object)[a_scheme].tolist(), "amount_fen": a_amt})
        # what each line received (a line appears once per receipt paying it)
        ul, inv = np.unique(a_line, return_inverse=True)
        _temp(conn, "tmp_coll_alloc", "line_id BIGINT PRIMARY KEY, amount BIGINT NOT NULL")
        insert_columns(conn, "tmp_coll_alloc", [("line_id", "i8"), ("amount", "i8")],
                       {"line_id": ul, "amount": model.sum_by(inv.reshape(-1), a_amt, len(ul))})
        conn.execute(text(
            "UPDATE bill_line SET paid_fen = bill_line.paid_fen + t.amount FROM tmp_coll_alloc t "
            "WHERE bill_line.id = t.line_id"))
        conn.execute(text("DROP TABLE tmp_coll_alloc"))
    if matched.any():
        mb = bill_id[matched]
        ubill, inv = np.unique(mb, return_inverse=True)
        inv = inv.reshape(-1)
        paid = model.sum_by(inv, applied[matched], len(ubill))
        exc = model.sum_by(inv, excess[matched], len(ubill))
        last = np.zeros(len(ubill), np.int64)
        np.maximum.at(last, inv, booked[matched])
        _temp(conn, "tmp_coll_paid", "bill_id BIGINT, paid BIGINT, excess BIGINT, last DATE")
        insert_columns(conn, "tmp_coll_paid", [("bill_id", "i8"), ("paid", "i8"),
                                               ("excess", "i8"), ("last", "date")],
                       {"bill_id": ubill, "paid": paid, "excess": exc, "last": last})
        conn.execute(text(
            "UPDATE bill SET paid_fen = bill.paid_fen + t.paid, last_paid_on = t.last, "
            "updated_at = :t, status = CASE WHEN bill.paid_fen + t.paid = 0 THEN 'open' "
            "WHEN bill.paid_fen + t.paid < bill.total_fen THEN 'partial' "
            "WHEN t.excess > 0 OR bill.status = 'overpaid' THEN 'overpaid' ELSE 'paid' END "
            "FROM tmp_coll_paid t WHERE bill.id = t.bill_id"), {"t": now()})
        conn.execute(text("DROP TABLE tmp_coll_paid"))


def _ledger_entries(iid, region, rc, excess, b_region, b_month, b_ptype, a_ri, a_scheme, a_amt,
                    names):
    """The import's ledger entries: per bill region × scheme × month, Dr bank_transit / Cr
    the receivables (employer or individual), then bank_transit → fund_bank; what went to
    suspense, in the collection account's scheme of ``region``."""
    from shebao.ledger.model import BatchEntry, Line, account_code

    groups: dict[tuple, dict] = {}
    if len(a_amt):
        regs, reg_i = np.unique(b_region[a_ri], return_inverse=True)
        side = (b_ptype[a_ri] != "E").astype(np.int64)                # 0 employer, 1 individual
        keys = np.column_stack([reg_i.reshape(-1), a_scheme, b_month[a_ri], side])
        uk, inv = np.unique(keys, axis=0, return_inverse=True)
        sums = model.sum_by(inv.reshape(-1), a_amt, len(uk))
        for (ri, si, mday, sd), v in zip(uk.tolist(), sums.tolist()):
            mon = dt.date(1970, 1, 1) + dt.timedelta(days=int(mday))
            groups.setdefault((str(regs[ri]), names[si], mon), {"E": 0, "I": 0})[
                "EI"[sd]] += int(v)
    entries = []
    for (reg, scheme, mon), g in sorted(groups.items()):
        tot = g["E"] + g["I"]
        lines = [Line(account_code(reg, scheme, "bank_transit"), tot)]
        if g["E"]:
            lines.append(Line(account_code(reg, scheme, "receivable_employer"), -g["E"]))
        if g["I"]:
            lines.append(Line(account_code(reg, scheme, "receivable_individual"), -g["I"]))
        memo = f"bank receipts import {iid}: {month_str(mon)}"
        entries.append(BatchEntry(reg, scheme, mon, tuple(lines), source="collection.bank",
                                  memo=memo))
        entries.append(BatchEntry(reg, scheme, mon, (
            Line(account_code(reg, scheme, "fund_bank"), tot),
            Line(account_code(reg, scheme, "bank_transit"), -tot)),
            source="collection.transfer", memo=memo + " → fund special account"))
    susp = int(excess.sum())
    if susp:
        day = max(rc.booked_on)
        s_scheme = load_rules().value("collection.collection_account", region,
                                      day)["suspense_scheme"]
        entries.append(BatchEntry(region, s_scheme, day, (
            Line(account_code(region, s_scheme, "bank_transit"), susp),
            Line(account_code(region, s_scheme, "suspense"), -susp)),
            source="collection.suspense", memo=f"bank receipts import {iid}: unmatched/excess"))
        entries.append(BatchEntry(region, s_scheme, day, (
            Line(account_code(region, s_scheme, "fund_bank"), susp),
            Line(account_code(region, s_scheme, "bank_transit"), -susp)),
            source="collection.transfer", memo=f"bank receipts import {iid}: suspense → fund"))
    return entries, groups
