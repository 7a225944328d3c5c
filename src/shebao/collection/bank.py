"""Collection through commissioned banks: direct-debit files out, receipts in, ledger postings.

``export_bank``   every bill of a region × month with something outstanding becomes one
                  direct-debit instruction (pain.008.001.08, XSD-validated before it is
                  written, or the documented CSV); bills whose payer has no bank account are
                  counted as skipped (paid at the counter).
``import_bank``   a camt.053.001.08 statement or a CSV receipt file (format detected from the
                  content). The whole file is checked first; a malformed file, a file with the
                  same bank reference twice, or a receipt that conflicts with one already
                  posted (same reference, other content) is refused with file, row and field,
                  and a copy is kept for review with the reason beside it; nothing is posted.
                  Otherwise, in ONE transaction: receipts already known (same reference and
                  content — an overlapping or repeated file) are skipped; new ones are matched
                  to bills by end-to-end id and applied to the bill's lines in scheme order
                  (partial payments fill pension first, then medical, …); what exceeds the bill
                  (over-payment) or matches no bill goes to suspense for a clerk. Ledger, per
                  bill region × scheme × month: Dr bank_transit / Cr receivable_employer or
                  receivable_individual, then the transfer Dr fund_bank / Cr bank_transit;
                  suspense: Dr bank_transit / Cr suspense (then to fund_bank). An employer's
                  bill settled after its due date is charged the late fee accrued to the
                  booking day (``latefee.charge_settled_late``, same transaction).
``simulate_bank`` the bank's side for the demo and the benchmark: a statement answering an
                  export (most bills paid, some partly, some over, some not, one stranger).

Matching and allocation are the pure ``model.allocate_receipts``; the clerk's suspense queue is
``suspense``. Two imports of the same file at once: the second is refused at once
(``AlreadyRunning``); imports and late-fee runs touching the same regions take turns.

The pooled fund and the individual accounts were credited when the month was assessed (the
receivable side); collection settles the receivables. See ``reconcile`` for the checks.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import text, update

from shebao.core.actor import Actor
from shebao.core.errors import AlreadyRunning, InputError, InvariantError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.core.timing import FaultPoint, OnPhase, phase, reach
from shebao.db import dialect
from shebao.db.bulk import (day_number, fetch_int_matrix, fetch_tuples, insert_columns,
                            json_list, json_rows_sql, new_ids)
from shebao.db.uow import now
from shebao.formats import camt053, pain008, receipts_csv
from shebao.registry import queries as registry
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .latefee import LOCK as LATE_FEE_LOCK
from .latefee import charge_settled_late
from .tables import bank_export, bank_import

PRIORITY = {s: i for i, s in enumerate(model.COLLECTED_SCHEMES)}


def _default_dir(sub: str) -> Path:
    return Path(os.environ.get("SHEBAO_VAR", "var")) / "collection" / sub


def _creditor(region: str, on: dt.date):
    acc = load_rules().value("collection.collection_account", region, on)
    return pain008.Creditor(acc["creditor_name"], acc["account"], acc["agent"]), acc


# --------------------------------------------------------------------------- export

@dataclass
class ExportResult:
    export_id: int
    path: Path
    format: str
    transactions: int
    total_fen: int
    skipped: int

    def as_dict(self):
        return {"export_id": self.export_id, "file": str(self.path), "format": self.format,
                "transactions": self.transactions, "total": fen_to_yuan_str(self.total_fen),
                "skipped_no_account": self.skipped}


_OUTSTANDING = """
SELECT e2e_id, payer_type, payer_id, total_fen - paid_fen, due_date FROM bill
WHERE region = :r AND month = :m AND total_fen > paid_fen ORDER BY id"""


def export_bank(engine, actor: Actor, region: str, month: dt.date, *, out_dir=None,
                fmt: str = "pain008", collection_date: dt.date | None = None) -> ExportResult:
    """One direct-debit instruction per bill of ``region`` × ``month`` with something
    outstanding, to the payer's bank account (from the registry)."""
    if fmt not in ("pain008", "csv"):
        raise InputError("format must be pain008 or csv", field="format", value=fmt)
    month = month.replace(day=1)
    out_dir = Path(out_dir or _default_dir("out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        bills = fetch_tuples(conn, _OUTSTANDING, {"r": region, "m": month})
        accounts = registry.payer_bank_accounts(
            conn, [b[2] for b in bills if b[1] == "E"], [b[2] for b in bills if b[1] != "E"])
        nobody = (None, None, None)
        rows = [(b[0], *accounts.get(("E" if b[1] == "E" else "P", b[2]), nobody), b[3], b[4])
                for b in bills]
        sel = [r for r in rows if r[3]]
        skipped = len(rows) - len(sel)
        if collection_date is not None:
            when = collection_date
        elif rows:
            when = rows[0][5]
        else:
            due_day = int(load_rules().value("collection.payment_due_day", region, month))
            when = model.due_date(month, due_day)
        if isinstance(when, str):
            when = dt.date.fromisoformat(when)
        creditor, _ = _creditor(region, month)
        n = conn.execute(text("SELECT COUNT(*) FROM bank_export")).scalar_one() + 1
        msg_id = f"SBDD{region}{month.year:04d}{month.month:02d}N{n}"
        cols = list(zip(*sel)) if sel else [[]] * 6
        if fmt == "pain008":
            if not sel:
                raise InputError(f"nothing to collect for {region} {month_str(month)}",
                                 field="month")
            data = pain008.build(msg_id, creditor, when, cols[0], cols[1], cols[2], cols[3],
                                 cols[4])
            path = out_dir / f"{msg_id}.pain008.xml"
        else:
            data = pain008.build_csv(creditor, when, cols[0], cols[1], cols[2], cols[3],
                                     cols[4])
            path = out_dir / f"{msg_id}.dd.csv"
        total = int(sum(int(a) for a in cols[4])) if sel else 0
        path.write_bytes(data)
        eid = conn.execute(bank_export.insert().values(
            region=region, month=month, format=fmt, file_name=str(path),
            file_sha256=hashlib.sha256(data).hexdigest(), msg_id=msg_id, n_tx=len(sel),
            total_fen=total, skipped=skipped, actor=actor.id, at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "collection.export_bank", "bank_export", eid,
                     detail={"region": region, "month": month_str(month), "format": fmt,
                             "transactions": len(sel), "total_fen": total, "skipped": skipped})
    return ExportResult(eid, path, fmt, len(sel), total, skipped)


# --------------------------------------------------------------------------- import

@dataclass
class ImportResult:
    import_id: int
    file: str
    format: str
    rows: int
    new: int
    duplicates: int
    applied_fen: int
    suspense_fen: int
    unmatched: int
    partial: int
    overpaid: int
    late_fee_fen: int = 0          # late fees charged on bills this file settled late

    def as_dict(self):
        return {"import_id": self.import_id, "file": self.file, "format": self.format,
                "receipts": self.rows, "new": self.new, "already_posted": self.duplicates,
                "applied": fen_to_yuan_str(self.applied_fen),
                "suspense": fen_to_yuan_str(self.suspense_fen), "unmatched": self.unmatched,
                "partial": self.partial, "overpaid": self.overpaid,
                "late_fees_charged": fen_to_yuan_str(self.late_fee_fen)}


def _temp(conn, name: str, cols: str) -> None:
    """A scratch table for one set-based update (dropped by the caller)."""
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({cols})"))


def _detect(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    return "camt053" if head.startswith(b"<") else "csv"


def _read(data: bytes, fmt: str, file: str) -> model.Receipts:
    """The file's credits as collection's receipts (the format's own records mapped here)."""
    if fmt == "camt053":
        c = camt053.read_columns(data, file)
        return model.Receipts(c.row, c.bank_ref, c.e2e_id, c.amount_fen, c.booked_on)
    recs = receipts_csv.read(data, file)
    return model.Receipts(*(list(col) for col in zip(*[
        (r.row, r.bank_ref, r.e2e_id, r.amount_fen, r.booked_on) for r in recs]))) \
        if recs else model.Receipts()


def _reject(engine, actor, path: Path, data: bytes, fmt: str, region: str, exc: Exception,
            kept_dir) -> None:
    kept_dir = Path(kept_dir or _default_dir("rejected"))
    kept_dir.mkdir(parents=True, exist_ok=True)
    stamp = now().strftime("%Y%m%dT%H%M%S%f")
    kept = kept_dir / f"{stamp}_{path.name}"
    kept.write_bytes(data)
    kept.with_name(kept.name + ".reason.txt").write_text(str(exc) + "\n", encoding="utf-8")
    with engine.begin() as conn:
        iid = conn.execute(bank_import.insert().values(
            file_name=str(path), file_sha256=hashlib.sha256(data).hexdigest(), format=fmt,
            region=region, status="rejected", rows=0, new_receipts=0, duplicates=0,
            applied_fen=0, suspense_fen=0, error=str(exc), kept_path=str(kept), actor=actor.id,
            at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "collection.import_bank.rejected", "bank_import", iid,
                     detail={"file": path.name, "reason": str(exc), "kept": str(kept)})


def _regions_named(rc: model.Receipts) -> list[str]:
    """The regions the receipts' end-to-end ids name (where they have a bill's shape)."""
    return [e[2:8] for e in rc.e2e_id if len(e) == model.E2E_LEN and e.startswith("SB")
            and e[2:8].isdigit()]


def import_bank(engine, actor: Actor, path, *, region: str | None = None, kept_dir=None,
                on_phase: OnPhase | None = None,
                fault_point: FaultPoint | None = None) -> ImportResult:
    """Read, check, match, apply and post a bank receipt file (see the module docstring).

    ``region`` is the region whose suspense account takes money that matches no bill; by
    default the region named by most of the file's end-to-end ids. Phases told to
    ``on_phase``: read, check, apply, ledger, late_fee; ``fault_point("applied")`` is reached
    inside the transaction, before it commits."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    fmt = _detect(data)
    sha = hashlib.sha256(data).hexdigest()
    try:
        with phase(on_phase, "read"):
            rc = _read(data, fmt, str(path))
        _check_unique(rc, str(path))
        named = _regions_named(rc)
        if region is None:
            if not named:
                raise InputError("no receipt names a bill: give the region whose suspense "
                                 "account takes the money", file=str(path), field="region")
            region = max(set(named), key=named.count)
    except InputError as exc:
        _reject(engine, actor, path, data, fmt, region or "", exc, kept_dir)
        raise
    rows = len(rc)
    refused = None
    with engine.begin() as conn:
        if not dialect.try_advisory_lock(conn, f"collection.bank_import:{sha}"):
            raise AlreadyRunning(f"{path.name} is already being imported by another process: "
                                 "let it finish (importing the file again afterwards posts "
                                 "nothing twice)")
        # imports and late-fee runs of the same regions take turns (a late fee charged twice
        # otherwise); in one order, so two imports never wait for each other in a circle
        for reg in sorted(set(named) | {region}):
            dialect.advisory_lock(conn, LATE_FEE_LOCK.format(region=reg))
        with phase(on_phase, "check"):
            try:        # after the locks: what another import posted meanwhile is known here
                known = _known(conn, rc, str(path))
            except InputError as exc:
                refused = exc
        if refused is None:
            new = rc.take(i for i, ref in enumerate(rc.bank_ref) if ref not in known) \
                if known else rc
            iid = conn.execute(bank_import.insert().values(
                file_name=str(path), file_sha256=sha, format=fmt,
                region=region, status="posted", rows=rows, new_receipts=len(new),
                duplicates=rows - len(new), applied_fen=0, suspense_fen=0, actor=actor.id,
                at=now())).inserted_primary_key[0]
            res = _apply(conn, actor, iid, region, new, on_phase) if len(new) else None
            # a bill settled after its due date: charge the employer's late fee (latefee.py)
            with phase(on_phase, "late_fee"):
                late_fee = charge_settled_late(conn, actor, iid) if len(new) else 0
            applied = res["applied"] if res else 0
            suspense = res["suspense"] if res else 0
            conn.execute(update(bank_import).where(bank_import.c.id == iid).values(
                applied_fen=applied, suspense_fen=suspense,
                ledger_key=res["key"] if res else None))
            audit.record(conn, actor, "collection.import_bank", "bank_import", iid,
                         detail={"file": path.name, "format": fmt, "receipts": rows,
                                 "new": len(new), "applied_fen": applied,
                                 "suspense_fen": suspense, "late_fee_fen": late_fee})
            reach(fault_point, "applied")
    if refused is not None:
        _reject(engine, actor, path, data, fmt, region, refused, kept_dir)
        raise refused
    return ImportResult(iid, str(path), fmt, rows, len(new), rows - len(new), applied,
                        suspense, res["unmatched"] if res else 0, res["partial"] if res else 0,
                        res["overpaid"] if res else 0, late_fee)


def _check_unique(rc, file: str) -> None:
    """Every bank reference once in the file (the first repeat is named with both rows)."""
    if len(set(rc.bank_ref)) == len(rc):
        return
    first: dict[str, int] = {}
    for i, ref in enumerate(rc.bank_ref):
        j = first.get(ref)
        if j is None:
            first[ref] = i
            continue
        key_i = (rc.e2e_id[i], rc.amount_fen[i], rc.booked_on[i])
        key_j = (rc.e2e_id[j], rc.amount_fen[j], rc.booked_on[j])
        if key_i == key_j:
            raise InputError(f"duplicate receipt: bank reference {ref} appears twice "
                             f"(also row {rc.row[j]})", file=file, row=rc.row[i],
                             field="bank_ref", value=ref)
        raise InputError(f"conflicting receipts: bank reference {ref} appears with "
                         f"different content (row {rc.row[j]}: {rc.e2e_id[j]} "
                         f"{fen_to_yuan_str(rc.amount_fen[j])})", file=file, row=rc.row[i],
                         field="bank_ref", value=ref)


def _known(conn, rc, file: str) -> set[str]:
    """References already posted; refuses a receipt that conflicts with a posted one (the
    first such receipt of the file)."""
    rows = conn.execute(text(
        "SELECT bank_ref, e2e_id, amount_fen, booked_on FROM receipt WHERE bank_ref IN "
        f"(SELECT value FROM {json_rows_sql(conn)})"), {"vals": json_list(rc.bank_ref)}).all()
    if not rows:
        return set()
    stored = {r[0]: (r[1], int(r[2]), r[3] if isinstance(r[3], dt.date)
                     else dt.date.fromisoformat(str(r[3]))) for r in rows}
    for i, ref in enumerate(rc.bank_ref):
        s = stored.get(ref)
        if s is not None and s != (rc.e2e_id[i], rc.amount_fen[i], rc.booked_on[i]):
            raise InputError(f"conflicting receipt: bank reference {ref} was already "
                             f"posted as {s[0]} {fen_to_yuan_str(s[1])} on {s[2]}, this file "
                             f"says {rc.e2e_id[i]} {fen_to_yuan_str(rc.amount_fen[i])} on "
                             f"{rc.booked_on[i]}", file=file, row=rc.row[i], field="bank_ref",
                             value=ref)
    return set(stored)


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


def _apply(conn, actor: Actor, iid: int, region: str, rc: model.Receipts,
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


# --------------------------------------------------------------------------- bank simulator

def simulate_bank(export_path, *, seed: int = 7, fmt: str = "camt053", booked_on=None,
                  account: str = "31001234560000000001", out_path=None,
                  shares=(0.93, 0.03, 0.01), stranger: bool = True) -> Path:
    """Answer a direct-debit file as the bank would: ``shares`` = (paid in full, partly paid,
    over-paid); the rest is not paid; with ``stranger`` one credit matches no bill."""
    export_path = Path(export_path)
    raw = export_path.read_bytes()
    if raw.lstrip().startswith(b"<"):
        from lxml import etree
        ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
        root = etree.fromstring(raw, parser=etree.XMLParser(huge_tree=True))
        e2e = [t.text for t in root.iterfind(".//p:DrctDbtTxInf/p:PmtId/p:EndToEndId", ns)]
        amt = [t.text for t in root.iterfind(".//p:DrctDbtTxInf/p:InstdAmt", ns)]
        when = root.findtext(".//p:ReqdColltnDt", namespaces=ns)
    else:
        import csv, io
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))[1:]
        e2e = [r[0] for r in rows]
        amt = [r[4] for r in rows]
        when = rows[0][6] if rows else dt.date.today().isoformat()
    fen = np.array([int(a.replace(".", "")) for a in amt], dtype=np.int64)
    rng = np.random.default_rng(seed)
    u = rng.random(len(fen))
    full, part, over = shares
    pay = np.where(u < full, fen, np.where(u < full + part, fen // 2,
                   np.where(u < full + part + over, fen + 10000, 0)))
    keep = pay > 0
    e2e_k = [e for e, k in zip(e2e, keep.tolist()) if k]
    pay_k = pay[keep].tolist()
    if stranger:
        e2e_k.append("")
        pay_k.append(12345)
    day = booked_on or dt.date.fromisoformat(when)
    refs = [f"B{day.strftime('%Y%m%d')}{hashlib.sha1(export_path.name.encode()).hexdigest()[:6]}"
            f"{i:08d}" for i in range(len(pay_k))]
    if fmt == "camt053":
        data = camt053.build_statement(f"ST{day.strftime('%Y%m%d')}{export_path.stem[-8:]}",
                                       account, day, refs, e2e_k, pay_k)
        out = Path(out_path or export_path.with_name(export_path.stem + ".camt053.xml"))
    else:
        data = receipts_csv.build(refs, e2e_k, pay_k, day)
        out = Path(out_path or export_path.with_name(export_path.stem + ".receipts.csv"))
    out.write_bytes(data)
    return out
