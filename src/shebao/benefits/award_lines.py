"""The payroll's second phase: the lines of benefit awards (unemployment, injury, maternity,
survivors, back pay), paid in the same run as the pensions and in the same pain.001.

Set-based like the pension phase (``payroll``): keyset chunks by the award's person id; the
database selects the chunk's payable lines for the month and writes the payments itself
(``INSERT … SELECT``: bank names and accounts never cross into Python); numpy sums the
integers it reads back into one ledger batch per chunk, one entry per scheme.

A line is payable for month M when it is active, started on or before M, is monthly and not
ended by M (``end_month`` exclusive) or is a one-off not yet paid in any month; its award is
not suspended in M; a person payee is alive on the first of M and not merged; and no live
payment of the line for M (monthly) or at all (once) exists. Person payees are paid to the
registry's bank account, employer payees to the employer's; ``fund`` lines (the medical
premium the unemployment fund pays) are transfers between funds: a ``benefit_transfer`` row
per line and month, no bank file.

Ledger (region × scheme of the line; debit +, credit −):

    bank payee   Dr pooled_fund (or the deceased's individual account for an account refund)
                 Cr benefits_payable                              key payroll-awards:<run>:<lo>-<hi>
    fund payee   Dr pooled_fund  Cr transfer_clearing ; Dr transfer_clearing (target scheme)
                 Cr pooled_fund (target scheme)
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Date, bindparam, text, update

from shebao.core.actor import Actor
from shebao.core.periods import month_str
from shebao.core.schemes import SCHEMES
from shebao.db.bulk import insert_and_read_ints
from shebao.db.dialect import for_index_probes
from shebao.db.uow import now as _now
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.registry import queries as registry_queries
from shebao.security import audit

from .tables import payment, payroll_run

_SCHEME_CASE = "CASE l.scheme " + " ".join(
    f"WHEN '{s}' THEN {i}" for i, s in enumerate(SCHEMES)) + " ELSE -1 END"

_BOUND = """
SELECT COUNT(*), COALESCE(MAX(s.person_id), 0) FROM (
  SELECT l.person_id FROM benefit_award_line l
  WHERE l.region = :region AND l.status = 'active' AND l.person_id > :cursor
  ORDER BY l.person_id LIMIT :limit) s
"""

_CHUNK = f"""
SELECT l.id AS line_id, l.award_id, l.person_id AS owner_id, l.payee_type, l.payee_id,
       l.scheme, {_SCHEME_CASE} AS scheme_idx,
       CASE WHEN l.fund_account = 'individual' THEN 1 ELSE 0 END AS from_account,
       l.amount_fen,
       CASE WHEN l.payee_type = 'person' THEN l.payee_id ELSE l.person_id END AS pay_person,
       CASE WHEN l.payee_type = 'fund' THEN 1
            WHEN l.payee_type = 'person' AND COALESCE(p.bank_account, '') <> '' THEN 1
            WHEN l.payee_type = 'employer' AND COALESCE(e.bank_account, '') <> '' THEN 1
            ELSE 0 END AS has_bank,
       CASE WHEN l.payee_type = 'employer' THEN e.bank_name ELSE p.bank_name END AS bank_name,
       CASE WHEN l.payee_type = 'employer' THEN e.bank_account ELSE p.bank_account END
            AS bank_account
FROM benefit_award_line l
LEFT JOIN ({registry_queries.payees_sql()}) p
     ON l.payee_type = 'person' AND p.person_id = l.payee_id
LEFT JOIN ({registry_queries.employer_payees_sql()}) e
     ON l.payee_type = 'employer' AND e.employer_id = l.payee_id
WHERE l.region = :region AND l.status = 'active'
  AND l.person_id > :cursor AND l.person_id <= :hi
  AND l.start_month <= :month
  AND (l.kind = 'once' OR l.end_month IS NULL OR l.end_month > :month)
  AND (l.payee_type <> 'person' OR (p.person_id IS NOT NULL AND p.status <> 'merged'
       AND (p.death_date IS NULL OR p.death_date >= :month)))
  AND NOT EXISTS (SELECT 1 FROM benefit_suspension s WHERE s.award_id = l.award_id
        AND s.from_month <= :month AND (s.to_month IS NULL OR s.to_month > :month))
  AND NOT EXISTS (SELECT 1 FROM payment x WHERE x.line_id = l.id AND x.line_id <> 0
        AND x.status IN ('computed', 'sent', 'paid')
        AND (l.kind = 'once' OR x.month = :month))
  AND NOT EXISTS (SELECT 1 FROM benefit_transfer bt WHERE bt.line_id = l.id
        AND (l.kind = 'once' OR bt.month = :month))
"""

_INSERT = """
INSERT INTO payment (run_id, person_id, award_id, region, month, attempt, amount_fen,
                     account_part_fen, bank_name, bank_account, end_to_end_id, status,
                     status_at, scheme, line_id, payee_type, payee_id)
SELECT :rid, c.pay_person, c.award_id, :region, :month, 1, c.amount_fen,
       CASE WHEN c.from_account = 1 THEN c.amount_fen ELSE 0 END,
       c.bank_name, c.bank_account,
       'PA' || CAST(:rid AS TEXT) || '-' || CAST(c.line_id AS TEXT) || '-1',
       'computed', :t, c.scheme, c.line_id, c.payee_type, c.payee_id
FROM c WHERE c.has_bank = 1 AND c.payee_type <> 'fund'
ORDER BY c.line_id
"""
_TRANSFERS = f"""
INSERT INTO benefit_transfer (run_id, line_id, award_id, person_id, region, month, scheme,
                              target_scheme, amount_fen, created_at)
SELECT :rid, c.line_id, c.award_id, c.owner_id, :region, :month, c.scheme,
       CASE c.payee_id {" ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(SCHEMES))} END,
       c.amount_fen, :t
FROM c WHERE c.payee_type = 'fund'
"""

_INTS = """
SELECT CAST(c.owner_id AS BIGINT), CAST(c.amount_fen AS BIGINT), CAST(c.scheme_idx AS BIGINT),
       CAST(c.from_account AS BIGINT), CAST(c.has_bank AS BIGINT),
       CAST(CASE WHEN c.payee_type = 'fund' THEN c.payee_id ELSE -1 END AS BIGINT)
FROM c
"""


def chunk(conn, actor: Actor, run_row: dict, limit: int) -> tuple[int, int] | None:
    """One keyset chunk of award lines after the run's ``award_cursor``; None when done."""
    rid, region = run_row["id"], run_row["region"]
    month = run_row["month"]
    month = month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month)[:10])
    cursor = run_row["award_cursor"]
    n, hi = conn.execute(text(_BOUND), {"region": region, "cursor": cursor,
                                        "limit": limit}).one()
    if n == 0:
        return None
    params = {"rid": rid, "region": region, "month": month, "cursor": cursor, "hi": hi,
              "t": _now()}
    # the payments and the fund transfers of the chunk from the same selected lines. The
    # payees (and what was paid) are found by index per line: a payee is any registered
    # person (a dependant, an heir), so the persons cannot be bounded by the chunk's range,
    # and a merge join would read the person table from its start for every chunk.
    with for_index_probes(conn):
        m = insert_and_read_ints(conn, _CHUNK, (_INSERT, _TRANSFERS), _INTS, params, 6,
                                 types=(bindparam("month", type_=Date()),
                                        bindparam("t", type_=payment.c.status_at.type)))
    owner, amount, sidx, from_acct, has_bank, target = (m[:, i] for i in range(6)) if len(m) \
        else (np.zeros(0, np.int64),) * 6
    bank_pay = (has_bank == 1) & (target < 0)
    fund = target >= 0
    held = int(((has_bank == 0)).sum())
    entries = []
    for s in np.unique(sidx[bank_pay | fund]) if len(m) else []:
        scheme = SCHEMES[int(s)]
        sel = bank_pay & (sidx == s)
        total = int(amount[sel].sum())
        acct = sel & (from_acct == 1)
        acct_total = int(amount[acct].sum())
        lines = []
        if total:
            lines.append(Line.credit(account_code(region, scheme, "benefits_payable"), total))
            if total - acct_total:
                lines.append(Line.debit(account_code(region, scheme, "pooled_fund"),
                                        total - acct_total))
        fsel = fund & (sidx == s)
        ftotal = int(amount[fsel].sum())
        if ftotal:
            lines += [Line.debit(account_code(region, scheme, "pooled_fund"), ftotal),
                      Line.credit(account_code(region, scheme, "transfer_clearing"), ftotal)]
        pids = amts = None
        if acct_total:
            pids, inv = np.unique(owner[acct], return_inverse=True)
            amts = np.zeros(len(pids), np.int64)
            np.add.at(amts, inv, amount[acct])
        if lines:
            entries.append(BatchEntry(region, scheme, month, tuple(lines), pids, amts,
                                      source="payroll",
                                      memo=f"benefit payroll {month_str(month)} run {rid}"))
        for t in np.unique(target[fsel]):
            tf = int(amount[fsel & (target == t)].sum())
            tsch = SCHEMES[int(t)]
            entries.append(BatchEntry(region, tsch, month, (
                Line.debit(account_code(region, tsch, "transfer_clearing"), tf),
                Line.credit(account_code(region, tsch, "pooled_fund"), tf)), source="payroll",
                memo=f"premiums paid by the {scheme} fund, run {rid}"))
    if entries:
        ledger.post_batch(conn, actor, f"payroll-awards:{rid}:{cursor + 1}-{hi}",
                          Batch(entries))
    n_pay = int(bank_pay.sum())
    total = int(amount[bank_pay].sum())
    acct_total = int(amount[bank_pay & (from_acct == 1)].sum())
    conn.execute(update(payroll_run).where(payroll_run.c.id == rid).values(
        award_cursor=int(hi), n_payments=payroll_run.c.n_payments + n_pay,
        total_fen=payroll_run.c.total_fen + total,
        account_part_fen=payroll_run.c.account_part_fen + acct_total))
    if held:
        audit.record(conn, actor, "payroll.run.held", "payroll_run", rid,
                     detail={"reason": "no bank account (benefit award lines)", "count": held,
                             "person_ids": sorted(set(owner[has_bank == 0].tolist()))[:50]})
    return int(n), held


_UNPAYABLE = """
SELECT p.id, p.scheme, p.amount_fen, p.account_part_fen, l.person_id AS owner
FROM payment p JOIN benefit_award_line l ON l.id = p.line_id
WHERE p.run_id = :r AND p.status = 'computed' AND p.line_id <> 0
  AND (l.status <> 'active'
       OR (l.kind = 'monthly' AND l.end_month IS NOT NULL AND l.end_month <= p.month)
       OR EXISTS (SELECT 1 FROM benefit_suspension s WHERE s.award_id = l.award_id
            AND s.from_month <= p.month AND (s.to_month IS NULL OR s.to_month > p.month)))
ORDER BY p.id
"""


def cancel_unpayable(conn, actor: Actor, r: dict) -> int:
    """Before release: award-line payments whose line was stopped or suspended since the run
    was computed are cancelled and their ledger share reversed."""
    rows = conn.execute(text(_UNPAYABLE), {"r": r["id"]}).all()
    if not rows:
        return 0
    month = r["month"] if isinstance(r["month"], dt.date) else \
        dt.date.fromisoformat(str(r["month"])[:10])
    region = r["region"]
    entries = []
    for scheme in sorted({x.scheme for x in rows}):
        sel = [x for x in rows if x.scheme == scheme]
        total = sum(int(x.amount_fen) for x in sel)
        acct = [x for x in sel if x.account_part_fen]
        acct_total = sum(int(x.account_part_fen) for x in acct)
        lines = [Line.debit(account_code(region, scheme, "benefits_payable"), total)]
        if total - acct_total:
            lines.append(Line.credit(account_code(region, scheme, "pooled_fund"),
                                     total - acct_total))
        pids = amts = None
        if acct:
            owners = np.array([x.owner for x in acct], np.int64)
            pids, inv = np.unique(owners, return_inverse=True)
            amts = np.zeros(len(pids), np.int64)
            np.add.at(amts, inv, -np.array([x.account_part_fen for x in acct], np.int64))
        entries.append(BatchEntry(region, scheme, month, tuple(lines), pids, amts,
                                  source="payroll",
                                  memo=f"run {r['id']}: award payments stopped before release"))
    ledger.post_batch(conn, actor, f"payroll-awards-cancel:{r['id']}", Batch(entries))
    ids = [x.id for x in rows]
    conn.execute(update(payment).where(payment.c.id.in_(ids)).values(
        status="cancelled", status_at=_now(), return_reason="stopped before release"))
    conn.execute(update(payroll_run).where(payroll_run.c.id == r["id"]).values(
        n_payments=payroll_run.c.n_payments - len(ids),
        total_fen=payroll_run.c.total_fen - sum(int(x.amount_fen) for x in rows),
        account_part_fen=payroll_run.c.account_part_fen
        - sum(int(x.account_part_fen) for x in rows)))
    return len(ids)
