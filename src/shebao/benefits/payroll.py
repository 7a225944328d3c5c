"""Monthly pension payroll per region: compute → submit → approve → release → bank returns.

    run(db, actor, region, month, chunk=50_000) -> RunResult        # idempotent, resumable
    submit(db, maker, run_id) / approve(db, checker, run_id)      # maker-checker release
    release(db, actor, run_id, out_dir, debtor, execution_date, formats=("xml", "csv"))
    import_returns(db, actor, path) -> ReturnResult                # camt.053 or CSV
    confirm_failures(db, actor, payment_ids, reason) -> int        # a clerk confirms a failure
    reissue(db, actor, run_id, out_dir, debtor, execution_date) -> ReissueResult
    record_living_certification(db, actor, person_id, year, passed, checked_on, method)
    detect_overpayments(db, actor, region) -> OverpaymentResult    # paid after death
    record_recovery(db, actor, overpayment_id, fen)

**Set-based.** The run walks the region's active awards in keyset chunks by person id (never
OFFSET; a chunk is the next ``chunk`` awards after the cursor, every joined table bounded by
the same id range). The database computes each chunk — amount in force for the month, the
split between the individual account (``min(account part, balance)``; the pooled fund pays
once the account is exhausted) and the pooled fund, who has a bank account — and writes the
payments itself (``INSERT … SELECT``: bank names and accounts never cross into Python); the
same statement returns four integers per person (binary COPY parsed by numpy on PostgreSQL)
from which the chunk's ledger entry is one batch entry (pooled fund and individual accounts →
benefits payable). Payments, ledger entry and the run's cursor commit together, so a crash
loses at most the chunk in flight and ``run`` again resumes after the cursor.

**Nobody is paid twice.** ``payment`` has a unique partial index on (person, month) over live
statuses (computed, sent, paid); a re-issue first moves the failed payment out of the live set
(returned → failed, confirmed by a clerk → reissued) in the same transaction that inserts the
new attempt.

**Who is paid.** Awards of the region that are active, started on or before the month, whose
person did not die before the month (a death in month M is paid for M, stopped from M+1), whose
latest failed living certification (not followed by a passed one) is not before the month, and
who have a bank account (others are *held* and listed in the run's audit row).

Ledger (scheme ``pension`` of the award's region; debit +, credit −):

    run      Dr pooled_fund (pooled share) + Dr individual accounts (account share)
             Cr benefits_payable (total)                          key payroll:<run>:<chunk>
    release  Dr benefits_payable  Cr fund_bank                    key payroll-release:<run>
    return   Dr fund_bank         Cr benefits_payable             key payroll-return:<file>
    reissue  Dr benefits_payable  Cr fund_bank                    key payroll-reissue:<run>:<n>
    overpaid Dr receivable_individual  Cr pooled_fund, Cr individual accounts
                                                                  key overpayment:<region>:<n>
    recovery Dr fund_bank         Cr receivable_individual        key overpayment-recovery:<id>:<n>
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Date, and_, bindparam, func, insert, select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months, month_str
from shebao.db.bulk import copy_out_ints, fetch_int_matrix
from shebao.db.uow import now as _now
from shebao.db.uow import reading, transaction
from shebao.formats import camt053, pain001, returns_csv
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, EntryRequest, Line, account_code
from shebao.registry.tables import person
from shebao.security import audit, maker_checker as mc, policy

from .model import outcomes_of_csv, outcomes_of_statement
from .tables import (bank_return, living_certification, overpayment, payment, payroll_run,
                     pension_award)

SCHEME = "pension"
CHUNK = 50_000
FILE_MAX_TX = 20_000      # payments per pain.001 file (bounded memory; not law)
PAYMENT_COLUMNS = ("run_id", "person_id", "award_id", "region", "month", "attempt",
                   "amount_fen", "account_part_fen", "bank_name", "bank_account",
                   "end_to_end_id", "status", "status_at", "replaces_id")


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _staff(actor: Actor, perm: str, region: str) -> None:
    if actor.role == "system":
        return
    policy.require(actor, perm)
    policy.require_region(actor, region)


def e2e_id(run_id: int, person_id: int, attempt: int) -> str:
    return f"PY{run_id}-{person_id}-{attempt}"


# ------------------------------------------------------------------------------ run
@dataclass
class RunResult:
    run_id: int
    region: str
    month: dt.date
    status: str
    n_payments: int
    total_fen: int
    account_part_fen: int
    held: int = 0
    chunks: int = 0
    resumed: bool = False

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "region": self.region, "month": month_str(self.month),
                "status": self.status, "payments": self.n_payments,
                "total": fen_to_yuan_str(self.total_fen),
                "individual_account_part": fen_to_yuan_str(self.account_part_fen),
                "pooled_part": fen_to_yuan_str(self.total_fen - self.account_part_fen),
                "held_without_bank_account": self.held, "chunks": self.chunks,
                "resumed": self.resumed}


# A chunk is the region's next ``chunk`` active awards by person id: (cursor, hi], hi found
# first on the (region, status, person_id) index. Bounding every joined table by the same
# range lets PostgreSQL plan each chunk for what it reads (index ranges in person order, not a
# LIMIT over an open-ended join) and keeps a chunk's cost independent of its position.
_BOUND = """
SELECT COUNT(*), COALESCE(MAX(s.person_id), 0) FROM (
  SELECT a.person_id FROM pension_award a
  WHERE a.region = :region AND a.status = 'active' AND a.person_id > :cursor
  ORDER BY a.person_id LIMIT :limit) s
"""
# The chunk's payable awards, computed entirely in the database: the amount in force for the
# month (the award's current amount, or for a month before ``amount_from`` — a late or
# repeated run — the last ``pension_award_amount`` effective on or before it, 0 if none), the
# individual account's share = min(account part, max(balance, 0)) from the person's
# individual pension account (credit-normal: its balance is stored negative), and whether the
# person has a bank account. (``region || ''`` keeps SQLite, which has no statistics, on the
# (person_id, scheme) index instead of scanning the region's accounts for every award;
# PostgreSQL reads the same index range.)
_IN_FORCE = ("CASE WHEN a.amount_from <= :month THEN a.{col} ELSE COALESCE((SELECT h.{col} "
             "FROM pension_award_amount h WHERE h.award_id = a.id AND h.effective_from <= :month "
             "ORDER BY h.effective_from DESC, h.id DESC LIMIT 1), 0) END")
_CHUNK = f"""
SELECT c.person_id, c.award_id, c.amount_fen,
       CASE WHEN c.balance <= 0 THEN 0 WHEN c.balance < c.apart THEN c.balance
            ELSE c.apart END AS share_fen,
       c.has_bank, c.bank_name, c.bank_account
FROM (SELECT a.person_id, a.id AS award_id,
             {_IN_FORCE.format(col="monthly_fen")} AS amount_fen,
             {_IN_FORCE.format(col="account_part_fen")} AS apart,
             -COALESCE(la.balance, 0) AS balance,
             CASE WHEN COALESCE(p.bank_account, '') <> '' THEN 1 ELSE 0 END AS has_bank,
             p.bank_name, p.bank_account
      FROM pension_award a
      JOIN person p ON p.id = a.person_id AND p.id > :cursor AND p.id <= :hi
      LEFT JOIN ledger_account la ON la.person_id = a.person_id AND la.scheme = 'pension'
           AND la.person_id > :cursor AND la.person_id <= :hi
           AND la.kind = 'individual' AND la.region || '' = :region
      WHERE a.region = :region AND a.status = 'active' AND a.start_month <= :month
        AND a.person_id > :cursor AND a.person_id <= :hi AND p.status <> 'merged'
        AND (p.death_date IS NULL OR p.death_date >= :month)
        AND NOT EXISTS (SELECT 1 FROM living_certification lc WHERE lc.person_id = a.person_id
              AND lc.person_id > :cursor AND lc.person_id <= :hi
              AND lc.passed = 0 AND lc.checked_on < :month
              AND NOT EXISTS (SELECT 1 FROM living_certification l2
                    WHERE l2.person_id = lc.person_id AND l2.passed = 1
                      AND l2.checked_on > lc.checked_on))
        AND NOT EXISTS (SELECT 1 FROM payment x WHERE x.person_id = a.person_id
              AND x.person_id > :cursor AND x.person_id <= :hi AND x.month = :month
              AND x.status IN ('computed', 'sent', 'paid'))) c
"""
# the payments of the chunk's payable persons (bank account, amount > 0), text columns copied
# by the database from ``person``; e2e id PY<run>-<person>-1
_INSERT_PAYMENTS = """
INSERT INTO payment (run_id, person_id, award_id, region, month, attempt, amount_fen,
                     account_part_fen, bank_name, bank_account, end_to_end_id, status, status_at)
SELECT :rid, c.person_id, c.award_id, :region, :month, 1, c.amount_fen, c.share_fen,
       c.bank_name, c.bank_account,
       'PY' || CAST(:rid AS TEXT) || '-' || CAST(c.person_id AS TEXT) || '-1', 'computed', :t
FROM c WHERE c.has_bank = 1 AND c.amount_fen > 0
ORDER BY c.person_id
"""
# what the ledger batch and the held count need: integers only
_CHUNK_INTS = """
SELECT CAST(c.person_id AS BIGINT), CAST(c.amount_fen AS BIGINT), CAST(c.share_fen AS BIGINT),
       CAST(c.has_bank AS BIGINT)
FROM c
"""


def _get_run(conn, run_id: int, lock: bool = False) -> dict:
    q = select(payroll_run).where(payroll_run.c.id == run_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    r = conn.execute(q).mappings().first()
    if r is None:
        raise InputError(f"no payroll run {run_id}", field="run_id")
    return dict(r)


def _result(r: dict, **kw) -> RunResult:
    return RunResult(r["id"], r["region"], _date(r["month"]), r["status"], r["n_payments"],
                     r["total_fen"], r["account_part_fen"], **kw)


def run(db, actor: Actor, region: str, month: dt.date, *, chunk: int = CHUNK,
        max_chunks: int | None = None, progress=None) -> RunResult:
    """Compute the payroll of ``region`` for ``month``. Idempotent: a computed run is returned
    as is; a run interrupted (crash, or ``max_chunks`` reached) resumes after its cursor."""
    _staff(actor, "payroll.prepare", region)
    month = month.replace(day=1)
    ledger.open_chart(db, actor, region, schemes=(SCHEME,))
    with transaction(db) as conn:
        r = conn.execute(select(payroll_run).where(and_(
            payroll_run.c.region == region, payroll_run.c.month == month))).mappings().first()
        if r is None:
            rid = conn.execute(insert(payroll_run).values(
                region=region, month=month, status="computing", cursor_person_id=0,
                created_by=actor.id, created_at=_now()).returning(payroll_run.c.id)).scalar_one()
            audit.record(conn, actor, "payroll.run.open", "payroll_run", rid,
                         detail={"region": region, "month": month_str(month)})
            resumed = False
        else:
            rid = r["id"]
            resumed = r["status"] == "computing" and r["cursor_person_id"] > 0
    r = _get_run_db(db, rid)
    if r["status"] != "computing":
        return _result(r)
    chunks = held = 0
    while max_chunks is None or chunks < max_chunks:
        with transaction(db) as conn:
            cur = _get_run(conn, rid, lock=True)
            if cur["status"] != "computing":
                break
            step = _chunk(conn, actor, cur, chunk)
            if step is None:                             # no award left after the cursor
                conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
                    status="computed", computed_at=_now()))
                done = _get_run(conn, rid)
                audit.record(conn, actor, "payroll.run.computed", "payroll_run", rid,
                             detail={"region": region, "month": month_str(month),
                                     "payments": done["n_payments"],
                                     "total": fen_to_yuan_str(done["total_fen"]),
                                     "held_without_bank_account_this_pass": held})
                break
            n, h = step
            held += h
            chunks += 1
            if progress:
                progress(n)
    return _result(_get_run_db(db, rid), held=held, chunks=chunks, resumed=resumed)


def _get_run_db(db, rid):
    with reading(db) as conn:
        return _get_run(conn, rid)


def _chunk(conn, actor: Actor, run_row: dict, limit: int) -> tuple[int, int] | None:
    """One keyset chunk: the next ``limit`` active awards after the cursor. Writes payments +
    ledger + cursor; returns (awards in the chunk, held), or None when no award is left.

    The payments are written by the database from the chunk query (no text column crosses
    into Python); Python reads back four integers per payable-or-held person — id, amount,
    account share, has a bank account — for the ledger batch and the held count. PostgreSQL:
    one statement (``WITH c AS MATERIALIZED (chunk), ins AS (INSERT …) SELECT ints FROM c``,
    read by binary COPY), so the ledger posts exactly the rows inserted. SQLite: the same
    chunk query twice (ints, then the INSERT) inside its serialised write transaction."""
    rid, region, month = run_row["id"], run_row["region"], _date(run_row["month"])
    cursor = run_row["cursor_person_id"]
    n_awards, hi = conn.execute(text(_BOUND), {"region": region, "cursor": cursor,
                                               "limit": limit}).one()
    if n_awards == 0:
        return None
    params = {"rid": rid, "region": region, "month": month, "cursor": cursor, "hi": hi,
              "t": _now()}
    if conn.dialect.name == "postgresql":
        m = copy_out_ints(conn, f"WITH c AS MATERIALIZED ({_CHUNK}), "
                                    f"ins AS ({_INSERT_PAYMENTS}) {_CHUNK_INTS}", params, 4)
    else:
        m = fetch_int_matrix(conn, f"WITH c AS ({_CHUNK}) {_CHUNK_INTS}", params, 4)
        if len(m):
            conn.execute(text(f"WITH c AS ({_CHUNK}) {_INSERT_PAYMENTS}").bindparams(
                bindparam("month", type_=Date()),
                bindparam("t", type_=payment.c.status_at.type)), params)
    m = m[np.argsort(m[:, 0], kind="stable")] if len(m) > 1 else m     # person order
    pid, amount, acct_share, has_bank = m[:, 0], m[:, 1], m[:, 2], m[:, 3] == 1
    pay = has_bank & (amount > 0)
    held = int(len(m) - has_bank.sum())
    n_pay = int(pay.sum())
    total = int(amount[pay].sum())
    acct_total = int(acct_share[pay].sum())
    if total:
        lines = [Line.credit(account_code(region, SCHEME, "benefits_payable"), total)]
        if total - acct_total:
            lines.append(Line.debit(account_code(region, SCHEME, "pooled_fund"),
                                    total - acct_total))
        sel = pay & (acct_share > 0)
        be = BatchEntry(region, SCHEME, month, tuple(lines), pid[sel], acct_share[sel],
                        source="payroll", memo=f"pension payroll {month_str(month)} run {rid}")
        ledger.post_batch(conn, actor, f"payroll:{rid}:{int(pid[0])}-{int(pid[-1])}",
                          Batch([be]))
    conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
        cursor_person_id=int(hi), n_payments=payroll_run.c.n_payments + n_pay,
        total_fen=payroll_run.c.total_fen + total,
        account_part_fen=payroll_run.c.account_part_fen + acct_total))
    if held:
        audit.record(conn, actor, "payroll.run.held", "payroll_run", rid,
                     detail={"reason": "no bank account", "count": held,
                             "person_ids": pid[~has_bank][:50].tolist()})
    return int(n_awards), held


# ------------------------------------------------------------------------------ approve
def submit(db, maker: Actor, run_id: int) -> int:
    with transaction(db) as conn:
        r = _get_run(conn, run_id, lock=True)
        _staff(maker, "payroll.prepare", r["region"])
        if r["status"] != "computed":
            raise ConflictError(f"payroll run {run_id} is {r['status']}; only a computed run "
                                f"can be submitted")
        aid = mc.submit(conn, maker, mc.PAYROLL, "payroll_run", run_id, region=r["region"],
                        detail={"month": month_str(_date(r["month"])),
                                "payments": r["n_payments"],
                                "total": fen_to_yuan_str(r["total_fen"])})
        conn.execute(update(payroll_run).where(payroll_run.c.id == run_id).values(
            status="submitted", approval_id=aid))
        return aid


def approve(db, checker: Actor, run_id: int) -> None:
    with transaction(db) as conn:
        r = _get_run(conn, run_id, lock=True)
        _staff(checker, "payroll.approve", r["region"])
        if r["status"] != "submitted":
            raise ConflictError(f"payroll run {run_id} is {r['status']}; only a submitted run "
                                f"can be approved")
        if mc.get(conn, r["approval_id"]).maker == checker.id:
            raise PermissionDenied(f"payroll run {run_id} was prepared by {checker.id}: the same "
                                   f"staff member can never approve their own run")
        mc.approve(conn, checker, r["approval_id"])
        conn.execute(update(payroll_run).where(payroll_run.c.id == run_id).values(
            status="approved"))


# ------------------------------------------------------------------------------ release
@dataclass
class Released:
    run_id: int
    files: list[dict]
    n_payments: int
    total_fen: int
    replayed: bool = False


def _payments_for_file(conn, where, params):
    q = text("SELECT p.end_to_end_id, p.amount_fen, p.bank_name, p.bank_account, r.name "
             "FROM payment p JOIN person r ON r.id = p.person_id WHERE " + where +
             " ORDER BY p.id")
    return conn.execute(q, params).all()


def _write_files(pages, out_dir: Path, stem: str, debtor: pain001.Debtor,
                 execution_date: dt.date, remittance: str, formats) -> tuple[list[dict], int, int]:
    """Write one file per page of payments (≤ FILE_MAX_TX); returns (files, count, total)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files, count, grand = [], 0, 0
    for part, sl in enumerate(pages, start=1):
        cols = (tuple(r.end_to_end_id for r in sl), tuple(r.name for r in sl),
                tuple(r.bank_name or "" for r in sl), tuple(r.bank_account for r in sl),
                tuple(int(r.amount_fen) for r in sl))
        count += len(sl)
        grand += sum(cols[4])
        for fmt in formats:
            if fmt == "xml":
                data = pain001.build(f"{stem}-{part}", debtor, execution_date, *cols, remittance)
                path = out_dir / f"{stem}-{part}.pain.001.xml"
            elif fmt == "csv":
                data = pain001.build_csv(execution_date, *cols, remittance)
                path = out_dir / f"{stem}-{part}.csv"
            else:
                raise InputError(f"unknown format {fmt!r} (xml, csv)", field="format")
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
            files.append({"path": str(path), "sha256": hashlib.sha256(data).hexdigest(),
                          "payments": len(sl), "format": fmt,
                          "total": fen_to_yuan_str(sum(cols[4]))})
            del data
    return files, count, grand


def _pages(conn, where: str, params: dict):
    """Payments for files, FILE_MAX_TX at a time, keyset by payment id."""
    last = 0
    while True:
        page = conn.execute(text(
            "SELECT p.id, p.end_to_end_id, p.amount_fen, p.bank_name, p.bank_account, r.name "
            "FROM payment p JOIN person r ON r.id = p.person_id WHERE " + where +
            " AND p.id > :last ORDER BY p.id LIMIT :lim"),
            {**params, "last": last, "lim": FILE_MAX_TX}).all()
        if not page:
            return
        yield page
        last = page[-1].id


def release(db, actor: Actor, run_id: int, out_dir, debtor: pain001.Debtor,
            execution_date: dt.date, formats=("xml", "csv")) -> Released:
    """Write the payment files of an approved run and mark its payments sent (idempotent:
    a released run returns its files)."""
    out_dir = Path(out_dir)
    with transaction(db) as conn:
        r = _get_run(conn, run_id, lock=True)
        _staff(actor, "payroll.prepare", r["region"])
        if r["status"] == "released":
            return Released(run_id, json.loads(r["files"] or "[]"), r["n_payments"],
                            r["total_fen"], replayed=True)
        mc.require_approved(conn, mc.PAYROLL, "payroll_run", run_id)
        if r["status"] != "approved":
            raise ConflictError(f"payroll run {run_id} is {r['status']}, not approved")
        month = _date(r["month"])
        cancelled = _cancel_stopped(conn, actor, r)
        if cancelled:
            r = _get_run(conn, run_id)
        files, n, total = _write_files(
            _pages(conn, "p.run_id = :r AND p.status = 'computed' AND p.attempt = 1",
                   {"r": run_id}), out_dir, f"PY{run_id}-{r['region']}-{month_str(month)}",
            debtor, execution_date, f"养老金 {month_str(month)}", formats)
        if total != r["total_fen"] or n != r["n_payments"]:
            for f in files:      # never leave files that disagree with the books
                Path(f["path"]).unlink(missing_ok=True)
            raise InvariantError(f"run {run_id}: payments ({n}, {total}) disagree with "
                                 f"the run ({r['n_payments']}, {r['total_fen']})")
        conn.execute(update(payment).where(and_(payment.c.run_id == run_id,
                                                payment.c.status == "computed")).values(
            status="sent", status_at=_now()))
        if total:
            ledger.post_entry(conn, actor, f"payroll-release:{run_id}", EntryRequest(
                execution_date, (Line.debit(account_code(r["region"], SCHEME, "benefits_payable"),
                                            total),
                                 Line.credit(account_code(r["region"], SCHEME, "fund_bank"),
                                             total)),
                source="payroll", memo=f"payroll run {run_id} paid to banks"))
        conn.execute(update(payroll_run).where(payroll_run.c.id == run_id).values(
            status="released", released_by=actor.id, released_at=_now(),
            files=json.dumps(files, ensure_ascii=False)))
        audit.record(conn, actor, "payroll.release", "payroll_run", run_id,
                     detail={"files": files, "total": fen_to_yuan_str(total),
                             "cancelled_after_death_or_failed_certification": cancelled})
        return Released(run_id, files, n, total)


_STOPPED = """
SELECT p.id, p.person_id, p.amount_fen, p.account_part_fen FROM payment p
JOIN person r ON r.id = p.person_id
WHERE p.run_id = :r AND p.status = 'computed'
  AND ((r.death_date IS NOT NULL AND r.death_date < :month)
       OR EXISTS (SELECT 1 FROM living_certification lc WHERE lc.person_id = p.person_id
           AND lc.passed = 0 AND lc.checked_on < :month
           AND NOT EXISTS (SELECT 1 FROM living_certification l2
                 WHERE l2.person_id = lc.person_id AND l2.passed = 1
                 AND l2.checked_on > lc.checked_on)))
ORDER BY p.person_id
"""


def _cancel_stopped(conn, actor: Actor, r: dict) -> int:
    """A death or failed certification recorded between computing and releasing a run:
    cancel those payments before any file is written and reverse their ledger share."""
    month = _date(r["month"])
    rows = conn.execute(text(_STOPPED), {"r": r["id"], "month": month}).all()
    if not rows:
        return 0
    region = r["region"]
    total = sum(int(x.amount_fen) for x in rows)
    acct = sum(int(x.account_part_fen) for x in rows)
    lines = [Line.debit(account_code(region, SCHEME, "benefits_payable"), total)]
    if total - acct:
        lines.append(Line.credit(account_code(region, SCHEME, "pooled_fund"), total - acct))
    sel = [x for x in rows if x.account_part_fen]
    ledger.post_batch(conn, actor, f"payroll-cancel:{r['id']}", Batch([BatchEntry(
        region, SCHEME, month, tuple(lines), np.array([x.person_id for x in sel], np.int64),
        -np.array([x.account_part_fen for x in sel], np.int64), source="payroll",
        memo=f"run {r['id']}: payments cancelled before release (death or failed living "
             f"certification)")]))
    ids = [x.id for x in rows]
    conn.execute(update(payment).where(payment.c.id.in_(ids)).values(
        status="cancelled", status_at=_now(), return_reason="stopped before release"))
    conn.execute(update(payroll_run).where(payroll_run.c.id == r["id"]).values(
        n_payments=payroll_run.c.n_payments - len(ids),
        total_fen=payroll_run.c.total_fen - total,
        account_part_fen=payroll_run.c.account_part_fen - acct))
    return len(ids)


# ------------------------------------------------------------------------------ returns
@dataclass
class ReturnResult:
    file_id: int | None
    paid: int
    failed: int
    unknown: int
    returned_fen: int
    replayed: bool = False
    unknown_refs: list = field(default_factory=list)


def import_returns(db, actor: Actor, path) -> ReturnResult:
    """Record a bank return file once (by sha256): booked payments become ``paid``, failed ones
    ``returned`` (money back in the fund account; a clerk confirms before any re-issue)."""
    path = Path(path)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    fmt = "csv" if path.suffix.lower() == ".csv" else "camt053"
    try:
        outcomes = (outcomes_of_csv(returns_csv.read(data)) if fmt == "csv"
                    else outcomes_of_statement(camt053.read_payments(data, str(path))))
    except InputError as exc:
        raise InputError(exc.reason, field=exc.field, file=str(path), row=exc.row) from None
    with transaction(db) as conn:
        prior = conn.execute(select(bank_return.c.id).where(bank_return.c.sha256 == sha)).first()
        if prior:
            return ReturnResult(prior.id, 0, 0, 0, 0, replayed=True)
        refs = [o.end_to_end_id for o in outcomes]
        known = {}
        for i in range(0, len(refs), 5000):
            for p in conn.execute(select(payment.c.id, payment.c.end_to_end_id, payment.c.status,
                                         payment.c.amount_fen, payment.c.region,
                                         payment.c.run_id).where(
                    payment.c.end_to_end_id.in_(refs[i:i + 5000]))):
                known[p.end_to_end_id] = p
        paid_ids, failed, unknown = [], [], []
        for o in outcomes:
            p = known.get(o.end_to_end_id)
            if p is None or p.status not in ("sent", "paid"):
                unknown.append(o.end_to_end_id)
            elif o.amount_fen is not None and o.amount_fen != p.amount_fen:
                unknown.append(o.end_to_end_id)
            elif o.status == "paid":
                if p.status == "sent":
                    paid_ids.append(p.id)
            else:
                failed.append((p, o.reason))
        t = _now()
        for i in range(0, len(paid_ids), 5000):
            conn.execute(update(payment).where(and_(payment.c.id.in_(paid_ids[i:i + 5000]),
                                                    payment.c.status == "sent")).values(
                status="paid", status_at=t))
        by_region: dict[str, int] = {}
        for p, reason in failed:
            conn.execute(update(payment).where(payment.c.id == p.id).values(
                status="returned", status_at=t, return_reason=(reason or "returned")[:200]))
            by_region[p.region] = by_region.get(p.region, 0) + int(p.amount_fen)
        fid = conn.execute(insert(bank_return).values(
            file_name=path.name, sha256=sha, format=fmt, n_paid=len(paid_ids),
            n_failed=len(failed), n_unknown=len(unknown), received_by=actor.id,
            received_at=t).returning(bank_return.c.id)).scalar_one()
        for region, fen in sorted(by_region.items()):
            ledger.post_entry(conn, actor, f"payroll-return:{sha[:16]}:{region}", EntryRequest(
                t.date(), (Line.debit(account_code(region, SCHEME, "fund_bank"), fen),
                           Line.credit(account_code(region, SCHEME, "benefits_payable"), fen)),
                source="payroll", memo=f"returned payments, bank file {path.name}"))
        audit.record(conn, actor, "payroll.returns.import", "bank_return", fid,
                     detail={"file": path.name, "sha256": sha, "paid": len(paid_ids),
                             "failed": len(failed), "unknown": unknown[:50]})
        return ReturnResult(fid, len(paid_ids), len(failed), len(unknown),
                            sum(by_region.values()), unknown_refs=unknown)


def confirm_failures(db, actor: Actor, payment_ids: list[int], *, reason: str) -> int:
    """A clerk confirms returned payments as failed (e.g. after correcting the bank account);
    only confirmed failures are re-issued."""
    if not reason or not reason.strip():
        raise InputError("a reason is required", field="reason")
    with transaction(db) as conn:
        rows = conn.execute(select(payment.c.id, payment.c.status, payment.c.region).where(
            payment.c.id.in_(list(payment_ids)))).all()
        found = {r.id: r for r in rows}
        for pid in payment_ids:
            r = found.get(pid)
            if r is None:
                raise InputError(f"no payment {pid}", field="payment_ids")
            if r.status != "returned":
                raise ConflictError(f"payment {pid} is {r.status}; only a returned payment can "
                                    f"be confirmed as failed")
            _staff(actor, "payroll.prepare", r.region)
        conn.execute(update(payment).where(payment.c.id.in_(list(payment_ids))).values(
            status="failed", status_at=_now()))
        audit.record(conn, actor, "payroll.failure.confirm", "payment", payment_ids[0],
                     purpose=reason, detail={"payments": list(payment_ids)[:200],
                                             "count": len(payment_ids)})
        return len(payment_ids)


@dataclass
class ReissueResult:
    run_id: int
    n_payments: int
    total_fen: int
    files: list


def reissue(db, actor: Actor, run_id: int, out_dir, debtor: pain001.Debtor,
            execution_date: dt.date, formats=("xml",)) -> ReissueResult:
    """Re-issue the run's confirmed failures as new attempts (current bank account from the
    registry), write their file and post the payment to the bank."""
    with transaction(db) as conn:
        r = _get_run(conn, run_id, lock=True)
        _staff(actor, "payroll.prepare", r["region"])
        failed = conn.execute(text(
            "SELECT p.id, p.person_id, p.award_id, p.month, p.attempt, p.amount_fen, "
            "p.account_part_fen, r.bank_name, r.bank_account, r.death_date FROM payment p "
            "JOIN person r ON r.id = p.person_id WHERE p.run_id = :r AND p.status = 'failed' "
            "ORDER BY p.id"), {"r": run_id}).all()
        if not failed:
            return ReissueResult(run_id, 0, 0, [])
        month = _date(r["month"])
        no_bank = [f.id for f in failed if not f.bank_account]
        if no_bank:
            raise InputError(f"payments {no_bank[:10]} have no bank account in the registry; "
                             f"correct it before re-issuing", field="bank_account")
        t = _now()
        ids = [f.id for f in failed]
        conn.execute(update(payment).where(payment.c.id.in_(ids)).values(status="reissued",
                                                                        status_at=t))
        new = [(run_id, f.person_id, f.award_id, r["region"], month, f.attempt + 1,
                f.amount_fen, f.account_part_fen, f.bank_name, f.bank_account,
                e2e_id(run_id, f.person_id, f.attempt + 1), "sent", t, f.id) for f in failed]
        conn.execute(payment.insert(), [dict(zip(PAYMENT_COLUMNS, r)) for r in new])
        n_before = conn.execute(select(func.count()).select_from(payment).where(and_(
            payment.c.run_id == run_id, payment.c.replaces_id.is_not(None)))).scalar_one() \
            - len(new)
        stem = f"PY{run_id}-{r['region']}-{month_str(month)}-R{n_before}"
        files, n, total = _write_files(
            _pages(conn, "p.run_id = :r AND p.status = 'sent' AND p.replaces_id IN (" +
                   ",".join(str(int(i)) for i in ids) + ")", {"r": run_id}),
            Path(out_dir), stem, debtor, execution_date, f"养老金 {month_str(month)} 重发",
            formats)
        ledger.post_entry(conn, actor, f"payroll-reissue:{run_id}:{n_before}", EntryRequest(
            execution_date, (Line.debit(account_code(r["region"], SCHEME, "benefits_payable"),
                                        total),
                             Line.credit(account_code(r["region"], SCHEME, "fund_bank"), total)),
            source="payroll", memo=f"re-issue of {n} failed payments of run {run_id}"))
        audit.record(conn, actor, "payroll.reissue", "payroll_run", run_id,
                     detail={"payments": n, "total": fen_to_yuan_str(total),
                             "replaces": ids[:200], "files": files})
        return ReissueResult(run_id, n, total, files)


# ------------------------------------------------------------------------------ life events
def record_living_certification(db, actor: Actor, person_id: int, year: int, passed: bool,
                                checked_on: dt.date, method: str = "counter") -> int:
    """Annual proof of life. A failure stops payment from the month after ``checked_on``
    until a later certification passes."""
    if checked_on > dt.date.today():
        raise InputError("checked_on is in the future", field="checked_on")
    with transaction(db) as conn:
        p = conn.execute(select(person.c.id, person.c.pension_region).where(
            person.c.id == person_id)).first()
        if p is None:
            raise InputError(f"no person {person_id}", field="person_id")
        if actor.role != "system":
            policy.require(actor, "pension.compute")
            policy.require_region(actor, p.pension_region)
        lid = conn.execute(insert(living_certification).values(
            person_id=person_id, year=year, passed=1 if passed else 0, checked_on=checked_on,
            method=method, recorded_by=actor.id, recorded_at=_now()
        ).returning(living_certification.c.id)).scalar_one()
        audit.record(conn, actor, "pension.living_certification", "person", person_id,
                     detail={"year": year, "passed": passed, "checked_on": checked_on,
                             "method": method})
        return lid


@dataclass
class OverpaymentResult:
    region: str
    n: int
    total_fen: int
    awards_stopped: int


def detect_overpayments(db, actor: Actor, region: str) -> OverpaymentResult:
    """Payments sent or paid for months after a recorded death become overpayments to recover
    (with a ledger entry: receivable from the estate; the pooled share back to the pooled fund
    and the account share back to the — inheritable — individual account); the award stops
    from the month after the death."""
    _staff(actor, "payroll.prepare", region)
    with transaction(db) as conn:
        rows = conn.execute(text(
            "SELECT p.id, p.person_id, p.award_id, p.month, p.amount_fen, p.account_part_fen, "
            "r.death_date FROM payment p JOIN person r ON r.id = p.person_id "
            "WHERE p.region = :g AND p.status IN ('sent', 'paid') AND r.death_date IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM overpayment o WHERE o.payment_id = p.id) "
            "ORDER BY p.person_id, p.month"), {"g": region}).all()
        over = [r for r in rows if _date(r.month) > _date(r.death_date).replace(day=1)]
        deaths = {r.person_id: _date(r.death_date) for r in rows}
        stopped = 0
        for pid, d in deaths.items():
            stopped += conn.execute(update(pension_award).where(and_(
                pension_award.c.person_id == pid, pension_award.c.status == "active")).values(
                status="stopped", stop_month=add_months(d.replace(day=1), 1),
                stop_reason="death")).rowcount
        if not over:
            audit.record(conn, actor, "payroll.overpayment.detect", "region", region,
                         detail={"found": 0, "awards_stopped": stopped})
            return OverpaymentResult(region, 0, 0, stopped)
        total = sum(int(r.amount_fen) for r in over)
        acct = {}
        for r in over:
            acct[r.person_id] = acct.get(r.person_id, 0) + int(r.account_part_fen)
        pooled = total - sum(acct.values())
        lines = [Line.debit(account_code(region, SCHEME, "receivable_individual"), total)]
        if pooled:
            lines.append(Line.credit(account_code(region, SCHEME, "pooled_fund"), pooled))
        pids = np.array([p for p, v in acct.items() if v], dtype=np.int64)
        amts = -np.array([acct[p] for p in pids], dtype=np.int64)
        n_before = conn.execute(select(func.count()).select_from(overpayment)).scalar_one()
        res = ledger.post_batch(conn, actor, f"overpayment:{region}:{n_before}", Batch([
            BatchEntry(region, SCHEME, _now().date(), tuple(lines), pids, amts,
                       source="payroll", memo="payments after death, to recover")]))
        t = _now()
        conn.execute(insert(overpayment), [dict(
            person_id=r.person_id, payment_id=r.id, month=_date(r.month),
            amount_fen=int(r.amount_fen), reason="paid after death", status="open",
            recovered_fen=0, ledger_entry_id=res.entry_id, created_at=t) for r in over])
        audit.record(conn, actor, "payroll.overpayment.detect", "region", region,
                     detail={"found": len(over), "total": fen_to_yuan_str(total),
                             "ledger_entry": res.entry_id, "awards_stopped": stopped,
                             "basis": "payments stop from the month after death"})
        return OverpaymentResult(region, len(over), total, stopped)


def record_recovery(db, actor: Actor, overpayment_id: int, fen: int) -> str:
    """Money recovered (from the estate or a bank claw-back) against one overpayment."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen <= 0:
        raise InputError("recovered amount must be positive integer fen", field="fen")
    with transaction(db) as conn:
        o = conn.execute(select(overpayment, payment.c.region).join(
            payment, payment.c.id == overpayment.c.payment_id).where(
            overpayment.c.id == overpayment_id)).mappings().first()
        if o is None:
            raise InputError(f"no overpayment {overpayment_id}", field="overpayment_id")
        _staff(actor, "payroll.prepare", o["region"])
        left = o["amount_fen"] - o["recovered_fen"]
        if fen > left:
            raise InputError(f"only {fen_to_yuan_str(left)} is left to recover",
                             field="fen")
        region = o["region"]
        ledger.post_entry(conn, actor, f"overpayment-recovery:{overpayment_id}:"
                                       f"{o['recovered_fen']}", EntryRequest(
            _now().date(), (Line.debit(account_code(region, SCHEME, "fund_bank"), fen),
                            Line.credit(account_code(region, SCHEME, "receivable_individual"),
                                        fen)),
            source="payroll", memo=f"recovery of overpayment {overpayment_id}"))
        status = "recovered" if fen == left else "open"
        conn.execute(update(overpayment).where(overpayment.c.id == overpayment_id).values(
            recovered_fen=overpayment.c.recovered_fen + fen, status=status))
        audit.record(conn, actor, "payroll.overpayment.recover", "overpayment", overpayment_id,
                     detail={"amount": fen_to_yuan_str(fen), "status": status})
        return status
