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

The pooled fund and the individual accounts were credited when the month was assessed (the
receivable side); collection settles the receivables. See ``reconcile`` for the checks.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.db.uow import now as _now
from shebao.db.bulk import (day_number, fetch_int_matrix, fetch_tuples, insert_columns,
                            json_list, json_rows_sql, new_ids)
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .latefee import charge_settled_late
from .tables import bank_export, bank_import, bill, receipt

PRIORITY = {s: i for i, s in enumerate(model.COLLECTED_SCHEMES)}

# Seconds per phase of the last ``import_bank`` in this process (read = parse and validate the
# file, check = duplicates and already-posted receipts, apply = match, allocate and write,
# ledger = the posting, late_fee) — printed by bench/monthly_cycle.py.
LAST_TIMINGS: dict[str, float] = {}


def _default_dir(sub: str) -> Path:
    return Path(os.environ.get("SHEBAO_VAR", "var")) / "collection" / sub


def _creditor(region: str, on: dt.date):
    from shebao.formats.pain008 import Creditor

    acc = load_rules().value("collection.collection_account", region, on)
    return Creditor(acc["creditor_name"], acc["account"], acc["agent"]), acc


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
SELECT b.e2e_id, COALESCE(p.name, e.name) AS name, COALESCE(p.bank_name, e.bank_name),
       COALESCE(p.bank_account, e.bank_account), b.total_fen - b.paid_fen, b.due_date
FROM bill b
LEFT JOIN employer e ON b.payer_type = 'E' AND e.id = b.payer_id
LEFT JOIN person p ON b.payer_type <> 'E' AND p.id = b.payer_id
WHERE b.region = :r AND b.month = :m AND b.total_fen > b.paid_fen
ORDER BY b.id"""


def export_bank(engine, actor: Actor, region: str, month: dt.date, *, out_dir=None,
                fmt: str = "pain008", collection_date: dt.date | None = None) -> ExportResult:
    from shebao.formats import pain008

    if fmt not in ("pain008", "csv"):
        raise InputError("format must be pain008 or csv", field="format", value=fmt)
    month = month.replace(day=1)
    out_dir = Path(out_dir or _default_dir("out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        rows = fetch_tuples(conn, _OUTSTANDING, {"r": region, "m": month})
        has_acct = [bool(r[3]) for r in rows]
        sel = [r for r, ok in zip(rows, has_acct) if ok]
        skipped = len(rows) - len(sel)
        when = collection_date or (rows[0][5] if rows else model.due_date(month, 15))
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
            total_fen=total, skipped=skipped, actor=actor.id, at=_now())).inserted_primary_key[0]
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


def _reject(engine, actor, path: Path, data: bytes, fmt: str, region: str, exc: Exception,
            kept_dir) -> None:
    kept_dir = Path(kept_dir or _default_dir("rejected"))
    kept_dir.mkdir(parents=True, exist_ok=True)
    stamp = _now().strftime("%Y%m%dT%H%M%S%f")
    kept = kept_dir / f"{stamp}_{path.name}"
    kept.write_bytes(data)
    kept.with_name(kept.name + ".reason.txt").write_text(str(exc) + "\n", encoding="utf-8")
    with engine.begin() as conn:
        iid = conn.execute(bank_import.insert().values(
            file_name=str(path), file_sha256=hashlib.sha256(data).hexdigest(), format=fmt,
            region=region, status="rejected", rows=0, new_receipts=0, duplicates=0,
            applied_fen=0, suspense_fen=0, error=str(exc), kept_path=str(kept), actor=actor.id,
            at=_now())).inserted_primary_key[0]
        audit.record(conn, actor, "collection.import_bank.rejected", "bank_import", iid,
                     detail={"file": path.name, "reason": str(exc), "kept": str(kept)})


def _columns(recs):
    """CSV receipt lines → the columns ``camt053.read_columns`` returns."""
    from shebao.formats.camt053 import Credits

    return Credits(*(list(c) for c in zip(*[(r.row, r.bank_ref, r.e2e_id, r.amount_fen,
                                               r.booked_on) for r in recs]))) if recs \
        else Credits()


def _take(rc, idx):
    """The receipts at positions ``idx`` (ascending) of the columns ``rc``."""
    from shebao.formats.camt053 import Credits

    idx = list(idx)
    return Credits(*([col[i] for i in idx] for col in (rc.row, rc.bank_ref, rc.e2e_id,
                                                         rc.amount_fen, rc.booked_on)))


def import_bank(engine, actor: Actor, path, *, region: str | None = None,
                kept_dir=None) -> ImportResult:
    """Read, check, match, apply and post a bank receipt file (see the module docstring).

    ``region`` is the region whose suspense account takes money that matches no bill; by
    default the region named by most of the file's end-to-end ids."""
    from shebao.formats import camt053, receipts_csv

    LAST_TIMINGS.clear()
    t0 = time.perf_counter()
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    fmt = _detect(data)
    try:
        rc = (camt053.read_columns(data, str(path)) if fmt == "camt053"
              else _columns(receipts_csv.read(data, str(path))))
        LAST_TIMINGS["read"] = time.perf_counter() - t0
        _check_unique(rc, str(path))
        if region is None:
            named = [p[0] for p in (model.parse_e2e(e) for e in rc.e2e_id) if p]
            if not named:
                raise InputError("no receipt names a bill: give the region whose suspense "
                                 "account takes the money", file=str(path), field="region")
            region = max(set(named), key=named.count)
        with engine.connect() as conn:
            known = _known(conn, rc, str(path))
    except InputError as exc:
        _reject(engine, actor, path, data, fmt, region or "", exc, kept_dir)
        raise
    rows = len(rc)
    new = _take(rc, (i for i, ref in enumerate(rc.bank_ref) if ref not in known)) if known \
        else rc
    LAST_TIMINGS["check"] = time.perf_counter() - t0 - LAST_TIMINGS["read"]
    with engine.begin() as conn:
        iid = conn.execute(bank_import.insert().values(
            file_name=str(path), file_sha256=hashlib.sha256(data).hexdigest(), format=fmt,
            region=region, status="posted", rows=rows, new_receipts=len(new),
            duplicates=rows - len(new), applied_fen=0, suspense_fen=0, actor=actor.id,
            at=_now())).inserted_primary_key[0]
        res = _apply(conn, actor, iid, region, new) if len(new) else None
        # a bill settled after its due date: charge the employer's late fee (latefee.py)
        t1 = time.perf_counter()
        late_fee = charge_settled_late(conn, actor, iid) if len(new) else 0
        LAST_TIMINGS["late_fee"] = time.perf_counter() - t1
        applied = res["applied"] if res else 0
        suspense = res["suspense"] if res else 0
        conn.execute(update(bank_import).where(bank_import.c.id == iid).values(
            applied_fen=applied, suspense_fen=suspense,
            ledger_key=res["key"] if res else None))
        audit.record(conn, actor, "collection.import_bank", "bank_import", iid,
                     detail={"file": path.name, "format": fmt, "receipts": rows,
                             "new": len(new), "applied_fen": applied, "suspense_fen": suspense,
                             "late_fee_fen": late_fee})
    t1 = time.perf_counter()
    LAST_TIMINGS["apply"] = t1 - t0 - sum(v for k, v in LAST_TIMINGS.items() if k != "apply")
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


_PTYPES = ("E", "F", "R")


def _bills_of(conn, e2e: list[str]):
    """For each receipt's end-to-end id: the bill's id (0: none), region, month (int days)
    and payer type."""
    n = len(e2e)
    bill_id = np.zeros(n, np.int64)
    month = np.zeros(n, np.int64)
    ptype = np.full(n, "", dtype="U1")
    region = np.full(n, "", dtype="U6")
    p = {"vals": json_list(e2e)}
    head = f"FROM {json_rows_sql(conn)} JOIN bill b ON b.e2e_id = v.value WHERE v.value <> ''"
    if conn.dialect.name == "postgresql":
        # regions are six-digit codes: read as numbers (else as text below)
        m = fetch_int_matrix(conn, "SELECT v.ord - 1, b.id, b.month - DATE '1970-01-01', "
                               "CASE b.payer_type WHEN 'E' THEN 0 WHEN 'F' THEN 1 "
                               "WHEN 'R' THEN 2 ELSE -1 END, "
                               "CASE WHEN b.region ~ '^[0-9]{6}$' THEN CAST(b.region AS BIGINT) "
                               f"ELSE -1 END {head}", p, 5)
        if len(m) and m[:, 4].min() >= 0 and m[:, 3].min() >= 0:
            i = m[:, 0]
            bill_id[i], month[i] = m[:, 1], m[:, 2]
            ptype[i] = np.array(_PTYPES)[m[:, 3]]
            region[i] = np.char.zfill(m[:, 4].astype(str), 6)
            return bill_id, region, month, ptype
        if not len(m):
            return bill_id, region, month, ptype
    rows = conn.execute(text(f"SELECT v.ord - 1, b.id, b.region, b.month, b.payer_type {head}"),
                        p).all()
    for i, bid, reg, mon, pt in rows:
        bill_id[i], region[i], ptype[i] = bid, reg, pt
        month[i] = day_number(mon if isinstance(mon, dt.date) else dt.date.fromisoformat(str(mon)))
    return bill_id, region, month, ptype


def _bills_and_lines(conn, e2e: list[str]):
    """PostgreSQL: ``_bills_of`` and ``_lines_of`` in one pass (receipt → bill → its lines, one
    packed row per receipt × line). None — use the two — on SQLite, or when a region is not a
    six-digit code, a payer type or a scheme is not one the model knows."""
    if conn.dialect.name != "postgresql":
        return None
    names = list(model.COLLECTED_SCHEMES)
    code = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(names))
    m = fetch_int_matrix(conn, (
        "SELECT v.ord - 1, b.id, b.month - DATE '1970-01-01', "
        "CASE b.payer_type WHEN 'E' THEN 0 WHEN 'F' THEN 1 WHEN 'R' THEN 2 ELSE -1 END, "
        "CASE WHEN b.region ~ '^[0-9]{6}$' THEN CAST(b.region AS BIGINT) ELSE -1 END, "
        f"COALESCE(l.id, 0), COALESCE(CASE l.scheme {code} END, "
        "CASE WHEN l.id IS NULL THEN 0 ELSE -1 END), "
        "COALESCE(l.amount_fen - l.paid_fen, 0) "
        f"FROM {json_rows_sql(conn)} JOIN bill b ON b.e2e_id = v.value "
        "LEFT JOIN bill_line l ON l.bill_id = b.id WHERE v.value <> ''"),
        {"vals": json_list(e2e)}, 8)
    if len(m) and (m[:, 3].min() < 0 or m[:, 4].min() < 0 or m[:, 6].min() < 0):
        return None
    n = len(e2e)
    bill_id = np.zeros(n, np.int64)
    month = np.zeros(n, np.int64)
    ptype = np.full(n, "", dtype="U1")
    region = np.full(n, "", dtype="U6")
    i = m[:, 0]
    bill_id[i], month[i] = m[:, 1], m[:, 2]
    ptype[i] = np.array(_PTYPES)[m[:, 3]]
    region[i] = np.char.zfill(m[:, 4].astype(str), 6)
    ln = m[m[:, 5] > 0][:, [5, 1, 6, 7]]
    ln = ln[np.unique(ln[:, 0], return_index=True)[1]]            # a line once
    prio = np.array([PRIORITY[s] for s in names], np.int64)
    if len(ln):
        ln = ln[np.lexsort((ln[:, 0], prio[ln[:, 2]], ln[:, 1]))]
    return (bill_id, region, month, ptype), (ln, names)


def _lines_of(conn, bill_ids: np.ndarray):
    """The lines of the bills (ids ascending, unique): line id, bill id, scheme index in
    ``model.COLLECTED_SCHEMES`` (schemes outside it after, in name order) and what is still open;
    sorted by bill, then scheme priority. Returns (matrix, scheme names)."""
    names = list(model.COLLECTED_SCHEMES)
    p = {"vals": json_list(bill_ids)}
    src = f"SELECT CAST(value AS BIGINT) FROM {json_rows_sql(conn)}"
    while True:
        code = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(names))
        m = fetch_int_matrix(conn, f"SELECT id, bill_id, CASE scheme {code} ELSE -1 END, "
                               f"amount_fen - paid_fen FROM bill_line WHERE bill_id IN ({src})",
                         p, 4)
        if not len(m) or m[:, 2].min() >= 0:
            break
        names += sorted(r[0] for r in conn.execute(text(
            f"SELECT DISTINCT scheme FROM bill_line WHERE bill_id IN ({src})"), p)
            if r[0] not in names)
    prio = np.array([PRIORITY.get(s, 99) for s in names], np.int64)
    if len(m):
        m = m[np.lexsort((m[:, 0], prio[m[:, 2]], m[:, 1]))]
    return m, names


def _apply(conn, actor: Actor, iid: int, region: str, rc) -> dict:
    from shebao.ledger import service as ledger
    from shebao.ledger.model import Batch, BatchEntry, Line, account_code

    n = len(rc)
    amount = np.asarray(rc.amount_fen, dtype=np.int64)
    day_of = {d: day_number(d) for d in set(rc.booked_on)}
    booked = np.array([day_of[d] for d in rc.booked_on], dtype=np.int64)
    found = _bills_and_lines(conn, rc.e2e_id)
    if found is None:
        bill_id, b_region, b_month, b_ptype = _bills_of(conn, rc.e2e_id)
    else:
        (bill_id, b_region, b_month, b_ptype), (lines, names) = found
    matched = bill_id > 0
    applied = np.zeros(n, np.int64)
    a_ri = a_line = a_bill = a_amt = a_scheme = np.zeros(0, np.int64)
    if found is None:
        names = list(model.COLLECTED_SCHEMES)
    if matched.any():
        if found is None:
            lines, names = _lines_of(conn, np.unique(bill_id[matched]))
        l_id, l_bill, l_scheme = lines[:, 0], lines[:, 1], lines[:, 2]
        l_cap = np.maximum(lines[:, 3], 0)
        ub, ustart, ucount = np.unique(l_bill, return_index=True, return_counts=True)
        # each line's interval inside its bill's outstanding amount
        l_end = np.cumsum(l_cap)
        l_start = l_end - l_cap - (l_end - l_cap)[np.repeat(ustart, ucount)]
        l_stop = l_start + l_cap
        cap_total = np.add.reduceat(l_cap, ustart) if len(l_cap) else np.zeros(0, np.int64)
        # receipts of each bill in file order; each takes the next slice of the outstanding
        m_idx = np.flatnonzero(matched)
        order = m_idx[np.lexsort((m_idx, bill_id[m_idx]))]
        rb, ra = bill_id[order], amount[order]
        csum = np.cumsum(ra)
        first = np.searchsorted(rb, rb, side="left")
        before = csum - ra - (csum - ra)[first]
        bpos = np.minimum(np.searchsorted(ub, rb), max(len(ub) - 1, 0))
        has_lines = (ub[bpos] == rb) if len(ub) else np.zeros(len(rb), bool)
        ctot = np.where(has_lines, cap_total[bpos] if len(ub) else 0, 0)
        app = np.clip(ctot - before, 0, ra)
        applied[order] = app
        # pair each receipt with each line of its bill: the overlap of the two intervals
        counts = np.where(has_lines, ucount[bpos] if len(ub) else 0, 0)
        rep = np.repeat(np.arange(len(order)), counts)
        offset = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
        lidx = ustart[bpos[rep]] + offset if len(rep) else np.zeros(0, np.int64)
        r_lo, r_hi = before[rep], before[rep] + app[rep]
        ov = (np.minimum(r_hi, l_stop[lidx]) - np.maximum(r_lo, l_start[lidx])
              if len(rep) else np.zeros(0, np.int64))
        keep = ov > 0
        a_ri, a_line, a_bill, a_amt = order[rep[keep]], l_id[lidx[keep]], l_bill[lidx[keep]], \
            ov[keep]
        a_scheme = l_scheme[lidx[keep]]
    excess = amount - applied
    status = np.where(~matched, "unmatched", np.where(excess > 0, "overpaid",
                      np.where(applied < amount, "partial", "paid")))
    now = _now()
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
                       {"line_id": ul, "amount": _sum_by(inv.reshape(-1), a_amt, len(ul))})
        conn.execute(text(
            "UPDATE bill_line SET paid_fen = bill_line.paid_fen + t.amount FROM tmp_coll_alloc t "
            "WHERE bill_line.id = t.line_id"))
        conn.execute(text("DROP TABLE tmp_coll_alloc"))
    if matched.any():
        mb = bill_id[matched]
        ubill, inv = np.unique(mb, return_inverse=True)
        inv = inv.reshape(-1)
        paid = _sum_by(inv, applied[matched], len(ubill))
        exc = _sum_by(inv, excess[matched], len(ubill))
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
            "FROM tmp_coll_paid t WHERE bill.id = t.bill_id"), {"t": now})
        conn.execute(text("DROP TABLE tmp_coll_paid"))
    # ledger: aggregate the allocations per bill region × scheme × month × payer side
    groups: dict[tuple, dict] = {}
    if len(a_amt):
        regs, reg_i = np.unique(b_region[a_ri], return_inverse=True)
        side = (b_ptype[a_ri] != "E").astype(np.int64)                # 0 employer, 1 individual
        keys = np.column_stack([reg_i.reshape(-1), a_scheme, b_month[a_ri], side])
        uk, inv = np.unique(keys, axis=0, return_inverse=True)
        sums = _sum_by(inv.reshape(-1), a_amt, len(uk))
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
        acc = load_rules().value("collection.collection_account", region, day)
        s_scheme = acc["suspense_scheme"]
        ledger.open_chart(conn, actor, region, [s_scheme])
        entries.append(BatchEntry(region, s_scheme, day, (
            Line(account_code(region, s_scheme, "bank_transit"), susp),
            Line(account_code(region, s_scheme, "suspense"), -susp)),
            source="collection.suspense", memo=f"bank receipts import {iid}: unmatched/excess"))
        entries.append(BatchEntry(region, s_scheme, day, (
            Line(account_code(region, s_scheme, "fund_bank"), susp),
            Line(account_code(region, s_scheme, "bank_transit"), -susp)),
            source="collection.transfer", memo=f"bank receipts import {iid}: suspense → fund"))
    key = None
    t = time.perf_counter()
    if entries:
        for reg in {k[0] for k in groups}:
            ledger.open_chart(conn, actor, reg, model.COLLECTED_SCHEMES)
        key = f"collect.bank:{iid}"
        ledger.post_batch(conn, actor, key, Batch(entries))
    LAST_TIMINGS["ledger"] = time.perf_counter() - t
    # partial = bills still not fully paid after this import
    partial = 0
    if matched.any():
        partial = int(conn.execute(text(
            "SELECT COUNT(*) FROM bill b JOIN receipt r ON r.bill_id = b.id WHERE "
            "r.import_id = :i AND b.status = 'partial'"), {"i": iid}).scalar_one())
    return {"applied": int(applied.sum()), "suspense": susp, "key": key,
            "unmatched": int((~matched).sum()), "partial": partial,
            "overpaid": int(((excess > 0) & matched).sum())}


def _sum_by(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Integer sums of ``values`` per group index (exact: no float on the way)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, group, values)
    return out


# --------------------------------------------------------------------------- bank simulator

def simulate_bank(export_path, *, seed: int = 7, fmt: str = "camt053", booked_on=None,
                  account: str = "31001234560000000001", out_path=None,
                  shares=(0.93, 0.03, 0.01), stranger: bool = True) -> Path:
    """Answer a direct-debit file as the bank would: ``shares`` = (paid in full, partly paid,
    over-paid); the rest is not paid; with ``stranger`` one credit matches no bill."""
    from shebao.formats import camt053, receipts_csv

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


# --------------------------------------------------------------------------- suspense

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
            last_paid_on=day, updated_at=_now()))
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
