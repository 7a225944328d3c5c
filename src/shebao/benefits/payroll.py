"""Monthly pension payroll per region: compute → submit → approve → release → bank returns.

    payroll.run(db, actor, region, month, chunk=50_000) -> RunResult   # idempotent, resumable
    payroll.submit(db, maker, run_id) / payroll.approve(db, checker, run_id)  # maker-checker
    payouts.release(db, actor, run_id, out_dir, debtor, execution_date, formats=("xml", "csv"))
    payouts.import_returns(db, actor, path) -> ReturnResult           # camt.053 or CSV
    payouts.confirm_failures(db, actor, payment_ids, reason) -> int   # a clerk confirms a failure
    payouts.reissue(db, actor, run_id, out_dir, debtor, execution_date) -> ReissueResult
    life_events.record_living_certification(db, actor, person_id, year, passed, checked_on, method)
    life_events.detect_overpayments(db, actor, region) -> OverpaymentResult  # paid after death
    life_events.record_recovery(db, actor, overpayment_id, fen)

**Set-based.** The run walks the region's active awards in keyset chunks by person id (never
OFFSET; a chunk is the next ``chunk`` awards after the cursor, every joined table bounded by
the same id range). The database computes each chunk — amount in force for the month, the
split between the individual account (``min(account part, max(balance, 0))``; the pooled fund pays
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
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Date, and_, bindparam, insert, select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.core.schemes import EMPLOYEE_SCHEMES
from shebao.db.bulk import insert_and_read_ints
from shebao.db.dialect import for_chunk_sort, for_update
from shebao.db.uow import now as _now
from shebao.db.uow import reading, transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.ledger import queries as ledger_queries
from shebao.registry import queries as registry_queries
from shebao.security import audit, maker_checker as mc, policy

from . import award_lines, recovery
from .access import require_in_region
from .tables import payment, payroll_run

SCHEME = "pension"
CHUNK = 50_000
PAYMENT_COLUMNS = ("run_id", "person_id", "award_id", "region", "month", "attempt",
                   "amount_fen", "account_part_fen", "bank_name", "bank_account",
                   "end_to_end_id", "status", "status_at", "replaces_id")


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def require_in_region(actor: Actor, perm: str, region: str) -> None:
    if actor.role == "system":
        return
    policy.require(actor, perm)
    policy.require_region(actor, region)


def e2e_id(run_id: int, person_id: int, attempt: int, line_id: int = 0) -> str:
    """PY<run>-<person>-<attempt> for a pension, PA<run>-<line>-<attempt> for an award line."""
    if line_id:
        return f"PA{run_id}-{line_id}-{attempt}"
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
# The rules below (who is in the run, the amount, the account share, held) have a pure twin a
# policy officer can read: ``payroll_rules.payroll_lines``; tests/service/benefits/
# test_payroll_twin.py fails unless the two agree person by person. Change both together.
# The chunk's payable awards, computed entirely in the database: the amount in force for the
# month (the award's current amount, or for a month before ``amount_from`` — a late or
# repeated run — the last ``pension_award_amount`` effective on or before it, 0 if none), the
# individual account's share = min(account part, max(balance, 0)) from the person's
# individual pension account (credit-normal: its balance is stored negative), and whether the
# person has a bank account. The persons and the account balances are the registry's and the
# ledger's derived tables (``registry.queries.payees_sql``, ``ledger.queries.
# individual_balances_sql``: their owners keep their SQL), joined here so that the chunk stays
# one statement the database plans as a whole.
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
      JOIN ({registry_queries.payees_sql()}) p ON p.person_id = a.person_id
           AND p.person_id > :cursor AND p.person_id <= :hi
      LEFT JOIN ({ledger_queries.individual_balances_sql()}) la
           ON la.person_id = a.person_id AND la.person_id > :cursor AND la.person_id <= :hi
      WHERE a.region = :region AND a.status = 'active' AND a.start_month <= :month
        AND a.person_id > :cursor AND a.person_id <= :hi AND p.status <> 'merged'
        AND (p.death_date IS NULL OR p.death_date >= :month)
        AND NOT EXISTS (SELECT 1 FROM living_certification lc WHERE lc.person_id = a.person_id
              AND lc.person_id > :cursor AND lc.person_id <= :hi
              AND lc.passed = 0 AND lc.checked_on < :month
              AND NOT EXISTS (SELECT 1 FROM living_certification l2
                    WHERE l2.person_id = lc.person_id AND l2.passed = 1
                      AND l2.checked_on > lc.checked_on))
        AND NOT EXISTS (SELECT 1 FROM benefit_suspension bs WHERE bs.pension_award_id = a.id
              AND bs.from_month <= :month AND (bs.to_month IS NULL OR bs.to_month > :month))
        AND NOT EXISTS (SELECT 1 FROM payment x WHERE x.person_id = a.person_id
              AND x.person_id > :cursor AND x.person_id <= :hi AND x.month = :month
              AND x.scheme = 'pension' AND x.line_id = 0
              AND x.status IN ('computed', 'sent', 'paid'))) c
"""
# the payments of the chunk's payable persons (bank account, amount > 0), text columns copied
# by the database from the registry's payees; e2e id PY<run>-<person>-1
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


def get_run(conn, run_id: int, lock: bool = False) -> dict:
    q = select(payroll_run).where(payroll_run.c.id == run_id)
    if lock:
        q = for_update(conn, q)
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
    require_in_region(actor, "payroll.prepare", region)
    month = month.replace(day=1)
    ledger.open_chart(db, actor, region, schemes=EMPLOYEE_SCHEMES)   # award lines: every fund
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
            cur = get_run(conn, rid, lock=True)
            if cur["status"] != "computing":
                break
            if cur.get("phase", "pension") == "pension":
                step = _chunk(conn, actor, cur, chunk)
                if step is None:                         # pensions done: the award lines
                    conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
                        phase="awards"))
                    continue
            else:
                step = award_lines.chunk(conn, actor, cur, chunk)
            if step is None:                             # no award left after the cursor
                setoff, gone = recovery.apply_setoffs(conn, actor, rid, region, month)
                if setoff:
                    conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
                        total_fen=payroll_run.c.total_fen - setoff,
                        n_payments=payroll_run.c.n_payments - gone))
                conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
                    status="computed", computed_at=_now()))
                done = get_run(conn, rid)
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
        return get_run(conn, rid)


def _chunk(conn, actor: Actor, run_row: dict, limit: int) -> tuple[int, int] | None:
    """One keyset chunk: the next ``limit`` active awards after the cursor. Writes payments +
    ledger + cursor; returns (awards in the chunk, held), or None when no award is left.

    The payments are written by the database from the chunk query (no text column crosses
    into Python); Python reads back four integers per payable-or-held person — id, amount,
    account share, has a bank account — for the ledger batch and the held count
    (``db.bulk.insert_and_read_ints``: on PostgreSQL one statement, so the ledger posts
    exactly the rows inserted)."""
    rid, region, month = run_row["id"], run_row["region"], _date(run_row["month"])
    cursor = run_row["cursor_person_id"]
    n_awards, hi = conn.execute(text(_BOUND), {"region": region, "cursor": cursor,
                                               "limit": limit}).one()
    if n_awards == 0:
        return None
    params = {"rid": rid, "region": region, "month": month, "cursor": cursor, "hi": hi,
              "t": _now(), "scheme": SCHEME}
    with for_chunk_sort(conn):       # the payments are written in person order
        m = insert_and_read_ints(conn, _CHUNK, _INSERT_PAYMENTS, _CHUNK_INTS, params, 4,
                                 types=(bindparam("month", type_=Date()),
                                        bindparam("t", type_=payment.c.status_at.type)))
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
        r = get_run(conn, run_id, lock=True)
        require_in_region(maker, "payroll.prepare", r["region"])
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
        r = get_run(conn, run_id, lock=True)
        require_in_region(checker, "payroll.approve", r["region"])
        if r["status"] != "submitted":
            raise ConflictError(f"payroll run {run_id} is {r['status']}; only a submitted run "
                                f"can be approved")
        if mc.get(conn, r["approval_id"]).maker == checker.id:
            raise PermissionDenied(f"payroll run {run_id} was prepared by {checker.id}: the same "
                                   f"staff member can never approve their own run")
        mc.approve(conn, checker, r["approval_id"])
        conn.execute(update(payroll_run).where(payroll_run.c.id == run_id).values(
            status="approved"))
