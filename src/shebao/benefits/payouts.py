"""Pension payouts: the payment files of an approved run (pain.001.001.09 and CSV), the bank's
returns (camt.053 of the payout account or CSV), confirmed failures and their re-issue. The
ledger entries are listed in :mod:`.payroll`."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import and_, func, insert, select, text, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.db.uow import now as _now
from shebao.db.uow import transaction
from shebao.formats import camt053, pain001, returns_csv
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, EntryRequest, Line, account_code
from shebao.notices import bulk
from shebao.registry import queries as registry_queries
from shebao.security import audit, maker_checker as mc

from . import award_lines
from .access import require_in_region
from .model import outcomes_of_csv, outcomes_of_statement
from .tables import bank_return, payment, payroll_run
from .payroll import PAYMENT_COLUMNS, SCHEME, _date, get_run, e2e_id

FILE_MAX_TX = 20_000      # payments per pain.001 file (bounded memory; not law)


# ------------------------------------------------------------------------------ notices
# ``payment.made``: one notice per payee of the payments a release (or a re-issue) sent — the
# person paid (pensioner, beneficiary, dependant, heir) or the employer paid (a maternity
# allowance, costs it advanced) — with the sum paid to it. Set-based (``notices.bulk.
# enqueue_from``: one INSERT … SELECT per payee type over this derived table), in the
# release's transaction, keyed per run (and re-issue) × payee: a replay adds nothing.
_PAYEES = """
SELECT {rid} AS recipient_id, MIN(p.region) AS region, SUM(p.amount_fen) AS amount_fen,
       COUNT(*) AS payments
FROM payment p
WHERE p.run_id = :run AND p.status = 'sent' AND p.payee_type = :ptype AND {which}
GROUP BY {rid}
"""


def _notify_paid(conn, run_id: int, month: dt.date, paid_on: dt.date, which: str,
                 key: str) -> int:
    """Enqueue ``payment.made`` for the payees of the run's sent payments ``which`` selects
    (SQL over ``p``); ``key`` tells a re-issue from the release."""
    data = {"benefit_zh": f"{month.year}年{month.month}月社会保险待遇",
            "benefit_en": f"social insurance benefits for {month_str(month)}",
            "paid_on": paid_on.isoformat(), "month": month_str(month), "run_id": run_id}
    n = 0
    for ptype, rid in (("person", "p.person_id"), ("employer", "p.payee_id")):
        n += bulk.enqueue_from(conn, _PAYEES.format(rid=rid, which=which),
                               {"run": run_id, "ptype": ptype}, recipient_type=ptype,
                               template="payment.made",
                               key_prefix=f"payment.made:{run_id}:{key}:{ptype}:", data=data,
                               int_columns=("amount_fen", "payments"))
    return n


# ------------------------------------------------------------------------------ release
@dataclass
class Released:
    run_id: int
    files: list[dict]
    n_payments: int
    total_fen: int
    replayed: bool = False


def _write_files(pages, out_dir: Path, stem: str, debtor: pain001.Debtor,
                 execution_date: dt.date, remittance: str, formats) -> tuple[list[dict], int, int]:
    """Write one file per page of payments (≤ FILE_MAX_TX); returns (files, count, total).
    pain.001 is streamed to disk and validated as written (``pain001.write_file``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files, count, grand = [], 0, 0
    for part, sl in enumerate(pages, start=1):
        _, e2e, amounts, banks, accounts, names = zip(*sl)
        banks = [b or "" for b in banks]
        cols = (e2e, names, banks, accounts, amounts)
        page_total = sum(int(a) for a in amounts)
        count += len(sl)
        grand += page_total
        for fmt in formats:
            if fmt == "xml":
                path = out_dir / f"{stem}-{part}.pain.001.xml"
                sha = pain001.write_file(path, f"{stem}-{part}", debtor, execution_date, *cols,
                                         remittance)["sha256"]
            elif fmt == "csv":
                path = out_dir / f"{stem}-{part}.csv"
                data = pain001.build_csv(execution_date, *cols, remittance)
                tmp = path.with_suffix(path.suffix + ".part")
                tmp.write_bytes(data)
                tmp.replace(path)
                sha = hashlib.sha256(data).hexdigest()
                del data
            else:
                raise InputError(f"unknown format {fmt!r} (xml, csv)", field="format")
            files.append({"path": str(path), "sha256": sha, "payments": len(sl), "format": fmt,
                          "total": fen_to_yuan_str(page_total)})
    return files, count, grand


def _pages(conn, where: str, params: dict):
    """Payments for files, FILE_MAX_TX at a time, keyset by payment id."""
    last = 0
    while True:
        page = conn.execute(text(
            "SELECT p.id, p.end_to_end_id, p.amount_fen, p.bank_name, p.bank_account, "
            "CASE WHEN p.payee_type = 'employer' THEN e.name ELSE r.name END AS name "
            f"FROM payment p JOIN ({registry_queries.payees_sql()}) r "
            "ON r.person_id = p.person_id "
            f"LEFT JOIN ({registry_queries.employer_payees_sql()}) e "
            "ON p.payee_type = 'employer' AND e.employer_id = p.payee_id WHERE " + where +
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
        r = get_run(conn, run_id, lock=True)
        require_in_region(actor, "payroll.prepare", r["region"])
        if r["status"] == "released":
            return Released(run_id, json.loads(r["files"] or "[]"), r["n_payments"],
                            r["total_fen"], replayed=True)
        mc.require_approved(conn, mc.PAYROLL, "payroll_run", run_id)
        if r["status"] != "approved":
            raise ConflictError(f"payroll run {run_id} is {r['status']}, not approved")
        month = _date(r["month"])
        cancelled = _cancel_stopped(conn, actor, r) + award_lines.cancel_unpayable(conn, actor, r)
        if cancelled:
            r = get_run(conn, run_id)
        files, n, total = _write_files(
            _pages(conn, "p.run_id = :r AND p.status = 'computed' AND p.attempt = 1",
                   {"r": run_id}), out_dir, f"PY{run_id}-{r['region']}-{month_str(month)}",
            debtor, execution_date, f"养老金 {month_str(month)}", formats)
        if total != r["total_fen"] or n != r["n_payments"]:
            for f in files:      # never leave files that disagree with the books
                Path(f["path"]).unlink(missing_ok=True)
            raise InvariantError(f"run {run_id}: payments ({n}, {total}) disagree with "
                                 f"the run ({r['n_payments']}, {r['total_fen']})")
        by_scheme = _by_scheme(conn, "run_id = :r AND status = 'computed'", {"r": run_id})
        conn.execute(update(payment).where(and_(payment.c.run_id == run_id,
                                                payment.c.status == "computed")).values(
            status="sent", status_at=_now()))
        if total:
            ledger.post_entry(conn, actor, f"payroll-release:{run_id}", EntryRequest(
                execution_date, _bank_lines(r["region"], by_scheme, out=True),
                source="payroll", memo=f"payroll run {run_id} paid to banks"))
        conn.execute(update(payroll_run).where(payroll_run.c.id == run_id).values(
            status="released", released_by=actor.id, released_at=_now(),
            files=json.dumps(files, ensure_ascii=False)))
        notices = _notify_paid(conn, run_id, month, execution_date, "p.attempt = 1",
                               "release")
        audit.record(conn, actor, "payroll.release", "payroll_run", run_id,
                     detail={"files": files, "total": fen_to_yuan_str(total),
                             "cancelled_after_death_or_failed_certification": cancelled,
                             "payment_notices": notices})
        return Released(run_id, files, n, total)


def _by_scheme(conn, where: str, params: dict) -> dict[str, int]:
    """Σ amount per scheme of the payments matching ``where`` (pensions and award lines)."""
    return {sch: int(t) for sch, t in conn.execute(text(
        f"SELECT scheme, SUM(amount_fen) FROM payment WHERE {where} GROUP BY scheme "
        "ORDER BY scheme"), params).all() if t}


def _bank_lines(region: str, by_scheme: dict[str, int], *, out: bool) -> tuple:
    """Payments to banks (``out``: Dr benefits_payable, Cr fund_bank) or money returned
    (Dr fund_bank, Cr benefits_payable), one pair of lines per scheme."""
    lines = []
    for sch, fen in sorted(by_scheme.items()):
        pay, bank = account_code(region, sch, "benefits_payable"), account_code(region, sch,
                                                                                "fund_bank")
        lines += ([Line.debit(pay, fen), Line.credit(bank, fen)] if out
                  else [Line.debit(bank, fen), Line.credit(pay, fen)])
    return tuple(lines)


_STOPPED = """
SELECT p.id, p.person_id, p.amount_fen, p.account_part_fen FROM payment p
JOIN ({payees}) r ON r.person_id = p.person_id
WHERE p.run_id = :r AND p.status = 'computed' AND p.line_id = 0
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
    rows = conn.execute(text(_STOPPED.format(payees=registry_queries.payees_sql())),
                        {"r": r["id"], "month": month}).all()
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
                                         payment.c.run_id, payment.c.scheme).where(
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
        by_region: dict[str, dict[str, int]] = {}
        for p, reason in failed:
            conn.execute(update(payment).where(payment.c.id == p.id).values(
                status="returned", status_at=t, return_reason=(reason or "returned")[:200]))
            g = by_region.setdefault(p.region, {})
            g[p.scheme] = g.get(p.scheme, 0) + int(p.amount_fen)
        fid = conn.execute(insert(bank_return).values(
            file_name=path.name, sha256=sha, format=fmt, n_paid=len(paid_ids),
            n_failed=len(failed), n_unknown=len(unknown), received_by=actor.id,
            received_at=t).returning(bank_return.c.id)).scalar_one()
        for region, fens in sorted(by_region.items()):
            ledger.post_entry(conn, actor, f"payroll-return:{sha[:16]}:{region}", EntryRequest(
                t.date(), _bank_lines(region, fens, out=False),
                source="payroll", memo=f"returned payments, bank file {path.name}"))
        audit.record(conn, actor, "payroll.returns.import", "bank_return", fid,
                     detail={"file": path.name, "sha256": sha, "paid": len(paid_ids),
                             "failed": len(failed), "unknown": unknown[:50]})
        return ReturnResult(fid, len(paid_ids), len(failed), len(unknown),
                            sum(sum(g.values()) for g in by_region.values()),
                            unknown_refs=unknown)


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
            require_in_region(actor, "payroll.prepare", r.region)
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
        r = get_run(conn, run_id, lock=True)
        require_in_region(actor, "payroll.prepare", r["region"])
        failed = conn.execute(text(
            "SELECT p.id, p.person_id, p.award_id, p.month, p.attempt, p.amount_fen, "
            "p.account_part_fen, p.scheme, p.line_id, p.payee_type, p.payee_id, "
            "CASE WHEN p.payee_type = 'employer' THEN e.bank_name ELSE r.bank_name END "
            "AS bank_name, CASE WHEN p.payee_type = 'employer' THEN e.bank_account "
            "ELSE r.bank_account END AS bank_account, r.death_date FROM payment p "
            f"JOIN ({registry_queries.payees_sql()}) r ON r.person_id = p.person_id "
            f"LEFT JOIN ({registry_queries.employer_payees_sql()}) e "
            "ON p.payee_type = 'employer' AND e.employer_id = p.payee_id "
            "WHERE p.run_id = :r AND p.status = 'failed' "
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
        new = [dict(zip(PAYMENT_COLUMNS, (
            run_id, f.person_id, f.award_id, r["region"], _date(f.month), f.attempt + 1,
            f.amount_fen, f.account_part_fen, f.bank_name, f.bank_account,
            e2e_id(run_id, f.person_id, f.attempt + 1, f.line_id), "sent", t, f.id)),
            scheme=f.scheme, line_id=f.line_id, payee_type=f.payee_type, payee_id=f.payee_id)
            for f in failed]
        by_scheme: dict[str, int] = {}
        for f in failed:
            by_scheme[f.scheme] = by_scheme.get(f.scheme, 0) + int(f.amount_fen)
        conn.execute(payment.insert(), new)
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
            execution_date, _bank_lines(r["region"], by_scheme, out=True),
            source="payroll", memo=f"re-issue of {n} failed payments of run {run_id}"))
        notices = _notify_paid(conn, run_id, month, execution_date,
                               "p.replaces_id IN (" + ",".join(str(int(i)) for i in ids) + ")",
                               f"R{n_before}")
        audit.record(conn, actor, "payroll.reissue", "payroll_run", run_id,
                     detail={"payments": n, "total": fen_to_yuan_str(total),
                             "replaces": ids[:200], "files": files,
                             "payment_notices": notices})
        return ReissueResult(run_id, n, total, files)
