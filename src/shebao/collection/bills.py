"""Bills: one per payer × region × month, built from the assessment; reading and exporting one.

``bind`` is an Engine (own transaction) or a Connection (joins the caller's). Money is integer
fen.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select, text

from shebao.core import csvsafe
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.db import dialect
from shebao.db.bulk import fetch_int_matrix, insert_columns, new_ids
from shebao.db.uow import now, transaction
from shebao.registry import queries as registry
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .latefee import bill_late_fee
from .tables import bill, bill_line

# per payer: the employer's and the employee's side of each scheme, summed in SQL (one sum per
# side: the bill lines split employer and employee shares, nothing finer)
_BILL_SIDES = [(sch, side, [c for c in model.AMOUNT_COLUMNS if c.startswith(f"{sch}_{side}_")])
               for sch in model.COLLECTED_SCHEMES for side in ("er", "ee")]
_BILL_SIDES = [x for x in _BILL_SIDES if x[2]]
_BILL_AGG = ("SELECT CASE payer_type WHEN 'E' THEN 0 WHEN 'F' THEN 1 ELSE 2 END, payer_id, "
             + ", ".join(f"SUM({' + '.join(cols)})" for _, _, cols in _BILL_SIDES)
             + " FROM contribution WHERE region = :r AND month = :m "
               "GROUP BY payer_type, payer_id")
_BILL_OLD = ("SELECT CASE payer_type WHEN 'E' THEN 0 WHEN 'F' THEN 1 ELSE 2 END, payer_id, id, "
             "total_fen FROM bill WHERE region = :r AND month = :m")


@dataclass
class BillsResult:
    region: str
    month: dt.date
    bills: int
    new: int
    changed: int
    total_fen: int

    def as_dict(self) -> dict:
        return {"region": self.region, "month": month_str(self.month), "bills": self.bills,
                "new": self.new, "changed": self.changed, "total": fen_to_yuan_str(self.total_fen)}


def make_bills(bind, actor: Actor, region: str, month: dt.date) -> BillsResult:
    """(Re)build the bills of a region × month from the assessment, set-based and idempotent:
    one bill per payer, lines per scheme (employer/employee split); what was paid is kept."""
    month = month.replace(day=1)
    due_day = int(load_rules().value("collection.payment_due_day", region, month))
    due = model.due_date(month, due_day)
    p = {"r": region, "m": month}
    with transaction(bind) as conn:
        with dialect.for_single_pass_aggregate(conn):
            agg = fetch_int_matrix(conn, _BILL_AGG, p, 2 + len(_BILL_SIDES))
        agg = agg[np.lexsort((agg[:, 1], agg[:, 0]))]        # payer type, payer
        ptype, payer, sides = agg[:, 0], agg[:, 1], agg[:, 2:]
        zero = np.zeros(len(agg), np.int64)
        er = {s: zero for s in model.COLLECTED_SCHEMES}
        ee = dict(er)
        for j, (sch, side, _) in enumerate(_BILL_SIDES):
            (er if side == "er" else ee)[sch] = sides[:, j]
        totals = sides.sum(axis=1)
        old = fetch_int_matrix(conn, _BILL_OLD, p, 4)
        pos = model.match_rows(np.column_stack([ptype, payer]), old[:, 0:2])
        is_new = pos < 0
        changed = (~is_new) & (old[np.maximum(pos, 0), 3] != totals) if len(old) else is_new & False
        t = now()
        bid = np.where(is_new, 0, old[np.maximum(pos, 0), 2] if len(old) else 0)
        if is_new.any():
            bid[is_new] = new_ids(conn, "bill", int(is_new.sum()))
            codes = model_payer_codes(ptype[is_new])
            e2e = np.char.add(np.char.add(f"SB{region}{month.year:04d}{month.month:02d}", codes),
                              np.char.zfill(payer[is_new].astype(str), 10))
            insert_columns(conn, "bill", [
                ("id", "i8"), ("region", "S"), ("month", "date"), ("payer_type", "S"),
                ("payer_id", "i8"), ("e2e_id", "S"), ("total_fen", "i8"), ("paid_fen", "i8"),
                ("status", "S"), ("due_date", "date"), ("created_at", "ts"),
                ("updated_at", "ts")], {
                "id": bid[is_new], "region": region, "month": month, "payer_type": codes,
                "payer_id": payer[is_new], "e2e_id": e2e, "total_fen": totals[is_new],
                "paid_fen": 0, "status": "open", "due_date": due, "created_at": t,
                "updated_at": t})
        if changed.any():
            _temp_bills(conn, bid[changed], totals[changed])
            conn.execute(text("DELETE FROM bill_line WHERE bill_id IN "
                              "(SELECT id FROM tmp_coll_bill)"))
            conn.execute(text("UPDATE bill SET total_fen = t.total, updated_at = :t "
                              "FROM tmp_coll_bill t WHERE bill.id = t.id"), {"t": t})
        redo = is_new | changed
        for s in model.COLLECTED_SCHEMES:
            m_ = redo & ((er[s] != 0) | (ee[s] != 0))
            if m_.any():
                _line_insert(conn, bid[m_], s, er[s][m_], ee[s][m_])
        if changed.any():
            _refresh_paid(conn)
            conn.execute(text("DROP TABLE tmp_coll_bill"))
        total = int(totals.sum())
        audit.record(conn, actor, "collection.bills", "region", region,
                     detail={"month": month_str(month), "bills": int(len(totals)),
                             "new": int(is_new.sum()), "changed": int(changed.sum()),
                             "total_fen": total})
        return BillsResult(region, month, int(len(totals)), int(is_new.sum()),
                           int(changed.sum()), total)


def model_payer_codes(ptype: np.ndarray) -> np.ndarray:
    return np.array(["E", "F", "R"])[ptype]


def _line_insert(conn, bill_ids, scheme, er, ee):
    insert_columns(conn, "bill_line", [
        ("bill_id", "i8"), ("scheme", "S"), ("employer_fen", "i8"), ("employee_fen", "i8"),
        ("amount_fen", "i8"), ("paid_fen", "i8")], {
        "bill_id": bill_ids, "scheme": scheme, "employer_fen": er, "employee_fen": ee,
        "amount_fen": er + ee, "paid_fen": 0})


def _temp_bills(conn, bill_ids, totals) -> None:
    """The bills whose total changed, with their new totals, in a scratch table."""
    conn.execute(text("DROP TABLE IF EXISTS tmp_coll_bill"))
    conn.execute(text("CREATE TEMPORARY TABLE tmp_coll_bill (id BIGINT PRIMARY KEY, "
                      "total BIGINT NOT NULL)"))
    insert_columns(conn, "tmp_coll_bill", [("id", "i8"), ("total", "i8")],
                   {"id": bill_ids, "total": totals})


def _refresh_paid(conn) -> None:
    """Re-derive paid amounts of the bills in ``tmp_coll_bill`` and their lines from the
    receipts (the source of truth)."""
    conn.execute(text("""UPDATE bill_line SET paid_fen = COALESCE((SELECT SUM(a.amount_fen)
        FROM receipt_alloc a WHERE a.bill_id = bill_line.bill_id AND a.scheme = bill_line.scheme),
        0) WHERE bill_id IN (SELECT id FROM tmp_coll_bill)"""))
    conn.execute(text("""UPDATE bill SET paid_fen = COALESCE((SELECT SUM(a.amount_fen)
        FROM receipt_alloc a WHERE a.bill_id = bill.id), 0)
        WHERE id IN (SELECT id FROM tmp_coll_bill)"""))
    conn.execute(text("""UPDATE bill SET status = CASE
        WHEN paid_fen = 0 THEN 'open' WHEN paid_fen < total_fen THEN 'partial'
        WHEN EXISTS (SELECT 1 FROM receipt r WHERE r.bill_id = bill.id AND r.excess_fen > 0)
        THEN 'overpaid' ELSE 'paid' END WHERE id IN (SELECT id FROM tmp_coll_bill)"""))


def get_bill(bind, actor: Actor, *, bill_id: int | None = None, e2e_id: str | None = None,
             with_persons: bool = True, as_of: dt.date | None = None) -> dict:
    """A payer's bill: header, lines per scheme, the persons with their base and why, and the
    late fee (employers): accrued to ``as_of`` (default today), charged, not yet charged."""
    with transaction(bind) as conn:
        q = select(bill)
        q = q.where(bill.c.id == bill_id) if bill_id is not None else q.where(
            bill.c.e2e_id == e2e_id)
        b = conn.execute(q).mappings().first()
        if b is None:
            raise InputError(f"no bill {bill_id or e2e_id}", field="bill")
        if actor.role == "employer" and not (b["payer_type"] == "E"
                                             and b["payer_id"] == actor.employer_id):
            raise PermissionDenied("an employer may see only its own bills")
        if actor.role == "citizen" and not (b["payer_type"] != "E"
                                            and b["payer_id"] == actor.person_id):
            raise PermissionDenied("a citizen may see only their own bills")
        lines = conn.execute(select(bill_line).where(bill_line.c.bill_id == b["id"])
                             .order_by(bill_line.c.id)).mappings().all()
        order = {s: i for i, s in enumerate(model.COLLECTED_SCHEMES)}
        lines = sorted(lines, key=lambda r: order.get(r["scheme"], 99))
        persons = []
        if with_persons:
            rows = conn.execute(text(
                "SELECT c.person_id, c.wage_fen, c.base_fen, c.clamp, "
                "c.basis FROM contribution c "
                "WHERE c.id IN (SELECT MAX(id) FROM contribution WHERE region = :r AND "
                "month = :m AND payer_type = :t AND payer_id = :p GROUP BY person_id) "
                "ORDER BY c.person_id"),
                {"r": b["region"], "m": b["month"], "t": b["payer_type"],
                 "p": b["payer_id"]}).all()
            latest = dict(conn.execute(text(
                "SELECT person_id, SUM(total_fen) FROM contribution WHERE region = :r AND "
                "month = :m AND payer_type = :t AND payer_id = :p GROUP BY person_id"),
                {"r": b["region"], "m": b["month"], "t": b["payer_type"],
                 "p": b["payer_id"]}).all())
            who = registry.identities(conn, [r[0] for r in rows])
            for pid, wage, base, clamp, basis in rows:
                cid, name = who[pid]["citizen_id"], who[pid]["name"]
                persons.append({"person_id": pid, "citizen_id": mask_id(cid), "name": name,
                                "wage": fen_to_yuan_str(wage), "base": fen_to_yuan_str(base),
                                "why": f"{model.BASIS[basis]}; {model.CLAMP[clamp]}",
                                "amount": fen_to_yuan_str(latest.get(pid, 0))})
        late = bill_late_fee(conn, b["id"], b["region"], as_of or dt.date.today())
        audit.record(conn, actor, "collection.bill.read", "bill", b["id"],
                     purpose="view bill", detail={"persons": len(persons)})
        return {
            "bill_id": b["id"], "e2e_id": b["e2e_id"], "region": b["region"],
            "month": month_str(b["month"]) if isinstance(b["month"], dt.date) else str(b["month"])[:7],
            "payer_type": model.PAYER_TYPES[b["payer_type"]], "payer_id": b["payer_id"],
            "total": fen_to_yuan_str(b["total_fen"]), "paid": fen_to_yuan_str(b["paid_fen"]),
            "outstanding": fen_to_yuan_str(max(b["total_fen"] - b["paid_fen"], 0)),
            "status": b["status"], "due_date": str(b["due_date"]),
            "lines": [{"scheme": r["scheme"], "employer": fen_to_yuan_str(r["employer_fen"]),
                       "employee": fen_to_yuan_str(r["employee_fen"]),
                       "amount": fen_to_yuan_str(r["amount_fen"]),
                       "paid": fen_to_yuan_str(r["paid_fen"])} for r in lines],
            "persons": persons, "late_fee": late}


def export_bill(bind, actor: Actor, path, *, bill_id: int | None = None,
                e2e_id: str | None = None, as_of: dt.date | None = None) -> Path:
    """Write a bill to ``path``: ``.json`` (everything) or ``.csv`` (lines, late fee, charges,
    then persons)."""
    b = get_bill(bind, actor, bill_id=bill_id, e2e_id=e2e_id, as_of=as_of)
    path = Path(path)
    if path.suffix == ".json":
        path.write_text(json.dumps(b, ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csvsafe.writer(fh)
        w.writerow(["bill", b["e2e_id"], b["region"], b["month"], b["payer_type"],
                    b["payer_id"], "total", b["total"], "paid", b["paid"], "due", b["due_date"]])
        w.writerow(["scheme", "employer", "employee", "amount", "paid"])
        for ln in b["lines"]:
            w.writerow([ln["scheme"], ln["employer"], ln["employee"], ln["amount"], ln["paid"]])
        lf = b["late_fee"]
        w.writerow([])
        w.writerow(["late_fee", "as_of", lf["as_of"], "daily_rate", lf["daily_rate"], "accrued",
                    lf["accrued"], "charged", lf["charged"], "not_yet_charged",
                    lf["not_yet_charged"]])
        w.writerow(["charge_from", "charge_to", "days", "base", "rate", "fee", "source"])
        for c in lf["charges"]:
            w.writerow([c["from"], c["to"], c["days"], c["base"], c["rate"], c["fee"],
                        c["source"]])
        w.writerow([])
        w.writerow(["person_id", "citizen_id", "name", "wage", "base", "why", "amount"])
        for p in b["persons"]:
            w.writerow([p["person_id"], p["citizen_id"], p["name"], p["wage"], p["base"],
                        p["why"], p["amount"]])
    return path
