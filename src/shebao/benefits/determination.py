"""Pension determination: open a retirement case, compute it, submit, approve or reject.

    open_case(db, actor, person_id, region=..., category=None, claim="statutory",
              requested_date=None) -> int                         # opens and computes
    open_batch(db, actor, region, month) -> BatchResult           # everyone reaching age
    submit_case(db, maker, case_id) -> int                        # approval id (maker-checker)
    approve_case(db, checker, case_id) -> int                     # award id; never the maker
    reject_case(db, checker, case_id, reason=...) -> None
    get_case(db, actor, case_id, purpose=...) -> dict             # audited read
    record_history(db, actor, person_id, rows) -> int             # legacy contribution history
    record_histories(db, actor, {person_id: rows}, source=...) -> int  # many persons, one tx
    recompute_cases(db, actor, case_ids) -> {case_id: status}     # batch recompute, one audit

The contribution record a case is computed from is :func:`shebao.benefits.history.history_rows`:
legacy ``pension_history`` ∪ the pension months shebao's collection bureau assessed *and
collected in full* (a month in both counts once, from shebao's record); the decision lists each
period with its source and the months not counted with the reason.

Computation is set-based: :func:`compute_cases` reads the persons, their histories and their
individual accounts for many cases in a few queries, computes the average contribution index
exactly per person (rational arithmetic, rounded once to 1e-6), and the amounts with the
vectorised formulas of :mod:`shebao.rules.formulas.benefits`. A case ends in one of:

* ``computed``  — amounts and the decision (every input, every parameter with its legal
  reference, the arithmetic as text);
* ``incomplete`` — ``missing`` lists what is missing (no history, an average wage not in the
  rules, no individual account, the female category…); no amount is produced;
* ``ineligible`` — short of the minimum contribution months: ``options`` gives what the law
  offers (keep contributing until the minimum, or transfer to the resident scheme).

The claim region's average wage is used for every period's index (rules.md §2, calculation at
the claim place). Previous years' interest is expected in the ledger (annual crediting); the
retirement year's interest up to the retirement month is added here by the monthly-product
method at the rate in force for that year (the newest published rate if that year's is not
yet published — the decision shows which).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied, RuleError
from shebao.core.money import fen_to_yuan_str, rate_ratio, round_half_up, to_fen
from shebao.core.periods import add_months, months_between
from shebao.ledger.model import account_code
from shebao.ledger.tables import ledger_account, ledger_posting
from shebao.registry.tables import person
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import CATEGORIES, statutory_retirement
from shebao.security import audit, maker_checker as mc

from shebao.rules.formulas import benefits as F

from . import access
from . import history as H
from .access import check_case, require_in_region
from .tables import (CASE_LIVE, pension_award, pension_award_amount, pension_case,
                     pension_history)

CLAIMS = ("statutory", "early", "deferred")
CHUNK = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _tx(db):
    from shebao.ledger.service import transaction
    return transaction(db)


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


# ------------------------------------------------------------------------ history
def _clean_history(actor: Actor, person_id: int, rows: list[dict], source: str,
                   t: dt.datetime, field_prefix: str = "rows") -> list[dict]:
    clean = []
    for i, r in enumerate(rows):
        kind = r.get("kind", "paid")
        if kind not in ("paid", "deemed"):
            raise InputError("kind must be paid or deemed", field=f"{field_prefix}[{i}].kind")
        region = str(r.get("region", ""))
        if not regions.is_region_code(region) or region == regions.NATIONAL:
            raise InputError(f"{region!r} is not a region code",
                             field=f"{field_prefix}[{i}].region")
        start = r.get("period_start")
        if not isinstance(start, dt.date):
            raise InputError("period_start must be a date",
                             field=f"{field_prefix}[{i}].period_start")
        months = r.get("months")
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 12:
            raise InputError("months must be 1–12", field=f"{field_prefix}[{i}].months")
        base = r.get("base_total_fen")
        if kind == "paid" and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
            raise InputError("a paid period needs base_total_fen ≥ 0 (integer fen)",
                             field=f"{field_prefix}[{i}].base_total_fen")
        clean.append(dict(person_id=person_id, region=region, period_start=start.replace(day=1),
                          months=months, base_total_fen=base if kind == "paid" else None,
                          kind=kind, source=r.get("source", source), recorded_at=t,
                          recorded_by=actor.id))
    return clean


def record_history(db, actor: Actor, person_id: int, rows: list[dict], *,
                   source: str = "manual") -> int:
    """Record legacy contribution history rows for one person: dicts with region, period_start
    (date), months (1–12), base_total_fen (paid; Σ of the monthly bases), kind paid | deemed.
    Months shebao itself collects need no row: they come from the collection bureau."""
    clean = _clean_history(actor, person_id, rows, source, _now())
    with _tx(db) as conn:
        if clean:
            conn.execute(insert(pension_history), clean)
        audit.record(conn, actor, "pension.history.record", "person", person_id,
                     fields=["contribution_history"],
                     detail={"rows": len(clean), "source": source})
    return len(clean)


def record_histories(db, actor: Actor, rows_by_person: dict[int, list[dict]], *,
                     source: str) -> int:
    """Legacy history for many persons (a migration batch): one transaction, one bulk insert,
    one audit row naming the persons. Everything is checked before anything is written."""
    t = _now()
    clean = []
    for pid, rows in sorted(rows_by_person.items()):
        clean += _clean_history(actor, int(pid), rows, source, t, f"persons[{pid}]")
    with _tx(db) as conn:
        if clean:
            conn.execute(insert(pension_history), clean)
        audit.record(conn, actor, "pension.history.record_batch", "person_set",
                     f"{len(rows_by_person)} persons", fields=["contribution_history"],
                     detail={"rows": len(clean), "source": source,
                             "person_ids": sorted(int(p) for p in rows_by_person)})
    return len(clean)


# ------------------------------------------------------------------------ open
def _validate_claim(claim: str, requested_date):
    if claim not in CLAIMS:
        raise InputError(f"claim must be one of {', '.join(CLAIMS)}", field="claim")
    if claim != "statutory" and not isinstance(requested_date, dt.date):
        raise InputError(f"an {claim} retirement needs requested_date", field="requested_date")


def open_case(db, actor: Actor, person_id: int, *, region: str, category: str | None = None,
              claim: str = "statutory", requested_date: dt.date | None = None) -> int:
    """Open a retirement case for one person and compute it at once (one transaction)."""
    require_in_region(actor, "pension.compute", region)
    if not regions.is_region_code(region) or region == regions.NATIONAL:
        raise InputError(f"{region!r} is not a region code", field="region")
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    _validate_claim(claim, requested_date)
    with _tx(db) as conn:
        p = conn.execute(select(person.c.id, person.c.status).where(person.c.id == person_id)
                         ).first()
        if p is None:
            raise InputError(f"no person {person_id}", field="person_id")
        live = conn.execute(select(pension_case.c.id, pension_case.c.status).where(and_(
            pension_case.c.person_id == person_id, pension_case.c.status.in_(CASE_LIVE)))).first()
        if live:
            raise ConflictError(f"person {person_id} already has case {live.id} ({live.status})")
        cid = conn.execute(insert(pension_case).values(
            person_id=person_id, region=region, category=category, claim=claim,
            requested_date=requested_date, status="open", opened_by=actor.id,
            opened_at=_now()).returning(pension_case.c.id)).scalar_one()
        summary = compute_cases(conn, [cid])
        audit.record(conn, actor, "pension.case.open", "pension_case", cid,
                     detail={"person_id": person_id, "region": region, "claim": claim,
                             "status": summary.get(cid)})
        return cid


def open_case_for(db, actor: Actor, person_id: int, region: str | None = None) -> int:
    """``open_case`` from a channel: the person must be in the actor's scope; the case's region
    defaults to the region the person belongs to."""
    from shebao.registry.access import check_person
    from shebao.registry.model import person_region

    access.require_staff(actor, "pension.compute")
    with db.connect() as conn:
        facts = check_person(conn, actor, person_id)
    return open_case(db, actor, person_id, region=region or person_region(facts))


@dataclass
class BatchResult:
    region: str
    month: dt.date
    opened: int = 0
    by_status: dict = field(default_factory=dict)
    case_ids: list = field(default_factory=list)


def open_batch(db, actor: Actor, region: str, month: dt.date) -> BatchResult:
    """Open cases for everyone of ``region`` (the registry's pension_region, the subtree) who
    reaches statutory retirement age in ``month`` and has no live case. Men are ``male``;
    women's category (cadre 55 / worker 50) is not in the registry, so both possibilities are
    computed and a woman is opened when either falls in the month, with the category left for
    the clerk (the case is ``incomplete`` until it is given)."""
    require_in_region(actor, "pension.compute", region)
    month = month.replace(day=1)
    rules = load_rules()
    res = BatchResult(region, month)
    with _tx(db) as conn:
        rows = conn.execute(text(
            "SELECT p.id, p.sex, p.birth_date, p.pension_region FROM person p "
            "WHERE p.status = 'active' AND p.birth_date IS NOT NULL "
            "AND p.pension_region LIKE :pref AND NOT EXISTS (SELECT 1 FROM pension_case c "
            "WHERE c.person_id = p.id AND c.status IN ('open','incomplete','ineligible',"
            "'computed','submitted','approved')) ORDER BY p.id"),
            {"pref": _prefix(region)}).all()
        rows = _may_reach_age(rules, region, rows, month)
        if rows:
            ids = np.array([r.id for r in rows], dtype=np.int64)
            sex = np.array([r.sex or "" for r in rows])
            bd = [_date(r.birth_date) for r in rows]
            by = np.array([d.year for d in bd]), np.array([d.month for d in bd])
            bday = np.array([d.day for d in bd])
            target = month.year * 12 + month.month - 1
            chosen: dict[int, str | None] = {}
            for cat in CATEGORIES:
                rr = statutory_retirement(rules, by[0], by[1], bday, cat, region)
                hit = (rr.year * 12 + rr.month - 1) == target
                want = (sex == "M") if cat == "male" else (sex == "F")
                for pid in ids[hit & want]:
                    chosen[int(pid)] = cat if cat == "male" else None
            pregion = {r.id: r.pension_region for r in rows}
            t = _now()
            new = [dict(person_id=pid, region=pregion[pid], category=cat, claim="statutory",
                        requested_date=None, status="open", opened_by=actor.id, opened_at=t)
                   for pid, cat in sorted(chosen.items())]
            if new:
                conn.execute(insert(pension_case), new)
                res.case_ids = list(conn.execute(select(pension_case.c.id).where(and_(
                    pension_case.c.person_id.in_(list(chosen)),
                    pension_case.c.status == "open", pension_case.c.opened_at == t))).scalars())
                summary = compute_cases(conn, res.case_ids)
                for s in summary.values():
                    res.by_status[s] = res.by_status.get(s, 0) + 1
            res.opened = len(new)
        audit.record(conn, actor, "pension.case.open_batch", "region", region,
                     detail={"month": month.isoformat(), "opened": res.opened,
                             "by_status": res.by_status})
    return res


def _may_reach_age(rules, region: str, rows, month: dt.date):
    """Only those born in the window in which the retirement schedule (every version, every
    category: original age to original age + the maximum delay) can put retirement in
    ``month`` — children and those retired long ago are outside the schedule's dates."""
    lo = hi = None
    for r in regions.lineage(region):
        values = rules.parameter("retirement.schedule").values
        if r in values:
            for e in values[r]:
                for g in e.value.values():
                    a = int(g["original_age_months"])
                    b = a + int(g["cap_months"])
                    lo = a if lo is None else min(lo, a)
                    hi = b if hi is None else max(hi, b)
            break
    if lo is None:
        return rows
    target = month.year * 12 + month.month - 1
    out = []
    for r in rows:
        d = _date(r.birth_date)
        if target - hi - 1 <= d.year * 12 + d.month - 1 <= target - lo + 1:
            out.append(r)
    return out


def _prefix(region: str) -> str:
    """LIKE pattern of a region subtree (310000 → 31%, 310100 → 3101%, 310104 → 310104)."""
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


# ------------------------------------------------------------------------ compute
@dataclass
class _Ctx:
    case: dict
    person: dict
    missing: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)


def _lookup(rules, ctx: _Ctx, name: str, region: str, on: dt.date, what: str):
    try:
        r = rules.lookup(name, region, on)
    except RuleError:
        ctx.missing.append(f"{what}: no {name} for region {region} on {on.isoformat()}")
        return None
    ctx.params[f"{name}@{on.isoformat()}"] = r.as_json()
    return r.value


def _age_months(birth: dt.date, on: dt.date) -> int:
    m = months_between(birth, on)
    return m - 1 if on.day < birth.day and on.day != _month_len(on) else m


def _month_len(d: dt.date) -> int:
    return (add_months(d.replace(day=1), 1) - dt.timedelta(days=1)).day


def _retirement_date(rules, ctx: _Ctx) -> dt.date | None:
    c, p = ctx.case, ctx.person
    birth = _date(p["birth_date"])
    if birth is None:
        ctx.missing.append("birth date of the person (registry)")
        return None
    cat = c["category"] or ("male" if p["sex"] == "M" else None)
    if cat is None:
        ctx.missing.append("category of a woman: female_cadre (original age 55) or "
                           "female_worker (original age 50) — give it on the case")
        return None
    if p["sex"] == "M" and cat != "male" or p["sex"] == "F" and cat == "male":
        ctx.missing.append(f"category {cat} does not match the registry's sex {p['sex']}")
        return None
    rr = statutory_retirement(rules, np.array([birth.year]), np.array([birth.month]),
                              np.array([birth.day]), cat, c["region"])
    statutory = rr.date(0)
    sched = rules.lookup("retirement.schedule", c["region"], statutory)
    ctx.params["retirement.schedule"] = sched.as_json()
    ctx.inputs.update({"birth_date": birth.isoformat(), "category": cat,
                       "statutory_retirement_date": statutory.isoformat(),
                       "statutory_age_months": int(rr.age_months[0]),
                       "delay_months": int(rr.delay_months[0])})
    if c["claim"] == "statutory":
        return statutory
    flex = _lookup(rules, ctx, "retirement.flexibility", c["region"], statutory,
                   "flexible retirement limits")
    if flex is None:
        return None
    req = _date(c["requested_date"])
    if c["claim"] == "early":
        orig_age = int(sched.value[cat]["original_age_months"])
        earliest = max(add_months(statutory, -int(flex["max_early_months"])),
                       add_months(birth, orig_age))
        if not earliest <= req <= statutory:
            raise InputError(f"early retirement must fall between {earliest} (at most "
                             f"{flex['max_early_months']} months early, never below the original "
                             f"age) and {statutory}", field="requested_date")
    else:
        latest = add_months(statutory, int(flex["max_deferral_months"]))
        if not statutory <= req <= latest:
            raise InputError(f"deferred retirement must fall between {statutory} and {latest}",
                             field="requested_date")
    return req


def compute_cases(conn: Connection, case_ids: list[int]) -> dict[int, str]:
    """(Re)compute cases set-based; returns {case_id: status}."""
    out: dict[int, str] = {}
    for i in range(0, len(case_ids), CHUNK):
        out.update(_compute_chunk(conn, case_ids[i:i + CHUNK]))
    return out


def _compute_chunk(conn: Connection, ids: list[int]) -> dict[int, str]:
    rules = load_rules()
    cases = [dict(r) for r in conn.execute(select(pension_case).where(
        pension_case.c.id.in_(ids))).mappings()]
    pids = [c["person_id"] for c in cases]
    persons = {r["id"]: dict(r) for r in conn.execute(select(
        person.c.id, person.c.sex, person.c.birth_date, person.c.status, person.c.death_date
    ).where(person.c.id.in_(pids))).mappings()}
    hist = H.history_rows(conn, pids)     # legacy ∪ shebao's own paid months (history.py)

    ctxs = [_Ctx(c, persons[c["person_id"]]) for c in cases]
    for ctx in ctxs:
        _gather(conn, rules, ctx, *hist[ctx.case["person_id"]])  # InputError: the claim
    _accounts(conn, rules, [x for x in ctxs if not x.missing and "_account" in x.inputs])
    ok = [x for x in ctxs if not x.missing and x.inputs.get("eligible")]
    for x in ctxs:
        x.inputs.pop("_account", None)
        if x not in ok:
            x.inputs.pop("_table", None)
    amounts = _amounts(ok) if ok else {}
    t = _now()
    result, updates = {}, []
    for ctx in ctxs:
        cid = ctx.case["id"]
        values = dict(computed_at=t, missing=None, options=None, basic_fen=None,
                      account_fen=None, transitional_fen=None, total_fen=None,
                      retirement_date=_date(ctx.inputs.get("retirement_date")))
        decision = {"inputs": ctx.inputs, "parameters": list(ctx.params.values())}
        if ctx.missing:
            status = "incomplete"
            values["missing"] = json.dumps(ctx.missing, ensure_ascii=False)
        elif not ctx.inputs.get("eligible"):
            status = "ineligible"
            values["options"] = json.dumps(ctx.inputs["options"], ensure_ascii=False)
        else:
            status = "computed"
            a = amounts[cid]
            values.update(basic_fen=a["basic"], account_fen=a["account"],
                          transitional_fen=a["transitional"], total_fen=a["total"])
            decision["arithmetic"] = a["arithmetic"]
            decision["result"] = {k: fen_to_yuan_str(a[k]) for k in
                                  ("basic", "account", "transitional", "total")}
        values["decision"] = json.dumps(decision, ensure_ascii=False, sort_keys=True)
        updates.append({"cid": cid, "status": status, **values})
        result[cid] = status
    if updates:   # one executemany for the chunk
        conn.execute(update(pension_case).where(pension_case.c.id == bindparam("cid")).values(
            {k: bindparam(k) for k in updates[0] if k != "cid"}), updates)
    return result


def _gather(conn, rules, ctx: _Ctx, rows: list[H.Period], not_counted: list[dict]) -> None:
    """Everything of one case that needs no further query (history already read)."""
    c, p = ctx.case, ctx.person
    region = c["region"]
    ctx.inputs.update({"person_id": c["person_id"], "claim_region": region,
                       "claim": c["claim"]})
    if p["status"] != "active":
        ctx.missing.append(f"the person's registry status is {p['status']}, not active")
        return
    ret = _retirement_date(rules, ctx)
    if ret is None:
        return
    ctx.inputs["retirement_date"] = ret.isoformat()
    birth = _date(p["birth_date"])
    age_m = _age_months(birth, ret)
    ctx.inputs["age_at_retirement_months"] = age_m
    ctx.inputs["age_years"] = age_m // 12
    minimum = _lookup(rules, ctx, "retirement.min_contribution_months", region, ret,
                      "minimum contribution months")
    ret_month = ret.replace(day=1)
    # shebao's own months from the retirement month on are not part of the record: listed
    late = [r for r in rows if r.origin == H.SHEBAO and r.period_start >= ret_month]
    rows = [r for r in rows if not (r.origin == H.SHEBAO and r.period_start >= ret_month)]
    not_counted = list(not_counted) + [
        {"month": r.period_start.isoformat()[:7], "region": r.region, "why": "after_retirement",
         "reason": "assessed on or after the retirement month"} for r in late]
    wage_cache: dict[dt.date, object] = {}

    def wage_of(d: dt.date):
        if d not in wage_cache:
            wage_cache[d] = rules.get("wage.average_monthly", region, d)
        return wage_cache[d]

    rows = H.compact(rows, wage_of)
    ctx.inputs["history"] = _history_summary(rows, not_counted)
    if not rows:
        ctx.missing.append("contribution history: no paid or deemed period is recorded for "
                           "this person (import it before computing)")
        return
    paid = [r for r in rows if r.kind == "paid"]
    deemed = [r for r in rows if r.kind == "deemed"]
    paid_m = sum(r.months for r in paid)
    deemed_m = sum(r.months for r in deemed)
    ctx.inputs.update({"paid_months": paid_m, "deemed_months": deemed_m,
                       "contribution_months": paid_m + deemed_m})
    after = [r for r in rows if r.period_start >= ret_month]
    if after:
        ctx.missing.append(f"{len(after)} history period(s) start on or after the retirement "
                           f"month ({after[0].period_start}): correct the history")
    if minimum is None:
        return
    ctx.inputs["min_contribution_months"] = int(minimum)
    if paid_m + deemed_m < int(minimum):
        short = int(minimum) - paid_m - deemed_m
        ctx.inputs["eligible"] = False
        ctx.inputs["options"] = [
            {"option": "continue_contributing",
             "detail": f"keep contributing {short} more month(s) until {minimum} months, "
                       f"then claim a monthly pension",
             "basis": "社会保险法 第十六条"},
            {"option": "transfer_to_resident_scheme",
             "detail": "transfer to the urban-rural resident basic pension and claim under it",
             "basis": "社会保险法 第十六条"}]
        return
    ctx.inputs["eligible"] = True
    if not paid:
        ctx.missing.append("no paid contribution period: the average contribution index "
                           "cannot be computed")
        return
    # ---- average contribution index (claim region's average wage for each period)
    bounds = _lookup(rules, ctx, "pension.contribution_index_bounds", region, ret,
                     "contribution index bounds")
    wages, bases, months, periods = [], [], [], []
    for r in paid:
        ps = r.period_start
        w = wage_of(ps)
        if w is None:
            ctx.missing.append(f"average monthly wage of {region} for the period starting "
                               f"{ps.isoformat()} (wage.average_monthly)")
            continue
        ctx.params.setdefault(f"wage.average_monthly@{ps.isoformat()}",
                              rules.lookup("wage.average_monthly", region, ps).as_json())
        m, n = r.months, r.index_months
        # index = (base_total / n) / wage = base_total / (wage × n), weighted by the m months
        # counted (m < n only for a legacy period trimmed by shebao's own months)
        wages.append(to_fen(w) * n)
        bases.append(int(r.base_total_fen))
        months.append(m)
        item = {"period_start": ps.isoformat(), "months": m,
                "base_total": fen_to_yuan_str(int(r.base_total_fen)),
                "average_wage": str(w), "region": r.region, "origin": r.origin,
                "source": r.source}
        if r.superseded_months:
            item["superseded_months"] = r.superseded_months
            item["note"] = (f"{r.superseded_months} of the {n} months are in shebao's own "
                            f"record and counted there; the index of this period is "
                            f"base_total / ({n} × average wage)")
        periods.append(item)
    if ctx.missing or bounds is None:
        return
    idx_s, _ = F.average_index_scaled(bases, wages, months, bounds["min"], bounds["max"])
    ctx.inputs["periods"] = periods
    ctx.inputs["avg_index"] = str(Decimal(idx_s) / F.INDEX_SCALE)
    ctx.inputs["avg_index_scaled"] = idx_s
    # ---- calculation base, rate, divisor, coefficient
    cb = _lookup(rules, ctx, "pension.calc_base", region, ret, "pension calculation base")
    rate = _lookup(rules, ctx, "pension.basic_rate_per_year", region, ret, "basic rate")
    table = _lookup(rules, ctx, "pension.divisor", region, ret, "divisor table")
    limits = _lookup(rules, ctx, "pension.divisor_age_limits", region, ret, "divisor ages")
    coef = Decimal(0)
    if deemed_m:
        coef = _lookup(rules, ctx, "pension.transitional_coefficient", region, ret,
                       "transitional coefficient")
    if None in (cb, rate, table, limits, coef):
        return
    if not limits["min"] <= age_m // 12 <= limits["max"]:
        ctx.missing.append(f"age {age_m // 12} is outside the divisor ages")
        return
    ctx.inputs.update({"calc_base": str(cb), "rate": str(rate), "coefficient": str(coef)})
    # ---- individual account at retirement: read set-based for the chunk (see _accounts)
    ctx.inputs["_table"] = table
    ctx.inputs["_account"] = (account_code(region, "pension", "individual", c["person_id"]), ret)


def _history_summary(rows: list[H.Period], not_counted: list[dict]) -> dict:
    """What the citizen and the clerk see: each source's months, every period with its source,
    and the months not counted with the reason."""
    def months(origin, kind):
        return sum(r.months for r in rows if r.origin == origin and r.kind == kind)
    return {
        "legacy": {"paid_months": months(H.LEGACY, "paid"),
                   "deemed_months": months(H.LEGACY, "deemed"),
                   "superseded_by_shebao_months": sum(r.superseded_months for r in rows)},
        "shebao": {"paid_months": months(H.SHEBAO, "paid"),
                   "unpaid_months": sum(1 for x in not_counted if x["why"] == "unpaid")},
        "periods": [{"period_start": r.period_start.isoformat(), "months": r.months,
                     "kind": r.kind, "region": r.region, "origin": r.origin,
                     "source": r.source,
                     **({"superseded_months": r.superseded_months}
                        if r.superseded_months else {})} for r in rows],
        "not_counted": not_counted,
        "rule": "legacy history (pension_history) + the months shebao assessed for the pension "
                "scheme and collected in full; a month in both counts once, from shebao's own "
                "record; months assessed but unpaid do not count (社会保险法 第十六条)",
    }


def _in(col, values: list):
    return col.in_(values) if values else col.in_([-1])


def _accounts(conn, rules, ctxs: list[_Ctx]) -> None:
    """Individual-account balance at retirement for many cases in a few queries: the balance
    before the retirement year (one grouped query per retirement year), this year's credits by
    month (one query), plus this year's interest to the retirement month by the monthly-product
    method at the rate in force for that year."""
    codes = [x.inputs["_account"][0] for x in ctxs]
    ids = {}
    for i in range(0, len(codes), CHUNK):
        for r in conn.execute(select(ledger_account.c.code, ledger_account.c.id).where(
                ledger_account.c.code.in_(codes[i:i + CHUNK]))):
            ids[r.code] = r.id
    have = [x for x in ctxs if x.inputs["_account"][0] in ids]
    for x in ctxs:
        if x.inputs["_account"][0] not in ids:
            x.missing.append(f"individual account {x.inputs['_account'][0]} (not in the ledger)")
    by_year: dict[int, list[_Ctx]] = {}
    for x in have:
        by_year.setdefault(x.inputs["_account"][1].year, []).append(x)
    for year, group in by_year.items():
        year_start = dt.date(year, 1, 1)
        accts = [ids[x.inputs["_account"][0]] for x in group]
        opening = dict(conn.execute(select(ledger_posting.c.account_id,
                                           func.sum(ledger_posting.c.amount)).where(and_(
            _in(ledger_posting.c.account_id, accts),
            ledger_posting.c.effective_date < year_start)).group_by(
            ledger_posting.c.account_id)).all())
        last = max(x.inputs["_account"][1].replace(day=1) for x in group)
        monthly: dict[int, np.ndarray] = {}
        rows = conn.execute(select(ledger_posting.c.account_id, ledger_posting.c.effective_date,
                                   ledger_posting.c.amount).where(and_(
            _in(ledger_posting.c.account_id, accts),
            ledger_posting.c.effective_date >= year_start,
            ledger_posting.c.effective_date < last))).all()
        for r in rows:
            monthly.setdefault(r.account_id, []).append((_date(r.effective_date), int(r.amount)))
        for x in group:
            code, ret = x.inputs["_account"]
            aid = ids[code]
            m = np.zeros(12, dtype=np.int64)
            for d, amt in monthly.get(aid, []):
                if d < ret.replace(day=1):
                    m[d.month - 1] -= amt             # credit-normal: a credit is negative
            _balance(rules, x, code, ret, -int(opening.get(aid) or 0), m)


def _balance(rules, ctx: _Ctx, code: str, ret: dt.date, opening: int, monthly) -> None:
    k = ret.month - 1   # whole months of the retirement year before the retirement month
    interest = 0
    if k and (opening or monthly.any()):
        year_start = dt.date(ret.year, 1, 1)
        r_val = _lookup(rules, ctx, "pension.account_interest_rate", ctx.case["region"],
                        year_start, "bookkeeping interest rate")
        if r_val is None:
            return
        rn, rd = rate_ratio(Decimal(r_val))
        weights = np.array([k - m for m in range(12)], dtype=np.int64)  # month m+1 earns k−m
        weights[weights < 0] = 0
        product = opening * k + int((monthly * weights).sum())
        interest = round_half_up(product * rn, rd * 12)
    balance = opening + int(monthly.sum()) + interest
    if balance < 0:
        raise InvariantError(f"individual account {code} is negative")
    ctx.inputs.update({"account_code": code, "account_opening_fen": opening,
                       "account_credits_this_year_fen": int(monthly.sum()),
                       "account_interest_this_year_fen": interest,
                       "account_interest_months": k,
                       "account_balance": fen_to_yuan_str(balance),
                       "account_balance_fen": balance})


def _amounts(ctxs: list[_Ctx]) -> dict[int, dict]:
    c_fen = np.array([to_fen(Decimal(x.inputs["calc_base"])) for x in ctxs], dtype=np.int64)
    idx = np.array([x.inputs["avg_index_scaled"] for x in ctxs], dtype=np.int64)
    months = np.array([x.inputs["contribution_months"] for x in ctxs], dtype=np.int64)
    deemed = np.array([x.inputs["deemed_months"] for x in ctxs], dtype=np.int64)
    bal = np.array([x.inputs["account_balance_fen"] for x in ctxs], dtype=np.int64)
    ages = np.array([x.inputs["age_years"] for x in ctxs], dtype=np.int64)
    out = {}
    # a handful of parameter versions: group by (rate, table, coefficient) — never per person
    groups: dict[tuple, list[int]] = {}
    for i, x in enumerate(ctxs):
        key = (x.inputs["rate"], json.dumps({str(k): v for k, v in x.inputs["_table"].items()}),
               x.inputs["coefficient"])
        groups.setdefault(key, []).append(i)
    basic = np.zeros(len(ctxs), np.int64)
    account = np.zeros(len(ctxs), np.int64)
    trans = np.zeros(len(ctxs), np.int64)
    divisor = np.zeros(len(ctxs), np.int64)
    for (rate, _t, coef), rows in groups.items():
        sel = np.array(rows)
        table = ctxs[rows[0]].inputs["_table"]
        divisor[sel] = F.divisor_for_age(ages[sel], table)
        basic[sel] = F.basic_pension_fen(c_fen[sel], idx[sel], months[sel], Decimal(rate))
        account[sel] = F.account_pension_fen(bal[sel], divisor[sel])
        trans[sel] = F.transitional_pension_fen(c_fen[sel], idx[sel], deemed[sel], Decimal(coef))
    for i, x in enumerate(ctxs):
        x.inputs.pop("_table", None)
        I = x.inputs["avg_index"]
        C = x.inputs["calc_base"]
        arithmetic = {
            "basic": f"({C} + {C} × {I}) / 2 × {months[i]} / 12 × {x.inputs['rate']} = "
                     f"{fen_to_yuan_str(basic[i])} (rounded half up once)",
            "account": f"{x.inputs['account_balance']} / {divisor[i]} (divisor at age "
                       f"{ages[i]}) = {fen_to_yuan_str(account[i])}",
            "transitional": f"{C} × {I} × {deemed[i]} / 12 × {x.inputs['coefficient']} = "
                            f"{fen_to_yuan_str(trans[i])}",
            "total": f"{fen_to_yuan_str(basic[i])} + {fen_to_yuan_str(account[i])} + "
                     f"{fen_to_yuan_str(trans[i])} = "
                     f"{fen_to_yuan_str(basic[i] + account[i] + trans[i])}",
            "account_balance": f"opening {fen_to_yuan_str(x.inputs['account_opening_fen'])} + "
                               f"credits {fen_to_yuan_str(x.inputs['account_credits_this_year_fen'])}"
                               f" + interest {fen_to_yuan_str(x.inputs['account_interest_this_year_fen'])}"
                               f" ({x.inputs['account_interest_months']} months, monthly-product "
                               f"method) = {x.inputs['account_balance']}",
        }
        x.inputs["divisor"] = int(divisor[i])
        out[x.case["id"]] = {"basic": int(basic[i]), "account": int(account[i]),
                             "transitional": int(trans[i]),
                             "total": int(basic[i] + account[i] + trans[i]),
                             "arithmetic": arithmetic}
    return out


# ------------------------------------------------------------------------ decide
def _case(conn, case_id: int, lock: bool = False) -> dict:
    q = select(pension_case).where(pension_case.c.id == case_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    r = conn.execute(q).mappings().first()
    if r is None:
        raise InputError(f"no pension case {case_id}", field="case_id")
    return dict(r)


def set_category(db, actor: Actor, case_id: int, category: str) -> str:
    """Give a woman's category (cadre / worker) on a batch-opened case and recompute it."""
    if category not in CATEGORIES:
        raise InputError(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    with _tx(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_in_region(actor, "pension.compute", c["region"])
        if c["status"] not in ("open", "incomplete", "ineligible", "computed"):
            raise ConflictError(f"case {case_id} is {c['status']}: it can no longer change")
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            category=category))
        status = compute_cases(conn, [case_id])[case_id]
        audit.record(conn, actor, "pension.case.category", "pension_case", case_id,
                     detail={"category": category, "status": status})
        return status


def recompute_case(db, actor: Actor, case_id: int) -> str:
    with _tx(db) as conn:
        c = _case(conn, case_id, lock=True)
        require_in_region(actor, "pension.compute", c["region"])
        if c["status"] not in ("open", "incomplete", "ineligible", "computed"):
            raise ConflictError(f"case {case_id} is {c['status']}: it can no longer change")
        status = compute_cases(conn, [case_id])[case_id]
        audit.record(conn, actor, "pension.case.compute", "pension_case", case_id,
                     detail={"status": status, "before": c["status"]})
        return status


def recompute_cases(db, actor: Actor, case_ids: list[int]) -> dict[int, str]:
    """Recompute many cases set-based (after history or accounts changed): one transaction,
    one audit row. Cases already submitted or decided are left alone and not returned."""
    with _tx(db) as conn:
        rows = []
        for i in range(0, len(case_ids), CHUNK):
            rows += conn.execute(select(pension_case.c.id, pension_case.c.region,
                                        pension_case.c.status).where(
                pension_case.c.id.in_(case_ids[i:i + CHUNK]))).all()
        for r in {r.region for r in rows}:
            require_in_region(actor, "pension.compute", r)
        todo = sorted(r.id for r in rows
                      if r.status in ("open", "incomplete", "ineligible", "computed"))
        out = compute_cases(conn, todo) if todo else {}
        by_status: dict[str, int] = {}
        for st in out.values():
            by_status[st] = by_status.get(st, 0) + 1
        audit.record(conn, actor, "pension.case.compute_batch", "pension_case_set",
                     f"{len(todo)} cases", detail={"case_ids": todo, "by_status": by_status})
    return out


def submit_case(db, maker: Actor, case_id: int) -> int:
    """The maker (a benefits clerk) puts a computed case up for a second pair of eyes."""
    with _tx(db) as conn:
        c = _case(conn, case_id, lock=True)
        if c["status"] != "computed":
            raise ConflictError(f"case {case_id} is {c['status']}; only a computed case can be "
                                f"submitted" + (f" (missing: {c['missing']})" if c["missing"] else ""))
        aid = mc.submit(conn, maker, mc.PENSION, "pension_case", case_id, region=c["region"],
                        detail={"total": fen_to_yuan_str(c["total_fen"]),
                                "person_id": c["person_id"]})
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="submitted", approval_id=aid))
        return aid


def approve_case(db, checker: Actor, case_id: int) -> int:
    """A second clerk approves: the pension is awarded from the month after retirement.
    The same staff member who submitted can never approve (PermissionDenied)."""
    with _tx(db) as conn:
        c = _case(conn, case_id, lock=True)
        if c["status"] != "submitted":
            raise ConflictError(f"case {case_id} is {c['status']}; only a submitted case can be "
                                f"approved")
        a = mc.get(conn, c["approval_id"])
        if a.maker == checker.id:
            raise PermissionDenied(f"case {case_id} was submitted by {checker.id}: the same "
                                   f"staff member can never approve their own case")
        dead = conn.execute(select(person.c.death_date).where(
            person.c.id == c["person_id"])).scalar_one_or_none()
        if dead is not None and _date(dead) < _date(c["retirement_date"]):
            raise ConflictError(f"person {c['person_id']} died on {dead}, before the retirement "
                                f"date {c['retirement_date']}: reject the case instead")
        mc.approve(conn, checker, c["approval_id"])
        t = _now()
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="approved", decided_by=checker.id, decided_at=t))
        ret = _date(c["retirement_date"])
        start = add_months(ret.replace(day=1), 1)
        aid = conn.execute(insert(pension_award).values(
            person_id=c["person_id"], case_id=case_id, region=c["region"], start_month=start,
            monthly_fen=c["total_fen"], account_part_fen=c["account_fen"], amount_from=start,
            status="active", created_at=t).returning(pension_award.c.id)).scalar_one()
        conn.execute(insert(pension_award_amount).values(
            award_id=aid, effective_from=start, monthly_fen=c["total_fen"],
            account_part_fen=c["account_fen"], source="determination", recorded_at=t))
        audit.record(conn, checker, "pension.award", "pension_case", case_id,
                     detail={"award_id": aid, "start_month": start.isoformat(),
                             "monthly": fen_to_yuan_str(c["total_fen"]),
                             "basis": "国发〔2005〕38号; 社会保险法 第十六条"})
        return aid


def reject_case(db, checker: Actor, case_id: int, *, reason: str) -> None:
    with _tx(db) as conn:
        c = _case(conn, case_id, lock=True)
        if c["status"] != "submitted":
            raise ConflictError(f"case {case_id} is {c['status']}; only a submitted case can be "
                                f"rejected")
        mc.reject(conn, checker, c["approval_id"], reason=reason)
        conn.execute(update(pension_case).where(pension_case.c.id == case_id).values(
            status="rejected", decided_by=checker.id, decided_at=_now(), reason=reason[:200]))


def get_case(db, actor: Actor, case_id: int, *, purpose: str = "pension case review") -> dict:
    with _tx(db) as conn:
        c = _case(conn, case_id)
        check_case(actor, c)
        audit.record(conn, actor, "pension.case.read", "pension_case", case_id,
                     fields=["decision"], purpose=purpose)
    for k in ("missing", "options", "decision"):
        c[k] = json.loads(c[k]) if c[k] else None
    for k in ("basic_fen", "account_fen", "transitional_fen", "total_fen"):
        c[k.replace("_fen", "")] = fen_to_yuan_str(c[k]) if c[k] is not None else None
    c["contribution_record"] = _record_lines(c["decision"])
    return c


def _record_lines(decision: dict | None) -> list[str]:
    """The contribution record in words, one line per period with where it came from (what a
    citizen or a clerk reads beside the decision)."""
    h = ((decision or {}).get("inputs") or {}).get("history")
    if not h:
        return []
    out = []
    for p in h["periods"]:
        who = ("shebao's own record (assessed and paid)" if p["origin"] == H.SHEBAO
               else f"legacy record ({p['source']})")
        extra = (f"; {p['superseded_months']} month(s) counted from shebao's own record "
                 f"instead" if p.get("superseded_months") else "")
        out.append(f"{p['period_start'][:7]} × {p['months']} month(s) {p['kind']} in "
                   f"{p['region']} — {who}{extra}")
    for x in h["not_counted"]:
        out.append(f"{x['month']} not counted — {x['reason']}")
    return out
