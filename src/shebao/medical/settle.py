"""Settlement run: every ``submitted`` claim of an insured region subtree, set-based.

One transaction: claim the rows (``run_id``), read the claims and their lines joined to the
catalogue of the place of treatment as int64 matrices, what each person already had this year
(basic fund, serious-illness layer, stays) and the individual-account balances, then
``rules.formulas.medical`` (numpy, no loop over claims) computes every share; the results go
into ``medical_settlement`` in bulk (COPY on PostgreSQL) and to the ledger in one batch:

    insured region × scheme    Dr pooled_fund (basic)   Dr expenses (serious-illness layer)
                               Dr individual accounts (account use, per person)
                               Cr benefits_payable (home claims: owed to the provider)
                               Cr transfer_clearing (off-site claims: owed to the other region)
    treatment region × scheme  Dr transfer_clearing     Cr benefits_payable (its provider)

The patient's cash share never enters the fund. Caps and the account are consumed in claim
order (person, admission date, id). Policy: the insured place's parameters in force in the
month of admission; catalogue: the place of treatment's (rules-2 §2).
"""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
from sqlalchemy import insert, text, update

from shebao.core.actor import Actor
from shebao.core.money import round_half_up
from shebao.core.errors import PermissionDenied
from shebao.core.regions import check_region
from shebao.db import dialect
from shebao.db.bulk import fetch_int_matrix, insert_columns
from shebao.db.uow import now, transaction
from shebao.ledger import queries as ledger_queries
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.rules.formulas import medical as F
from shebao.rules.formulas.contribution import DEN
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import model
from .tables import SETTLED_AMOUNTS, medical_settlement_run

MEDICAL_SCHEMES = ("medical", "resident_medical")
EPOCH = np.datetime64("1970-01-01", "D")


# which claims a read takes: a run's (``:run``), or one claim for a preview (``:cid``)
OF_RUN, OF_CLAIM = "run_id = :run", "id = :cid"


def _claim_sql(conn, which: str = OF_RUN) -> str:
    return f"""
SELECT id, person_id, person_type, level, CASE WHEN inpatient THEN 1 ELSE 0 END, offsite,
       CASE WHEN use_account THEN 1 ELSE 0 END, CAST(insured_region AS BIGINT),
       CAST(treatment_region AS BIGINT), CAST(catalogue_region AS BIGINT),
       CASE scheme WHEN 'medical' THEN 0 ELSE 1 END,
       {dialect.days_since_epoch(conn, "admitted_on")}, total_fen
FROM medical_claim WHERE {which}"""


_LINE_SQL = """
SELECT l.claim_id, l.amount_fen,
       CASE c.class WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE 3 END
FROM medical_claim_line l
JOIN medical_claim m ON m.id = l.claim_id
LEFT JOIN medical_catalogue_item c ON c.region = m.catalogue_region AND c.code = l.item_code
     AND c.valid_from <= m.admitted_on AND (c.valid_to IS NULL OR c.valid_to >= m.admitted_on)
WHERE m.{which}"""

_PRIOR_SQL = """
SELECT s.person_id, s.year * 10 + CASE m.scheme WHEN 'medical' THEN 0 ELSE 1 END,
       SUM(s.basic_fen), SUM(s.serious_fen), SUM(s.inpatient)
FROM medical_settlement s JOIN medical_claim m ON m.id = s.claim_id
WHERE s.person_id IN (SELECT person_id FROM medical_claim WHERE {which})
GROUP BY s.person_id, s.year * 10 + CASE m.scheme WHEN 'medical' THEN 0 ELSE 1 END"""


def _balances(conn, params: dict, regions_: list[str], which: str = OF_RUN) -> np.ndarray:
    """(region, person, balance) of the medical accounts of persons who use them in the run
    (credit-normal accounts: the stored debit-positive balance negated)."""
    out = [np.zeros((0, 3), np.int64)]
    for r in regions_:
        sql = (f"SELECT CAST(:region AS BIGINT), b.person_id, -b.balance FROM "
               f"({ledger_queries.individual_balances_sql()}) b WHERE b.person_id IN "
               f"(SELECT person_id FROM medical_claim WHERE {which} AND use_account "
               "AND insured_region = :region)")
        out.append(fetch_int_matrix(conn, sql, {"region": r, "scheme": "medical",
                                                **params}, 3))
    return np.concatenate(out)


def _read(conn, params: dict, which: str):
    """The claims, lines, the persons' year so far and the account balances of a selection."""
    claims = fetch_int_matrix(conn, _claim_sql(conn, which), params, 13)
    if not len(claims):
        return claims, None, None, None
    lines = fetch_int_matrix(conn, _LINE_SQL.format(which=which), params, 3)
    prior = fetch_int_matrix(conn, _PRIOR_SQL.format(which=which), params, 5)
    regs = sorted({f"{int(x):06d}" for x in claims[claims[:, 6] == 1, 7]})
    return claims, lines, prior, _balances(conn, params, regs, which)


def preview(bind, claim_id: int) -> dict | None:
    """The split a claim would get if it were settled now — the same reads and arithmetic as a
    run, nothing written (the clerk's view of a manual claim before deciding). Amounts in fen;
    the caller has checked and audited the read."""
    with transaction(bind) as conn:
        claims, lines, prior, balances = _read(conn, {"cid": claim_id}, OF_CLAIM)
    if not len(claims):
        return None
    _order, r, _year, sources = compute(load_rules(), claims, lines, prior, balances)
    return {a[:-4]: int(getattr(r, a[:-4])[0]) for a in SETTLED_AMOUNTS} | {
        "sources": sources}


def _lookup(keys: np.ndarray, table: np.ndarray, cols: slice, width: int) -> np.ndarray:
    """Rows of ``table`` (first column the key, sorted) for ``keys``; zeros where absent."""
    out = np.zeros((len(keys), width), np.int64)
    if len(table):
        pos = np.clip(np.searchsorted(table[:, 0], keys), 0, len(table) - 1)
        hit = table[pos, 0] == keys
        out[hit] = table[pos[hit], cols]
    return out


def compute(rules, claims: np.ndarray, lines: np.ndarray, prior: np.ndarray,
            balances: np.ndarray):
    """Pure: the matrices of a run → (order, Settled, year, sources). ``claims`` as
    ``_claim_sql``; ``lines`` (claim, amount, class); ``prior`` (person, year*10+scheme,
    basic, serious, stays); ``balances`` (region, person, balance)."""
    n = len(claims)
    days = claims[:, 11]
    year = (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) \
        + 1970
    month = (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64)
    scheme = claims[:, 10]
    order = np.lexsort((claims[:, 0], days, scheme, year, claims[:, 1]))
    c = claims[order]
    year, month, scheme = year[order], month[order], scheme[order]
    person = c[:, 1]
    key = person * 100_000 + year * 10 + scheme
    # lines → per-claim self-paid and in-scope, with the treatment place's catalogue
    cpos = np.argsort(c[:, 0])
    li = cpos[np.searchsorted(c[cpos, 0], lines[:, 0])] if len(lines) else np.zeros(0, int)
    sources: dict[str, dict] = {}
    nums = np.zeros((n, len(F.CLASSES)), np.int64)
    for reg in np.unique(c[:, 9]):
        for m in np.unique(month[c[:, 9] == reg]):
            on = (np.datetime64(int(m), "M").astype("datetime64[D]")).astype(dt.date)
            row, src = F.catalogue_nums(rules, f"{int(reg):06d}", on)
            sources[json.dumps(src, sort_keys=True)] = src
            nums[(c[:, 9] == reg) & (month == m)] = row
    self_line = round_half_up(lines[:, 1] * nums[li, lines[:, 2]], DEN)
    scope_line = lines[:, 1] - self_line
    self_paid = np.zeros(n, np.int64)
    scope = np.zeros(n, np.int64)
    np.add.at(self_paid, li, self_line)
    np.add.at(scope, li, scope_line)
    # the person's year so far
    pk = prior[:, 0] * 100_000 + prior[:, 1] if len(prior) else np.zeros(0, np.int64)
    ptab = np.column_stack([pk, prior[:, 2:5]]) if len(prior) else np.zeros((0, 4), np.int64)
    ptab = ptab[np.argsort(ptab[:, 0])]
    had = _lookup(key, ptab, slice(1, 4), 3)
    inp = c[:, 4] == 1
    stays_before = F.group_cumsum(key, inp.astype(np.int64)) - inp
    first = inp & (had[:, 2] + stays_before == 0)
    # policy of the insured place, per region × month of admission
    ptype = c[:, 2]
    raw = np.zeros(n, np.int64)
    above = np.zeros(n, np.int64)
    ded = np.zeros(n, np.int64)
    cap = np.zeros(n, np.int64)
    s_num = np.zeros(n, np.int64)
    s_cap = np.zeros(n, np.int64)
    for reg in np.unique(c[:, 7]):
        for m in np.unique(month[c[:, 7] == reg]):
            sel = (c[:, 7] == reg) & (month == m)
            on = (np.datetime64(int(m), "M").astype("datetime64[D]")).astype(dt.date)
            pol = F.policy(rules, f"{int(reg):06d}", on)
            for s in pol.sources:
                sources[json.dumps(s, sort_keys=True)] = s
            red = np.array([pol.reduction[o] for o in F.OFFSITE], np.int64)[c[sel, 5]]
            ded[sel] = F.deductible(pol.deductibles[ptype[sel]], first[sel], inp[sel],
                                    scope[sel])
            raw[sel], above[sel] = F.band_fund(pol.bands, F.group_index(ptype[sel], c[sel, 3]),
                                               scope[sel], ded[sel], red)
            cap[sel] = pol.cap[ptype[sel]]
            s_num[sel], s_cap[sel] = pol.serious_num, pol.serious_cap
    bal = np.zeros(n, np.int64)
    if len(balances):
        bk = balances[:, 0] * 10**12 + balances[:, 1]
        btab = np.column_stack([bk, balances[:, 2]])
        btab = btab[np.argsort(btab[:, 0])]
        bal = _lookup(c[:, 7] * 10**12 + person, btab, slice(1, 2), 1)[:, 0]
    r = F.after_bands(person=key, account_key=person, total=c[:, 12], self_paid=self_paid,
                      scope=scope, inpatient=inp, ded=ded, raw=raw, above=above,
                      cap_left=cap - had[:, 0], serious_num=s_num,
                      serious_left=s_cap - had[:, 1], balance_left=bal,
                      use_account=c[:, 6] == 1)
    return order, r, year, list(sources.values())


def ledger_batch(c: np.ndarray, r, run_id: int, on: dt.date) -> Batch | None:
    """The run's ledger batch (see the module docstring); ``c`` claims in settlement order."""
    fund = r.basic + r.serious + r.account
    offsite = c[:, 5] > 0
    lines: dict[tuple[str, str], dict[str, int]] = {}
    persons: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def add(region, scheme, kind, amount):
        if amount:
            acc = lines.setdefault((region, scheme), {})
            code = account_code(region, scheme, kind)
            acc[code] = acc.get(code, 0) + int(amount)

    for reg in np.unique(c[:, 7]):
        for si, scheme in enumerate(MEDICAL_SCHEMES):
            sel = (c[:, 7] == reg) & (c[:, 10] == si)
            if not sel.any():
                continue
            region = f"{int(reg):06d}"
            add(region, scheme, "pooled_fund", r.basic[sel].sum())
            add(region, scheme, "expenses", r.serious[sel].sum())
            add(region, scheme, "benefits_payable", -fund[sel & ~offsite].sum())
            add(region, scheme, "transfer_clearing", -fund[sel & offsite].sum())
            acct = sel & (r.account > 0)
            if acct.any():
                pids, inv = np.unique(c[acct, 1], return_inverse=True)
                amt = np.zeros(len(pids), np.int64)
                np.add.at(amt, inv.reshape(-1), r.account[acct])
                persons[(region, scheme)] = (pids, amt)
    for reg in np.unique(c[offsite, 8]):
        for si, scheme in enumerate(MEDICAL_SCHEMES):
            sel = offsite & (c[:, 8] == reg) & (c[:, 10] == si)
            region = f"{int(reg):06d}"
            add(region, scheme, "transfer_clearing", fund[sel].sum())
            add(region, scheme, "benefits_payable", -fund[sel].sum())
    entries = []
    for (region, scheme), acc in sorted(lines.items()):
        ls = tuple(Line(code, amt) for code, amt in sorted(acc.items()) if amt)
        pids, amts = persons.get((region, scheme), (None, None))
        if not ls and pids is None:
            continue
        entries.append(BatchEntry(region, scheme, on, ls, pids, amts, source="medical.settle",
                                  memo=f"medical settlement run {run_id}"))
    return Batch(entries) if entries else None


def settle(bind, actor: Actor, region: str, *, on: dt.date | None = None,
           claim_id: int | None = None) -> dict:
    """Settle every submitted claim insured in the ``region`` subtree (or only ``claim_id``,
    a manual claim just approved); returns the run."""
    check_region(region)
    policy.require(actor, "medical.settle")
    if not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope")
    rules = load_rules()
    with transaction(bind) as conn:
        dialect.xact_lock(conn, model.LOCK_NS, "settle")
        on = on or now().date()
        run_id = conn.execute(insert(medical_settlement_run).values(
            region=region, on_date=on, claims=0, lines=0, totals="{}", sources="[]",
            actor=actor.id, started_at=now()).returning(medical_settlement_run.c.id)).scalar_one()
        like = model.subtree_like(region)
        one = "" if claim_id is None else " AND id = :cid"
        conn.execute(text("UPDATE medical_claim SET run_id = :run WHERE status = 'submitted' "
                          f"AND insured_region LIKE :like{one}"),
                     {"run": run_id, "like": like, "cid": claim_id})
        claims, lines, prior, balances = _read(conn, {"run": run_id}, OF_RUN)
        result = {"run_id": run_id, "claims": int(len(claims)), "lines": 0}
        if len(claims):
            order, r, year, sources = compute(rules, claims, lines, prior, balances)
            c = claims[order]
            insert_columns(conn, "medical_settlement", [
                ("claim_id", "i8"), ("run_id", "i8"), ("person_id", "i8"), ("year", "i4"),
                ("inpatient", "i4"), ("offsite", "i4")] + [(a, "i8") for a in SETTLED_AMOUNTS],
                {"claim_id": c[:, 0], "run_id": run_id, "person_id": c[:, 1],
                 "year": year.astype(np.int32), "inpatient": c[:, 4].astype(np.int32),
                 "offsite": c[:, 5].astype(np.int32),
                 **{a: getattr(r, a[:-4]) for a in SETTLED_AMOUNTS}})
            conn.execute(text("UPDATE medical_claim SET status = 'settled' WHERE run_id = :run"),
                         {"run": run_id})
            batch = ledger_batch(c, r, run_id, on)
            if batch is not None:
                for reg in sorted({e.region for e in batch.entries}):
                    ledger.open_chart(conn, actor, reg, MEDICAL_SCHEMES)
                ledger.post_batch(conn, actor, f"medical-settle:{run_id}", batch,
                                  open_missing=True)
            totals = {a[:-4]: int(getattr(r, a[:-4]).sum()) for a in SETTLED_AMOUNTS}
            result |= {"lines": int(len(lines)), **totals}
            conn.execute(update(medical_settlement_run).where(
                medical_settlement_run.c.id == run_id).values(
                claims=len(claims), lines=len(lines), totals=json.dumps(totals),
                sources=json.dumps(sources, ensure_ascii=False), finished_at=now()))
        audit.record(conn, actor, "medical.settle", "medical_settlement_run", run_id,
                     detail={k: v for k, v in result.items() if k != "run_id"})
    return result


__all__ = ["settle", "preview", "compute", "ledger_batch"]
