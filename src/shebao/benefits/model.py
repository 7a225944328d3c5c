"""The benefits bureau's domain: plain data and pure rules (no database, no framework).

* the pension case: its statuses and which action each allows (:data:`CASE_STATUSES`,
  :func:`require_status`), the claim and history checks, the computation of one case from
  what was read for it (:class:`CaseContext`, :func:`gather`, :func:`account_balance`,
  :func:`amounts`: every input, every parameter with its reference, the arithmetic as text);
* (the contribution record itself, legacy periods and shebao's own months merged, is
  :mod:`.record`; who the monthly payroll pays and how, the twin of its SQL, is
  :mod:`.payroll_rules`);
* bank outcomes of our payments (:class:`Outcome`).

Parameters come from a ``Rules`` object the caller passes; nothing here reads a table.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from shebao.core import regions
from shebao.core.errors import ConflictError, InputError, InvariantError, RuleError
from shebao.core.money import fen_to_yuan_str, rate_ratio, round_half_up, to_fen
from shebao.core.periods import add_months, months_between
from shebao.rules.formulas import benefits as F
from shebao.ledger.model import account_code

from .record import LEGACY, SHEBAO, Period, compact, until_retirement
from .rules_memo import fen_of as _fen_of, json_of as _json_of, statutory as _statutory

# ------------------------------------------------------------------------------ pension case
CASE_STATUSES = ("open", "incomplete", "ineligible", "computed", "submitted", "approved",
                 "rejected")
CASE_LIVE = ("open", "incomplete", "ineligible", "computed", "submitted", "approved")
EDITABLE = ("open", "incomplete", "ineligible", "computed")     # may still be (re)computed
CLAIMS = ("statutory", "early", "deferred")


def require_status(case: dict, allowed: tuple[str, ...], action: str) -> None:
    """ConflictError unless the case's status allows ``action``."""
    if case["status"] in allowed:
        return
    if allowed == EDITABLE:
        raise ConflictError(f"case {case['id']} is {case['status']}: it can no longer change")
    extra = (f" (missing: {case['missing']})" if action == "submitted" and case.get("missing")
             else "")
    raise ConflictError(f"case {case['id']} is {case['status']}; only a {allowed[0]} case can "
                        f"be {action}{extra}")


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def clean_history(actor: Actor, person_id: int, rows: list[dict], source: str,
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


def validate_claim(claim: str, requested_date):
    if claim not in CLAIMS:
        raise InputError(f"claim must be one of {', '.join(CLAIMS)}", field="claim")
    if claim != "statutory" and not isinstance(requested_date, dt.date):
        raise InputError(f"an {claim} retirement needs requested_date", field="requested_date")


def may_reach_age(rules, region: str, rows, month: dt.date):
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


def region_prefix(region: str) -> str:
    """LIKE pattern of a region subtree (310000 → 31%, 310100 → 3101%, 310104 → 310104)."""
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


@dataclass
class CaseContext:
    case: dict
    person: dict
    missing: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)


def lookup(rules, ctx: CaseContext, name: str, region: str, on: dt.date, what: str):
    try:
        r = rules.lookup(name, region, on)
    except RuleError:
        ctx.missing.append(f"{what}: no {name} for region {region} on {on.isoformat()}")
        return None
    ctx.params[f"{name}@{on.isoformat()}"] = _json_of(rules, name, region, on)
    return r.value


def age_months(birth: dt.date, on: dt.date) -> int:
    m = months_between(birth, on)
    return m - 1 if on.day < birth.day and on.day != month_len(on) else m


def month_len(d: dt.date) -> int:
    return (add_months(d.replace(day=1), 1) - dt.timedelta(days=1)).day


def retirement_date(rules, ctx: CaseContext) -> dt.date | None:
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
    rr = _statutory(rules, birth, cat, c["region"])
    statutory = rr.date(0)
    sched = rules.lookup("retirement.schedule", c["region"], statutory)
    ctx.params["retirement.schedule"] = _json_of(rules, "retirement.schedule", c["region"],
                                                 statutory)
    ctx.inputs.update({"birth_date": birth.isoformat(), "category": cat,
                       "statutory_retirement_date": statutory.isoformat(),
                       "statutory_age_months": int(rr.age_months[0]),
                       "delay_months": int(rr.delay_months[0])})
    if c["claim"] == "statutory":
        return statutory
    flex = lookup(rules, ctx, "retirement.flexibility", c["region"], statutory,
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


def gather(rules, ctx: CaseContext, rows: list[Period], not_counted: list[dict]) -> None:
    """Everything of one case that needs no further query (history already read)."""
    c, p = ctx.case, ctx.person
    region = c["region"]
    ctx.inputs.update({"person_id": c["person_id"], "claim_region": region,
                       "claim": c["claim"]})
    if p["status"] != "active":
        ctx.missing.append(f"the person's registry status is {p['status']}, not active")
        return
    ret = retirement_date(rules, ctx)
    if ret is None:
        return
    ctx.inputs["retirement_date"] = ret.isoformat()
    birth = _date(p["birth_date"])
    age_m = age_months(birth, ret)
    ctx.inputs["age_at_retirement_months"] = age_m
    ctx.inputs["age_years"] = age_m // 12
    minimum = lookup(rules, ctx, "retirement.min_contribution_months", region, ret,
                      "minimum contribution months")
    ret_month = ret.replace(day=1)
    rows, not_counted = until_retirement(rows, not_counted, ret_month)
    wage_cache: dict[dt.date, object] = {}
    wage_fen: dict[dt.date, int] = {}

    def wage_of(d: dt.date):
        try:
            return wage_cache[d]
        except KeyError:
            w = wage_cache[d] = rules.get("wage.average_monthly", region, d)
            return w

    rows = compact(rows, wage_of)
    ctx.inputs["history"] = history_summary(rows, not_counted)
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
    bounds = lookup(rules, ctx, "pension.contribution_index_bounds", region, ret,
                     "contribution index bounds")
    wages, bases, months, periods = [], [], [], []
    for r in paid:
        ps = r.period_start
        w = wage_of(ps)
        if w is None:
            ctx.missing.append(f"average monthly wage of {region} for the period starting "
                               f"{ps.isoformat()} (wage.average_monthly)")
            continue
        ps_iso = ps.isoformat()
        wkey = f"wage.average_monthly@{ps_iso}"
        if wkey not in ctx.params:
            ctx.params[wkey] = _json_of(rules, "wage.average_monthly", region, ps)
        m, n = r.months, r.index_months
        # index = (base_total / n) / wage = base_total / (wage × n), weighted by the m months
        # counted (m < n only for a legacy period trimmed by shebao's own months)
        wf = wage_fen.get(ps)
        if wf is None:
            wf = wage_fen[ps] = _fen_of(rules, w)
        wages.append(wf * n)
        bases.append(int(r.base_total_fen))
        months.append(m)
        periods.append(index_period(r, str(w)))
    if ctx.missing or bounds is None:
        return
    idx_s, _ = F.average_index_scaled(bases, wages, months, bounds["min"], bounds["max"])
    ctx.inputs["periods"] = periods
    ctx.inputs["avg_index"] = str(Decimal(idx_s) / F.INDEX_SCALE)
    ctx.inputs["avg_index_scaled"] = idx_s
    # ---- calculation base, rate, divisor, coefficient
    cb = lookup(rules, ctx, "pension.calc_base", region, ret, "pension calculation base")
    rate = lookup(rules, ctx, "pension.basic_rate_per_year", region, ret, "basic rate")
    table = lookup(rules, ctx, "pension.divisor", region, ret, "divisor table")
    limits = lookup(rules, ctx, "pension.divisor_age_limits", region, ret, "divisor ages")
    coef = Decimal(0)
    if deemed_m:
        coef = lookup(rules, ctx, "pension.transitional_coefficient", region, ret,
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


def index_period(r: Period, average_wage: str) -> dict:
    """One paid period as the decision lists it for the average index."""
    item = {"period_start": r.period_start.isoformat(), "months": r.months,
            "base_total": fen_to_yuan_str(int(r.base_total_fen)),
            "average_wage": average_wage, "region": r.region, "origin": r.origin,
            "source": r.source}
    if r.superseded_months:
        n = r.index_months
        item["superseded_months"] = r.superseded_months
        item["note"] = (f"{r.superseded_months} of the {n} months are in shebao's own "
                        f"record and counted there; the index of this period is "
                        f"base_total / ({n} × average wage)")
    return item


def history_summary(rows: list[Period], not_counted: list[dict]) -> dict:
    """What the citizen and the clerk see: each source's months, every period with its source,
    and the months not counted with the reason."""
    def months(origin, kind):
        return sum(r.months for r in rows if r.origin == origin and r.kind == kind)
    return {
        "legacy": {"paid_months": months(LEGACY, "paid"),
                   "deemed_months": months(LEGACY, "deemed"),
                   "superseded_by_shebao_months": sum(r.superseded_months for r in rows)},
        "shebao": {"paid_months": months(SHEBAO, "paid"),
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


def account_balance(rules, ctx: CaseContext, code: str, ret: dt.date, opening: int, monthly) -> None:
    k = ret.month - 1   # whole months of the retirement year before the retirement month
    interest = 0
    if k and (opening or monthly.any()):
        year_start = dt.date(ret.year, 1, 1)
        r_val = lookup(rules, ctx, "pension.account_interest_rate", ctx.case["region"],
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


def amounts(ctxs: list[CaseContext]) -> dict[int, dict]:
    c_fen = np.array([to_fen(Decimal(x.inputs["calc_base"])) for x in ctxs], dtype=np.int64)
    idx = np.array([x.inputs["avg_index_scaled"] for x in ctxs], dtype=np.int64)
    months = np.array([x.inputs["contribution_months"] for x in ctxs], dtype=np.int64)
    deemed = np.array([x.inputs["deemed_months"] for x in ctxs], dtype=np.int64)
    bal = np.array([x.inputs["account_balance_fen"] for x in ctxs], dtype=np.int64)
    ages = np.array([x.inputs["age_years"] for x in ctxs], dtype=np.int64)
    out = {}
    # a handful of parameter versions: group by (rate, table, coefficient) — never per person
    groups: dict[tuple, list[int]] = {}
    table_key: dict[int, str] = {}      # the rules' own table objects: a few, shared by cases
    for i, x in enumerate(ctxs):
        t = x.inputs["_table"]
        tk = table_key.get(id(t))
        if tk is None:
            tk = table_key[id(t)] = json.dumps({str(k): v for k, v in t.items()})
        key = (x.inputs["rate"], tk, x.inputs["coefficient"])
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
        arithmetic = arithmetic_of(x.inputs, int(basic[i]), int(account[i]), int(trans[i]),
                                   int(divisor[i]))
        x.inputs["divisor"] = int(divisor[i])
        out[x.case["id"]] = {"basic": int(basic[i]), "account": int(account[i]),
                             "transitional": int(trans[i]),
                             "total": int(basic[i] + account[i] + trans[i]),
                             "arithmetic": arithmetic}
    return out


def arithmetic_of(inputs: dict, basic: int, account: int, trans: int, divisor: int) -> dict:
    """The decision's arithmetic as text, from its inputs and the three amounts (fen)."""
    I, C = inputs["avg_index"], inputs["calc_base"]
    months, deemed, age = inputs["contribution_months"], inputs["deemed_months"], \
        inputs["age_years"]
    return {
        "basic": f"({C} + {C} × {I}) / 2 × {months} / 12 × {inputs['rate']} = "
                 f"{fen_to_yuan_str(basic)} (rounded half up once)",
        "account": f"{inputs['account_balance']} / {divisor} (divisor at age "
                   f"{age}) = {fen_to_yuan_str(account)}",
        "transitional": f"{C} × {I} × {deemed} / 12 × {inputs['coefficient']} = "
                        f"{fen_to_yuan_str(trans)}",
        "total": f"{fen_to_yuan_str(basic)} + {fen_to_yuan_str(account)} + "
                 f"{fen_to_yuan_str(trans)} = {fen_to_yuan_str(basic + account + trans)}",
        "account_balance": f"opening {fen_to_yuan_str(inputs['account_opening_fen'])} + "
                           f"credits {fen_to_yuan_str(inputs['account_credits_this_year_fen'])}"
                           f" + interest {fen_to_yuan_str(inputs['account_interest_this_year_fen'])}"
                           f" ({inputs['account_interest_months']} months, monthly-product "
                           f"method) = {inputs['account_balance']}",
    }


def record_lines(decision: dict | None) -> list[str]:
    """The contribution record in words, one line per period with where it came from (what a
    citizen or a clerk reads beside the decision)."""
    h = ((decision or {}).get("inputs") or {}).get("history")
    if not h:
        return []
    out = []
    for p in h["periods"]:
        who = ("shebao's own record (assessed and paid)" if p["origin"] == SHEBAO
               else f"legacy record ({p['source']})")
        extra = (f"; {p['superseded_months']} month(s) counted from shebao's own record "
                 f"instead" if p.get("superseded_months") else "")
        out.append(f"{p['period_start'][:7]} × {p['months']} month(s) {p['kind']} in "
                   f"{p['region']} — {who}{extra}")
    for x in h["not_counted"]:
        out.append(f"{x['month']} not counted — {x['reason']}")
    return out


# ------------------------------------------------------------------------------ bank returns
@dataclass(frozen=True)
class Outcome:
    """What the bank reports about one of our payments."""

    end_to_end_id: str
    status: str            # paid | failed
    amount_fen: int | None
    reason: str | None


def outcomes_of_statement(lines) -> list[Outcome]:
    """A payout account's camt.053 lines (``formats.camt053.read_payments``) → outcomes: a
    returned line failed, a booked one was paid."""
    return [Outcome(x.e2e_id, "failed" if x.returned else "paid", x.amount_fen, x.reason)
            for x in lines]


def outcomes_of_csv(rows) -> list[Outcome]:
    """The CSV payment statuses (``formats.returns_csv.read``) → outcomes (no amount)."""
    return [Outcome(r.end_to_end_id, r.status, None, r.reason) for r in rows]
