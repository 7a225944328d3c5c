"""The pension stage of ``shebao demo``: ``run(engine, region) -> list[str]``.

Called by the lead's demo after the registry generated ``region`` and the collection bureau ran
its monthly cycles (``devtools.demo_collection.run_months``). Through the public services only:

1. **Demo month.** The earliest month after the first collected month (so at least one month
   shebao itself collected lies before retirement) in which someone of the region with an
   employee or flexible pension enrolment reaches statutory retirement age — chosen from the
   data, never by altering people. Deterministic, so a second run picks the same month.
2. **Open** the cases of that month (``determination.open_batch``); a woman's category (worker
   or cadre, not in the registry) is given as the one whose retirement falls in the month.
3. **Legacy record** for the pension-enrolled among them: yearly periods (July–June) ending the
   month before shebao's first collected month, at a per-person multiple of the region's average
   wage (``record_histories``, source ``legacy import (synthetic demo)``), and an opening
   individual-account balance through the ledger — one clearly labelled ``legacy-migration``
   batch entry (Dr fund special account, Cr individual accounts), Σ legacy bases × the employee
   rate in force. Some get fewer than 15 years, so "short of the minimum" shows. Persons with
   only the resident scheme get no employee-pension history: their cases stay incomplete.
4. **Compute** (``recompute_cases``): the record is legacy + shebao's own paid months.
5. **Maker-checker**: a maker clerk submits each computed case, a different checker approves.
6. **Payroll** of the month after the demo month: run, submit (maker), approve (checker),
   release to ``var/benefits/demo`` (pain.001 + CSV).

Idempotent: open_batch opens nobody twice, history is recorded once per person (source
checked), the migration entry has a fixed ledger key (replayed), payroll is one run per
region × month and a released run returns its files.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import text

from shebao.formats import pain001
from shebao.core.actor import Actor
from shebao.core.money import apply_rate, fen_to_yuan_str, round_half_up, to_fen
from shebao.core.periods import add_months, month_str
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import CATEGORIES, statutory_retirement

from shebao.benefits import decision_record
from shebao.benefits import determination as det
from shebao.benefits import payouts, payroll

from .demo_users import demo_account

DEMO_SOURCE = "legacy import (synthetic demo)"
MIGRATION_SOURCE = "benefits.legacy-migration"
HORIZON_MONTHS = 120          # how far after the first collected month to look for retirements
DEBTOR = pain001.Debtor("社会保险基金 养老金支出户 (demo)", "31050161393600000001",
                        "中国建设银行 (demo)")


def _actors(engine, region: str) -> tuple[Actor, Actor, Actor]:
    """The maker and the checker: two real benefits-clerk accounts of the region; the legacy
    migration is the system's (a one-off data load, not a clerk's decision)."""
    return (demo_account(engine, "maker", "benefits_clerk", region, "待遇经办"),
            demo_account(engine, "checker", "benefits_clerk", region, "待遇复核"),
            Actor(id="demo:legacy-migration", role="system"))


def _prefix(region: str) -> str:
    """LIKE pattern of a region subtree (310000 → 31%, 310100 → 3101%, 310104 → 310104)."""
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


def _d(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def _midx(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _retirement_months(rules, region: str, rows) -> dict[int, dict[str, int]]:
    """{person: {category: month index of statutory retirement}} (men: male; women: both);
    ``rows``: (person id, sex, birth date) — vectorised per category, no loop over people."""
    out: dict[int, dict[str, int]] = {}
    if not rows:
        return out
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    sex = np.array([r[1] or "" for r in rows])
    bd = [_d(r[2]) for r in rows]
    y = np.array([d.year for d in bd]); m = np.array([d.month for d in bd])
    day = np.array([d.day for d in bd])
    for cat in CATEGORIES:
        want = (sex == "M") if cat == "male" else (sex == "F")
        if not want.any():
            continue
        rr = statutory_retirement(rules, y[want], m[want], day[want], cat, region)
        for pid, yy, mm in zip(ids[want], rr.year, rr.month):
            out.setdefault(int(pid), {})[cat] = int(yy) * 12 + int(mm) - 1
    return out


def _legacy_rows(rules, region: str, pid: int, birth: dt.date, first: dt.date) -> list[dict]:
    """Synthetic yearly periods ending the month before ``first``; deterministic per person."""
    years = 10 + (pid * 7) % 21                      # 10–30 years: some short of 15
    num = 60 + (pid * 37) % 141                       # base = 0.60–2.00 × the average wage
    adult = dt.date(birth.year + 18, birth.month, 1)
    rows = []
    for k in range(years):
        start = add_months(first, -12 * (k + 1))
        if start < adult:
            break
        w = rules.get("wage.average_monthly", region, start)
        if w is None or rules.get("contribution.pension.employee_rate", region, start) is None:
            break
        rows.append(dict(region=region, period_start=start, months=12,
                         base_total_fen=round_half_up(to_fen(w) * 12 * num, 100),
                         source=DEMO_SOURCE))
    return rows


def run(engine, region: str, *, out_dir=None) -> list[str]:
    out_dir = Path(out_dir or Path("var") / "benefits" / "demo")
    maker, checker, migrator = _actors(engine, region)
    rules = load_rules()
    pref = _prefix(region)
    lines: list[str] = []
    with engine.connect() as c:
        first = c.execute(text("SELECT MIN(month) FROM contribution WHERE region LIKE :p"),
                          {"p": pref}).scalar_one()
        if first is None:
            return [f"no collection month in {region} yet: no contribution record to retire on"]
        first = _d(first).replace(day=1)
        enrolled = c.execute(text(
            "SELECT p.id, p.sex, p.birth_date FROM person p WHERE p.status = 'active' "
            "AND p.birth_date IS NOT NULL AND p.pension_region LIKE :p AND EXISTS (SELECT 1 "
            "FROM enrolment e WHERE e.person_id = p.id AND e.scheme = 'pension' "
            "AND e.kind IN ('employee', 'flexible')) ORDER BY p.id"), {"p": pref}).all()
    # 1. the demo month, from the data
    ret = _retirement_months(rules, region, enrolled)
    lo, hi = _midx(first) + 1, _midx(first) + HORIZON_MONTHS
    cands = [mi for cats in ret.values() for mi in cats.values() if lo <= mi <= hi]
    if not cands:
        return [f"nobody with an employee or flexible pension enrolment in {region} reaches "
                f"statutory retirement age between {month_str(add_months(first, 1))} and "
                f"{month_str(add_months(first, HORIZON_MONTHS))}: no case to open"]
    mi = min(cands)
    month = dt.date(mi // 12, mi % 12 + 1, 1)
    lines.append(f"demo month {month_str(month)}: the first month after {month_str(first)} "
                 f"(shebao's first collected month) in which someone of {region} with an "
                 f"employee/flexible pension enrolment reaches statutory retirement age")

    # 2. open the cases of the month (nobody twice)
    batch = det.open_batch(engine, maker, region, month)
    with engine.connect() as c:
        cases = c.execute(text(
            "SELECT c.id, c.person_id, c.category, c.status, c.region, p.sex, p.birth_date "
            "FROM pension_case c JOIN person p ON p.id = c.person_id WHERE c.opened_by = :m "
            "AND c.region LIKE :p ORDER BY c.id"), {"m": maker.id, "p": pref}).all()
    case_ret = _retirement_months(rules, region,
                                  [(r.person_id, r.sex, r.birth_date) for r in cases])
    for r in cases:       # a woman's category: the one whose retirement falls in the month
        if r.category is None and r.sex == "F" and r.status in ("open", "incomplete"):
            cat = next((k for k in ("female_worker", "female_cadre")
                        if case_ret.get(r.person_id, {}).get(k) == mi), "female_worker")
            det.set_category(engine, maker, r.id, cat)
    lines.append(f"cases: {batch.opened} opened this run for {month_str(month)}, "
                 f"{len(cases)} demo cases in all")

    # 3. legacy record and opening balances for the pension-enrolled among them
    enrolled_ids = {r.id for r in enrolled}
    births = {r.id: _d(r.birth_date) for r in enrolled}
    persons = sorted({(r.person_id, r.region) for r in cases if r.person_id in enrolled_ids})
    with engine.connect() as c:
        have = {r[0] for r in c.execute(text(
            "SELECT DISTINCT person_id FROM pension_history WHERE source = :s"),
            {"s": DEMO_SOURCE})}
    legacy = {pid: _legacy_rows(rules, reg, pid, births[pid], first) for pid, reg in persons}
    todo = {pid: rows for pid, rows in legacy.items() if pid not in have and rows}
    n_rows = det.record_histories(engine, maker, todo, source=DEMO_SOURCE) if todo else 0
    balances: dict[str, list[tuple[int, int]]] = {}
    for pid, reg in persons:
        bal = sum(apply_rate(r["base_total_fen"], Decimal(str(rules.value(
            "contribution.pension.employee_rate", reg, r["period_start"]))))
            for r in legacy[pid])
        if bal:
            balances.setdefault(reg, []).append((pid, bal))
    opening_total = sum(b for v in balances.values() for _, b in v)
    if balances:
        on = first - dt.timedelta(days=1)
        entries = []
        for reg, pb in sorted(balances.items()):
            ledger.open_chart(engine, migrator, reg, schemes=("pension",))
            total = sum(b for _, b in pb)
            entries.append(BatchEntry(
                reg, "pension", on, (Line.debit(account_code(reg, "pension", "fund_bank"),
                                                total),),
                np.array([p for p, _ in pb], dtype=np.int64),
                -np.array([b for _, b in pb], dtype=np.int64), source=MIGRATION_SOURCE,
                memo="LEGACY MIGRATION (synthetic demo): individual-account balances brought "
                     "forward from the old system"))
        ledger.post_batch(engine, migrator, f"benefits-demo:legacy-migration:{region}:"
                          f"{month_str(month)}", Batch(entries), open_missing=True)
    lines.append(f"legacy record: {len(persons)} pension-enrolled persons; {n_rows} periods "
                 f"recorded this run (source \"{DEMO_SOURCE}\"); opening individual-account "
                 f"balances {fen_to_yuan_str(opening_total)} yuan (ledger entry source "
                 f"{MIGRATION_SOURCE}, dated {first - dt.timedelta(days=1)})")

    # 4. compute: legacy + shebao's own paid months
    status = det.recompute_cases(engine, maker, [r.id for r in cases])
    # 5. maker-checker
    for cid, st in sorted(status.items()):
        if st == "computed":
            det.submit_case(engine, maker, cid)
            det.approve_case(engine, checker, cid)
    with engine.connect() as c:
        final = c.execute(text(
            "SELECT id, person_id, region, status, total_fen, decision, missing FROM "
            "pension_case WHERE opened_by = :m AND region LIKE :p ORDER BY id"),
            {"m": maker.id, "p": pref}).all()
        decisions = {r.id: decision_record.load(c, r.decision) or {} for r in final}
    by = {}
    for r in final:
        by[r.status] = by.get(r.status, 0) + 1
    approved = [r for r in final if r.status == "approved"]
    legacy_m = shebao_m = unpaid_m = 0
    for r in final:
        h = (decisions[r.id].get("inputs") or {}).get("history")
        if h:
            legacy_m += h["legacy"]["paid_months"] + h["legacy"]["deemed_months"]
            shebao_m += h["shebao"]["paid_months"]
            unpaid_m += h["shebao"]["unpaid_months"]
    why: dict[str, int] = {}
    for r in final:
        if r.status == "incomplete" and r.missing:
            first_missing = json.loads(r.missing)[0].split(":")[0]
            why[first_missing] = why.get(first_missing, 0) + 1
    lines.append(f"cases computed and approved (maker {maker.id}, checker {checker.id}): "
                 f"{len(approved)}; short of the minimum contribution months: "
                 f"{by.get('ineligible', 0)}; incomplete: {by.get('incomplete', 0)}"
                 + (" (" + "; ".join(f"{k}: {v}" for k, v in sorted(why.items())) + ")"
                    if why else ""))
    lines.append(f"contribution record counted: {legacy_m} legacy months + {shebao_m} months "
                 f"shebao collected itself; {unpaid_m} assessed but unpaid months not counted")
    for r in approved[:5]:
        inp = decisions[r.id]["inputs"]
        lines.append(f"  case {r.id}: person {r.person_id}, retires {inp['retirement_date']}, "
                     f"{inp['contribution_months']} months, index {inp['avg_index']}, "
                     f"{fen_to_yuan_str(r.total_fen)} yuan a month")
    monthly = sum(int(r.total_fen) for r in approved)
    lines.append(f"awarded: {len(approved)} pensions, {fen_to_yuan_str(monthly)} yuan a month")

    # 6. payroll of the month after
    pay_month = add_months(month, 1)
    n_pay = total_pay = 0
    files: list[dict] = []
    for reg in sorted({r.region for r in approved}):
        res = payroll.run(engine, maker, reg, pay_month)
        if res.status == "computed":
            payroll.submit(engine, maker, res.run_id)
            payroll.approve(engine, checker, res.run_id)
        rel = payouts.release(engine, maker, res.run_id, out_dir, DEBTOR,
                              pay_month.replace(day=5))
        n_pay += rel.n_payments
        total_pay += rel.total_fen
        files += rel.files
    held = len(approved) - n_pay        # awards without a bank account are held, not paid
    lines.append(f"payroll {month_str(pay_month)}: {n_pay} persons paid, total "
                 f"{fen_to_yuan_str(total_pay)} yuan (submitted by the maker, approved by the "
                 f"checker, released)" + (f"; {held} held without a bank account" if held else ""))
    lines.append(f"payment files: {len(files)} written to {out_dir}")
    for f in files:
        lines.append(f"  {f['path']} ({f['format']}, {f['payments']} payments, {f['total']})")
    return lines
