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
from shebao.core.errors import AlreadyRunning, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.core.timing import FaultPoint, OnPhase, phase, reach
from shebao.db import dialect
from shebao.db.bulk import fetch_tuples, json_list, json_rows_sql
from shebao.db.uow import now
from shebao.formats import camt053, pain008, receipts_csv
from shebao.registry import queries as registry
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .latefee import LOCK as LATE_FEE_LOCK
from .latefee import charge_settled_late
from .receipts import apply_receipts
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
        if not dialect.try_xact_lock(conn, model.LOCK_NS, f"collection.bank_import:{sha}"):
            raise AlreadyRunning(f"{path.name} is already being imported by another process: "
                                 "let it finish (importing the file again afterwards posts "
                                 "nothing twice)")
        # imports and late-fee runs of the same regions take turns (a late fee charged twice
        # otherwise); in one order, so two imports never wait for each other in a circle
        for reg in sorted(set(named) | {region}):
            dialect.xact_lock(conn, model.LOCK_NS, LATE_FEE_LOCK.format(region=reg))
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
            res = apply_receipts(conn, actor, iid, region, new, on_phase) if len(new) else None
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
