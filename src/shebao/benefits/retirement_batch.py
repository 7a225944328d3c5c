"""Pension determination of many cases at once, in columns.

A month's retirements are mostly *regular*: a statutory claim of an active person whose category
is known, a record (legacy ``pension_history`` ∪ the months shebao collected, merged in columns
by :mod:`.record_columns`) with paid months at least the minimum, every parameter and period
wage in the rules, an individual account in the ledger. Such cases are
computed here with numpy over the whole chunk — retirement dates, the record's months, the
average index (exact: integers over one common denominator, rounded once), the account balance
with this year's interest, the three amounts — and stored compactly
(:mod:`.decision_record`). Everything else (early or deferred claims, a woman without category,
a missing parameter or wage, a history period after retirement, too few months, no account)
is handed back for the per-case path of
:mod:`.model` (``gather``), which says precisely what is missing or why the person is not
eligible. The two paths give the same decision: ``tests/service/benefits/
test_retirement_batch.py`` computes the same cases both ways and compares them.

    compute_regular(conn, rules, cases, persons) -> (updates, rest)
"""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from shebao.core.errors import RuleError
from shebao.core.money import rate_ratio, round_half_up, to_fen
from shebao.ledger import queries as ledger_queries
from shebao.ledger.model import account_code
from shebao.rules.formulas import benefits as F
from shebao.rules.formulas.retirement import days_in_month, statutory_retirement

from . import decision_record as D
from . import history as H
from . import record_columns as RC
from .record import LEGACY, SHEBAO, SHEBAO_SOURCE

PARAMS = (("min", "retirement.min_contribution_months"),
          ("bounds", "pension.contribution_index_bounds"),
          ("cb", "pension.calc_base"), ("rate", "pension.basic_rate_per_year"),
          ("table", "pension.divisor"), ("limits", "pension.divisor_age_limits"))
COEF = "pension.transitional_coefficient"
INTEREST = "pension.account_interest_rate"
WAGE = "wage.average_monthly"
SCHEDULE = "retirement.schedule"


def _iso(y, m, d) -> list[str]:
    return [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist())]


def compute_regular(conn, rules, cases: list[dict], persons: dict, at: dt.datetime
                    ) -> tuple[list[dict], list[dict]]:
    """The regular ``cases`` computed (rows for the case update: id, status, amounts, the
    compact decision) and the others, untouched, for the per-case path."""
    rest: list[dict] = []
    cand: list[tuple[dict, dict, str]] = []
    for c in cases:
        p = persons.get(c["person_id"])
        cat = c["category"] or ("male" if p is not None and p["sex"] == "M" else None)
        if (p is None or c["claim"] != "statutory" or p["status"] != "active"
                or p["birth_date"] is None or cat is None
                or not (p["sex"] == "M" and cat == "male"
                        or p["sex"] == "F" and cat != "male")):
            rest.append(c)
            continue
        cand.append((c, p, cat))
    if not cand:
        return [], rest
    cand.sort(key=lambda x: x[0]["person_id"])
    n = len(cand)
    pid = np.array([c["person_id"] for c, _, _ in cand], dtype=np.int64)
    birth = [_day(p["birth_date"]) for _, p, _ in cand]
    by, bm, bd = (np.array([getattr(b, f) for b in birth], dtype=np.int64)
                  for f in ("year", "month", "day"))
    region = [c["region"] for c, _, _ in cand]
    cats = [cat for _, _, cat in cand]
    ok = np.ones(n, dtype=bool)

    # -- statutory retirement, per (region, category): a few vectorised calls
    ry, rm, rd = (np.zeros(n, np.int64) for _ in range(3))
    st_age, delay = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for key, sel in _groups(list(zip(region, cats))).items():
        try:
            rr = statutory_retirement(rules.rules, by[sel], bm[sel], bd[sel], key[1], key[0])
        except RuleError:
            ok[sel] = False
            continue
        ry[sel], rm[sel], rd[sel] = rr.year, rr.month, rr.day
        st_age[sel], delay[sel] = rr.age_months, rr.delay_months
    if len(np.unique(pid)) != n:           # one live case per person: never two in a chunk
        return [], rest + [c for c, _, _ in cand]
    ret_mi = ry * 12 + rm - 1
    # age in whole months at retirement (model.age_months, in columns)
    age_m = ret_mi - (by * 12 + bm - 1)
    age_m -= ((rd < bd) & (rd != days_in_month(ret_mi))).astype(np.int64)
    ret_iso = _iso(ry, rm, rd)

    # -- the record: legacy periods ∪ shebao's paid months (record.merge, in columns)
    legacy = H.legacy_columns(conn, pid.tolist())
    months = H.shebao_month_columns(conn, pid.tolist())
    first = months["day"].astype("datetime64[D]").astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)
    odd = months["person_id"][months["day"] != first]   # a month not on its first day: rare,
    if len(odd):                                         # and the per-case path's to explain
        ok &= ~np.isin(pid, odd)
    sources = legacy["sources"] + [SHEBAO_SOURCE]
    wage_ids: dict = {}

    def wage_id(reg: int, day: int) -> int:
        return wage_ids.setdefault(rules.get(WAGE, f"{reg:06d}", _from_days(day)),
                                   len(wage_ids))

    reg_int = np.array([int(r) for r in region], dtype=np.int64)
    L, not_counted = RC.merge(legacy, months, pid, ret_mi, reg_int, wage_id, len(sources) - 1)
    ci = L["case"]
    row_mi = L["month_index"]
    paid_row = L["paid"]
    after = np.bincount(ci, weights=row_mi >= ret_mi[ci], minlength=n) > 0
    paid_m = np.bincount(ci, weights=L["months"] * paid_row, minlength=n).astype(np.int64)
    deemed_m = np.bincount(ci, weights=L["months"] * ~paid_row, minlength=n).astype(np.int64)
    ok &= ~after & (paid_m > 0)

    # -- parameters per (region, retirement day): a handful of look-ups per chunk
    live = np.flatnonzero(ok)
    groups = {k: live[sel] for k, sel in
              _groups([(region[i], ret_iso[i]) for i in live.tolist()]).items()}
    gparams: dict[tuple, dict] = {}
    for (reg, iso), sel in groups.items():
        on = dt.date.fromisoformat(iso)
        try:
            g = {k: rules.value(name, reg, on) for k, name in PARAMS}
            g["json"] = {name: rules.lookup_json(name, reg, on) for _, name in PARAMS}
            g["schedule"] = rules.lookup_json(SCHEDULE, reg, on)
            if deemed_m[sel].any():
                g["coef"] = rules.value(COEF, reg, on)
                g["json"][COEF] = rules.lookup_json(COEF, reg, on)
        except RuleError:
            ok[sel] = False
            continue
        lo, hi = Fraction(Decimal(g["bounds"]["min"])), Fraction(Decimal(g["bounds"]["max"]))
        if lo > hi:
            ok[sel] = False
        gparams[(reg, iso)] = g
    minimum = np.zeros(n, np.int64)
    lim_lo, lim_hi = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for key, sel in groups.items():
        g = gparams.get(key)
        if g is not None:
            minimum[sel] = int(g["min"])
            lim_lo[sel], lim_hi[sel] = g["limits"]["min"], g["limits"]["max"]
    ok &= (paid_m + deemed_m >= minimum) & (age_m // 12 >= lim_lo) & (age_m // 12 <= lim_hi)

    # -- period wages (claim region's average wage of each period start)
    paid_rows = np.flatnonzero(paid_row & ok[ci])
    wage_str: dict[tuple[str, int], str] = {}
    wage_fen = np.zeros(len(ci), np.int64)
    wkey = reg_int[ci[paid_rows]] * 1_000_000 + L["day"][paid_rows]   # (region, day) as one int
    keys, inv = np.unique(wkey, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(keys) + 1))
    for j, kk in enumerate(keys.tolist()):
        rows = order[bounds[j]:bounds[j + 1]]
        reg, day = f"{kk // 1_000_000:06d}", kk % 1_000_000
        key = (reg, day)
        w = rules.get(WAGE, reg, _from_days(day))
        if w is None or to_fen(w) <= 0:
            ok[ci[paid_rows[rows]]] = False
            continue
        wage_str[key] = str(w)
        wage_fen[paid_rows[rows]] = rules.fen_of(w)
    paid_rows = paid_rows[ok[ci[paid_rows]]]

    # -- average contribution index, exact, per (lower, upper) bound
    idx_s = np.zeros(n, np.int64)
    for (lo_s, hi_s), sel in _groups([(str(gparams[k]["bounds"]["min"]),
                                       str(gparams[k]["bounds"]["max"])) if k in gparams
                                      else ("", "") for k in zip(region, ret_iso)]).items():
        if not lo_s:
            continue
        mine = np.zeros(n, bool)
        mine[sel] = True
        mine &= ok
        rows = paid_rows[mine[ci[paid_rows]]]
        if len(rows):
            idx_s[mine] = _average_index(ci[rows], L["base"][rows], wage_fen[rows] *
                                         L["index_months"][rows], L["months"][rows],
                                         Decimal(lo_s), Decimal(hi_s), np.flatnonzero(mine),
                                         paid_m[mine])

    # -- the individual account at retirement
    A = _accounts(conn, rules, region, pid, ry, rm, ok)
    codes, opening, credit_sum, interest, balance, k, rate_json = (
        A[x] for x in ("codes", "opening", "credit_sum", "interest", "balance", "k",
                       "rate_json"))

    # -- the amounts, per parameter group
    basic, account, trans, divisor = (np.zeros(n, np.int64) for _ in range(4))
    for key, sel in groups.items():
        sel = sel[ok[sel]]
        if not len(sel):
            continue
        g = gparams[key]
        c_fen = np.full(len(sel), to_fen(Decimal(str(g["cb"]))), np.int64)
        divisor[sel] = F.divisor_for_age(age_m[sel] // 12, g["table"])
        basic[sel] = F.basic_pension_fen(c_fen, idx_s[sel], paid_m[sel] + deemed_m[sel],
                                         Decimal(str(g["rate"])))
        account[sel] = F.account_pension_fen(balance[sel], divisor[sel])
        trans[sel] = F.transitional_pension_fen(c_fen, idx_s[sel], deemed_m[sel],
                                                Decimal(str(g.get("coef", 0))))

    # -- decisions: the shared part once per basis, each case's own part compactly
    done = np.flatnonzero(ok)
    frags = _period_json(L, sources)
    starts = np.searchsorted(ci, np.arange(n + 1))
    # the paid period starts of each case, as bytes (a key for its set of period wages)
    pdays_of = np.split(np.where(paid_row, L["day"], -1), starts[1:-1])
    texts: dict[tuple, str] = {}
    case_basis: list = []
    for i in done.tolist():
        reg, iso = region[i], ret_iso[i]
        g = gparams[(reg, iso)]
        has_deemed = bool(deemed_m[i])
        rkey = ry[i] if i in rate_json else None
        bkey = (reg, iso, pdays_of[i].tobytes(), has_deemed, rkey)
        if bkey not in texts:
            pdays = tuple(dict.fromkeys(d for d in pdays_of[i].tolist() if d >= 0))
            params = [g["schedule"], g["json"][PARAMS[0][1]], g["json"][PARAMS[1][1]]]
            params += [rules.lookup_json(WAGE, reg, _from_days(d)) for d in pdays]
            params += [g["json"][name] for _, name in PARAMS[2:]]
            if has_deemed:
                params.append(g["json"][COEF])
            if rkey is not None:
                params.append(rate_json[i])
            texts[bkey] = D.basis_text(
                params, {_from_days(d).isoformat(): wage_str[(reg, d)] for d in pdays},
                str(g["cb"]), str(g["rate"]))
        case_basis.append(texts[bkey])
    basis_id = D.store_bases(conn, list(set(texts.values())), at)
    out = []
    for j, i in enumerate(done.tolist()):
        g = gparams[(region[i], ret_iso[i])]
        coef = g.get("coef", Decimal(0)) if deemed_m[i] else Decimal(0)
        # the case's own inputs: codes, dates and numbers only (nothing JSON must escape)
        own = (f'{{"person_id":{pid[i]},"claim_region":"{region[i]}","claim":"statutory",'
               f'"birth_date":"{birth[i].isoformat()}","category":"{cats[i]}",'
               f'"statutory_retirement_date":"{ret_iso[i]}",'
               f'"statutory_age_months":{st_age[i]},"delay_months":{delay[i]},'
               f'"retirement_date":"{ret_iso[i]}","age_at_retirement_months":{age_m[i]},'
               f'"min_contribution_months":{int(g["min"])},"avg_index_scaled":{idx_s[i]},'
               f'"coefficient":"{coef}","account_code":"{codes[i]}",'
               f'"account_opening_fen":{opening[i]},'
               f'"account_credits_this_year_fen":{credit_sum[i]},'
               f'"account_interest_this_year_fen":{interest[i]},'
               f'"account_interest_months":{k[i]},"account_balance_fen":{balance[i]},'
               f'"divisor":{divisor[i]}}}')
        b, a, t = int(basic[i]), int(account[i]), int(trans[i])
        decision = (f'{{"v":{D.COMPACT},"basis":{basis_id[case_basis[j]]},"s":{own},'
                    f'"rec":[{",".join(frags[starts[i]:starts[i + 1]])}],'
                    f'"nc":{json.dumps(not_counted.get(i, []), ensure_ascii=False)},'
                    f'"amounts":[{b},{a},{t}]}}')
        out.append({"cid": cand[i][0]["id"], "status": "computed", "computed_at": at,
                    "missing": None, "options": None, "basic_fen": b, "account_fen": a,
                    "transitional_fen": t, "total_fen": b + a + t,
                    "retirement_date": dt.date.fromisoformat(ret_iso[i]),
                    "decision": decision})
    rest += [cand[i][0] for i in np.flatnonzero(~ok).tolist()]
    return out, rest


def _period_json(L: dict, sources: list[str]) -> list[str]:
    """Each period of the chunk's record as the JSON array a compact decision stores
    (``decision_record.REC_FIELDS``). The text around a period's base is the same for all
    periods alike (day, months, kind, region, origin, source, superseded: a few kinds per
    chunk): built once per kind, the base put between."""
    paid_row = L["paid"]
    src_json = [json.dumps(s, ensure_ascii=False) for s in sources]
    cols = np.column_stack([L["day"], L["months"], L["index_months"], paid_row,
                            L["source"], L["region"], L["shebao"],
                            L["superseded"]]).astype(np.int64)
    radix = cols.max(axis=0) + 1 if len(cols) else np.ones(cols.shape[1], np.int64)
    if math.prod(int(x) for x in radix) < 2 ** 62:        # one integer per row: fast unique
        shape = np.zeros(len(cols), np.int64)
        for c, r in zip(cols.T, radix):
            shape = shape * int(r) + c
        kinds, kind_of = np.unique(shape, return_inverse=True)
    else:
        kinds, kind_of = np.unique(cols, axis=0, return_inverse=True)
    kind_of = kind_of.reshape(-1)
    first = np.zeros(len(kinds), np.int64)
    first[kind_of[::-1]] = np.arange(len(kind_of))[::-1]
    pre, suf = [], []
    for r in first.tolist():
        d, m, im, p = int(L["day"][r]), int(L["months"][r]), int(L["index_months"][r]), \
            bool(paid_row[r])
        pre.append(f'["{_from_days(d).isoformat()}",{m},')
        suf.append(f',{im},"{"paid" if p else "deemed"}","{int(L["region"][r]):06d}",'
                   f'"{SHEBAO if L["shebao"][r] else LEGACY}",'
                   f'{src_json[int(L["source"][r])]},{int(L["superseded"][r])}]')
    frags = [pre[kk] + ("null" if b < 0 else str(b)) + suf[kk]
             for kk, b in zip(kind_of.tolist(), L["base"].tolist())]
    return frags


def _accounts(conn, rules, region: list[str], pid: np.ndarray, ry: np.ndarray, rm: np.ndarray,
              ok: np.ndarray) -> dict:
    """The individual account at retirement, per case: opening balance (before the retirement
    year), this year's credits by month before the retirement month, their interest by the
    monthly-product method (the rate's parameter per case that earns any), the balance.
    Cases without an account, the year's rate or with a negative balance are taken out of
    ``ok`` (the per-case path reports them)."""
    n = len(pid)
    keep = np.flatnonzero(ok)
    codes = {int(i): account_code(region[i], "pension", "individual", int(pid[i])) for i in keep}
    ids = ledger_queries.account_ids(conn, codes.values())
    opening = np.zeros(n, np.int64)
    credits = np.zeros((n, 12), np.int64)
    for i in keep:
        if codes[int(i)] not in ids:
            ok[i] = False
    keep = np.flatnonzero(ok)
    for year, sel in _groups(ry[keep].tolist()).items():
        rows = keep[sel]
        accts = [ids[codes[int(i)]] for i in rows]
        start = dt.date(year, 1, 1)
        sums = ledger_queries.sums_before(conn, accts, start)
        opening[rows] = [-int(sums.get(a) or 0) for a in accts]
        last = dt.date(year, int(rm[rows].max()), 1)
        where = {a: int(i) for a, i in zip(accts, rows)}
        for aid, day, amount in ledger_queries.postings_between(conn, accts, start, last):
            i, d = where[aid], _day(day)
            if d.month < rm[i]:
                credits[i, d.month - 1] -= amount      # credit-normal: a credit is negative
    k = rm - 1
    earns = (k > 0) & ((opening != 0) | credits.any(axis=1))
    interest = np.zeros(n, np.int64)
    rate_json: dict[int, dict] = {}
    for (reg, year), sel in _groups(list(zip(region, ry.tolist()))).items():
        rows = sel[ok[sel] & earns[sel]]
        if not len(rows):
            continue
        start = dt.date(year, 1, 1)
        try:
            rn, rdn = rate_ratio(Decimal(rules.value(INTEREST, reg, start)))
            js = rules.lookup_json(INTEREST, reg, start)
        except RuleError:
            ok[rows] = False
            continue
        w = np.clip(k[rows, None] - np.arange(12)[None, :], 0, None)
        product = opening[rows] * k[rows] + (credits[rows] * w).sum(axis=1)
        interest[rows] = round_half_up(product * rn, rdn * 12)
        for i in rows.tolist():
            rate_json[i] = js
    credit_sum = credits.sum(axis=1)
    balance = opening + credit_sum + interest
    ok &= balance >= 0

    return {"codes": codes, "opening": opening, "credit_sum": credit_sum, "interest": interest,
            "balance": balance, "k": k, "rate_json": rate_json}


def _average_index(case_of_row, base, wage_n, months, lo: Decimal, hi: Decimal,
                   cases: np.ndarray, total: np.ndarray) -> np.ndarray:
    """F.average_index_scaled for many persons at once: each period's index base ÷ (wage × n)
    clamped to [lo, hi], weighted by its months; the sum as one rational per person over a
    common denominator of the chunk (the same value as over the person's own, so the same
    rounding), rounded once."""
    lo_f, hi_f = Fraction(lo), Fraction(hi)
    ln, ld, hn, hd = lo_f.numerator, lo_f.denominator, hi_f.numerator, hi_f.denominator
    pos = np.searchsorted(cases, case_of_row)           # row → position among ``cases``
    low = base * ld < ln * wage_n
    high = ~low & (base * hd > hn * wage_n)
    mid = ~low & ~high
    at_lo = np.bincount(pos, weights=months * low, minlength=len(cases)).astype(np.int64)
    at_hi = np.bincount(pos, weights=months * high, minlength=len(cases)).astype(np.int64)
    keys, kidx = np.unique(wage_n[mid], return_inverse=True)
    sums = np.zeros((len(cases), len(keys)), np.int64)
    np.add.at(sums, (pos[mid], kidx), base[mid] * months[mid])
    den = math.lcm(ld, hd, *map(int, keys))
    weights = np.array([den // int(k) for k in keys], dtype=object)
    num = (at_lo.astype(object) * (ln * (den // ld)) + at_hi.astype(object) * (hn * (den // hd))
           + (sums.astype(object) @ weights if len(keys) else 0))
    scaled = num * F.INDEX_SCALE
    d = total.astype(object) * den
    return np.array(((2 * scaled + d) // (2 * d)).tolist(), dtype=np.int64)


def _groups(keys: list) -> dict:
    """key → positions (numpy) of the items with that key, in order of first appearance."""
    out: dict = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


_EPOCH = dt.date(1970, 1, 1)


def _from_days(d: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(d))


def _day(v) -> dt.date:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    return dt.date.fromisoformat(str(v)[:10])
