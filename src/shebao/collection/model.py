"""Collection domain: storage layout of an assessment, bills, allocation of receipts, late fees.

Plain Python and numpy, no SQLAlchemy. Amounts are integer fen; every fraction of a fen is
resolved by ``core.money.round_half_up``; every rate and date rule comes from the parameters.

An assessment row is *wide*: one amount column per (scheme, side, account) where side is
``er`` (the employer pays) or ``ee`` (the insured person pays: an employee's withheld share, a
flexible worker's or a resident's own contribution) and account is ``pool`` (pooled fund) or
``ind`` (the person's individual account). One row per person × payer keeps a million-person
month at a million rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str, round_half_up
from shebao.core.periods import add_months, month_end, month_str
from shebao.core.schemes import (COLLECTED_SCHEMES, EMPLOYEE_SCHEMES,  # noqa: F401
                                 KIND_PAYER, PAYER_TYPES, RESIDENT_MEDICAL, RESIDENT_SCHEME)
from shebao.rules.formulas.contribution import (DEN, assess_employees, assess_flexible,
                                                clamp_base)

SIDES = ("er", "ee")
ACCOUNTS = ("pool", "ind")
AMOUNT_COLUMNS = tuple(f"{s}_{side}_{acct}" for s in EMPLOYEE_SCHEMES for side in SIDES
                       for acct in ACCOUNTS) + (f"{RESIDENT_SCHEME}_ee_pool",
                                                f"{RESIDENT_SCHEME}_ee_ind",
                                                f"{RESIDENT_MEDICAL}_ee_pool")
COLUMN_INDEX = {c: i for i, c in enumerate(AMOUNT_COLUMNS)}

# advisory lock namespace of collection's runs (db.dialect.xact_lock)
LOCK_NS = 0x5EBAC011


# How the base of a row was found.
BASIS = {0: "declared wage", 1: "wage on the employment record", 2: "no wage known: floor",
         3: "chosen base (flexible)", 4: "no base chosen: floor (flexible)",
         5: "chosen tier (resident)"}
CLAMP = {-1: "raised to the floor", 0: "within the limits", 1: "cut to the ceiling"}


def column_for(scheme: str, payer: str, account: str) -> str:
    """The amount column of a rate line (``rules.formulas.contribution.Line``)."""
    side = "er" if payer == "employer" else "ee"
    acct = "pool" if account == "pooled" else "ind"
    col = f"{scheme}_{side}_{acct}"
    if col not in COLUMN_INDEX:
        raise ValueError(f"no storage column for {scheme}/{payer}/{account}")
    return col


def scheme_columns(scheme: str) -> list[int]:
    return [i for i, c in enumerate(AMOUNT_COLUMNS) if c.startswith(scheme + "_")]


def e2e_id(region: str, month: dt.date, payer_type: str, payer_id: int) -> str:
    """End-to-end id of a bill: what the bank echoes back on the receipt (25 characters:
    ``SB`` + region + YYYYMM + payer type + payer id on 10 digits)."""
    return f"SB{region}{month.year:04d}{month.month:02d}{payer_type}{int(payer_id):010d}"


E2E_LEN = 25


def parse_e2e(e2e: str) -> tuple[str, dt.date, str, int] | None:
    if not (isinstance(e2e, str) and e2e.startswith("SB") and len(e2e) == E2E_LEN):
        return None
    region, y, m, t, rest = e2e[2:8], e2e[8:12], e2e[12:14], e2e[14], e2e[15:]
    if not (region.isdigit() and y.isdigit() and m.isdigit() and t in PAYER_TYPES
            and rest.isdigit() and 1 <= int(m) <= 12):
        return None
    return region, dt.date(int(y), int(m), 1), t, int(rest)


def declaration_effective(year: int, adjustment_month: int) -> dt.date:
    """A declaration for ``year`` takes effect on the first day of the adjustment month."""
    return dt.date(year, adjustment_month, 1)


def clamp_reason(wage_fen: int, base_fen: int, floor_fen: int, ceiling_fen: int,
                 clamp: int) -> str:
    """What the payer is told when the base differs from the wage."""
    w, b = fen_to_yuan_str(wage_fen), fen_to_yuan_str(base_fen)
    if clamp < 0:
        return (f"declared wage {w} is below the floor {fen_to_yuan_str(floor_fen)} in force: "
                f"base raised to {b}")
    if clamp > 0:
        return (f"declared wage {w} is above the ceiling {fen_to_yuan_str(ceiling_fen)} in "
                f"force: base cut to {b}")
    return f"declared wage {w} is within [{fen_to_yuan_str(floor_fen)}, " \
           f"{fen_to_yuan_str(ceiling_fen)}]: base {b}"


def due_date(month: dt.date, due_day: int) -> dt.date:
    """Bills of ``month`` are due on ``due_day`` of the following month (its last day when
    the month is shorter)."""
    nxt = add_months(month.replace(day=1), 1)
    return nxt.replace(day=min(due_day, month_end(nxt).day))


def late_fee(outstanding_fen, days, rate_num: int, rate_den: int):
    """Late fee = outstanding × daily rate × days overdue, rounded once (arrays or ints)."""
    out = np.asarray(outstanding_fen, dtype=np.int64)
    d = np.maximum(np.asarray(days, dtype=np.int64), 0)
    return round_half_up(out * d * rate_num, rate_den)


def allocate(group, amount, capacity):
    """Allocate payments to ordered slots, group by group, vectorised.

    ``group``: int array, sorted, the group (bill) of each slot; ``capacity``: what each slot
    can still take (outstanding of a bill line, in priority order inside its group);
    ``amount``: per *group* (indexed by the group's position in ``np.unique(group)``), the money
    to spread. Returns (allocated per slot, excess per group). Slots are filled in order; what
    is left after the last slot of a group is its excess.
    """
    group = np.asarray(group, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.int64)
    amount = np.asarray(amount, dtype=np.int64)
    if len(group) == 0:
        return np.zeros(0, np.int64), amount.copy()
    _, start, gidx = np.unique(group, return_index=True, return_inverse=True)
    csum = np.cumsum(cap)
    before = csum - cap - (csum - cap)[start][gidx]           # capacity before this slot in group
    alloc = np.clip(amount[gidx] - before, 0, cap)
    total_cap = np.add.reduceat(cap, start)
    excess = np.maximum(amount - total_cap, 0)
    return alloc.astype(np.int64), excess.astype(np.int64)


@dataclass(frozen=True)
class Receipt:
    """One bank receipt as read from a statement or CSV (before matching)."""

    row: int
    bank_ref: str
    e2e_id: str
    amount_fen: int
    booked_on: dt.date
    payer_account: str = ""

    def key(self) -> tuple:
        return (self.e2e_id, self.amount_fen, self.booked_on)


# --------------------------------------------------------------------------- receipts

@dataclass
class Receipts:
    """Bank receipts as columns, in file order (what the import works on): the file's row,
    the bank's reference, the end-to-end id echoed (the bill's, or anything), the amount in
    fen and the day the bank booked it."""

    row: list = field(default_factory=list)
    bank_ref: list = field(default_factory=list)
    e2e_id: list = field(default_factory=list)
    amount_fen: list = field(default_factory=list)
    booked_on: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.bank_ref)

    def take(self, idx) -> "Receipts":
        """The receipts at positions ``idx`` (ascending)."""
        idx = list(idx)
        return Receipts(*([col[i] for i in idx] for col in (
            self.row, self.bank_ref, self.e2e_id, self.amount_fen, self.booked_on)))


def allocate_receipts(bill_of: np.ndarray, amount: np.ndarray, line_bill: np.ndarray,
                      line_cap: np.ndarray):
    """Receipts to bill lines, vectorised, with ``allocate``: the receipts of a bill, in file
    order, each take the next slice of the bill's outstanding lines (in priority order), so a
    partial payment fills pension first and a second receipt continues where the first
    stopped; what exceeds the bill is the receipt's excess.

    ``bill_of``: each receipt's bill (0: no bill); ``amount``: each receipt's money;
    ``line_bill`` (sorted) / ``line_cap``: the bills' lines in priority order and what each
    can still take. Returns (applied per receipt, and the non-zero allocations as three
    arrays: receipt index, line index, fen)."""
    bill_of = np.asarray(bill_of, dtype=np.int64)
    amount = np.asarray(amount, dtype=np.int64)
    line_bill = np.asarray(line_bill, dtype=np.int64)
    cap = np.maximum(np.asarray(line_cap, dtype=np.int64), 0)
    applied = np.zeros(len(bill_of), np.int64)
    none = np.zeros(0, np.int64)
    idx = np.flatnonzero(bill_of > 0)
    if not len(idx) or not len(line_bill):
        return applied, (none, none, none)
    # receipts grouped by bill, file order inside; what the bill's earlier receipts took
    order = idx[np.lexsort((idx, bill_of[idx]))]
    rb, ra = bill_of[order], amount[order]
    csum = np.cumsum(ra)
    first = np.searchsorted(rb, rb, side="left")
    before = csum - ra - (csum - ra)[first]
    # each receipt paired with each line of its bill (one group per receipt)
    ub, ustart, ucount = np.unique(line_bill, return_index=True, return_counts=True)
    bpos = np.minimum(np.searchsorted(ub, rb), len(ub) - 1)
    counts = np.where(ub[bpos] == rb, ucount[bpos], 0)
    rep = np.repeat(np.arange(len(order)), counts)
    lidx = ustart[bpos[rep]] + (np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts,
                                                                 counts))
    # the lines filled by the bill's receipts up to and including this one, minus before it
    upto, _ = allocate(rep, (before + ra)[counts > 0], cap[lidx])
    below, _ = allocate(rep, before[counts > 0], cap[lidx])
    share = upto - below
    applied[order] = sum_by(rep, share, len(order))
    keep = share > 0
    return applied, (order[rep[keep]], lidx[keep], share[keep])


def sum_by(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Integer sums of ``values`` per group index (exact: no float on the way)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, group, values)
    return out


# --------------------------------------------------------------------------- row keys

def _pack(a: np.ndarray, b: np.ndarray):
    """The rows of ``a`` and ``b`` (same width, ints) as one int64 each, keeping equality —
    when the ranges of the columns fit in 62 bits together (else None)."""
    both = np.concatenate([a, b])
    lo, hi = both.min(axis=0), both.max(axis=0)
    span = [int(h) - int(l) + 1 for l, h in zip(lo.tolist(), hi.tolist())]
    total = 1
    for s in span:
        total *= s
    if total >= 1 << 62:
        return None
    key = np.zeros(len(both), dtype=np.int64)
    for j, s in enumerate(span):
        key = key * s + (both[:, j] - lo[j])
    return key[:len(a)], key[len(a):]


def match_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each row key of ``a`` (n×k ints), the index of the same key in ``b`` (unique
    keys), or −1."""
    if len(a) == 0 or len(b) == 0:
        return np.full(len(a), -1, dtype=np.int64)
    packed = _pack(a, b)
    if packed is not None:    # one int64 per key: a sort of b and a binary search
        ka, kb = packed
        ob = np.argsort(kb, kind="stable")
        pos = np.minimum(np.searchsorted(kb[ob], ka), len(kb) - 1)
        return np.where(kb[ob[pos]] == ka, ob[pos], -1).astype(np.int64)
    _, inv = np.unique(np.concatenate([a, b]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.full(inv.max() + 1, -1, dtype=np.int64)
    pos[inv[len(a):]] = np.arange(len(b))
    return pos[inv[:len(a)]]


# --------------------------------------------------------------------------- assessment

@dataclass
class RateContext:
    """What an assessment resolves once per region × month: the rate set (lines for employees
    and flexible workers, floor, ceiling, injury rates), the parameters it used, whether
    residents are billed this month, and every employer's injury class and floating tier."""

    rs: object                       # rules.formulas.contribution.RateSet
    sources: list
    bill_residents: bool
    emp_ids: np.ndarray              # sorted
    emp_class: np.ndarray
    emp_tier: np.ndarray
    resident_medical_fen: int = 0    # the year's individual resident medical contribution

    def __post_init__(self):
        self.lines = [(COLUMN_INDEX[column_for(ln.scheme, ln.payer, ln.account)], ln)
                      for ln in self.rs.lines]
        self.flex_lines = [(COLUMN_INDEX[column_for(ln.scheme, ln.payer, ln.account)], ln)
                           for ln in self.rs.flexible_lines]

    def employer_attrs(self, employer_ids: np.ndarray):
        pos = np.searchsorted(self.emp_ids, employer_ids)
        pos = np.clip(pos, 0, max(len(self.emp_ids) - 1, 0))
        if len(employer_ids) and (len(self.emp_ids) == 0
                                  or np.any(self.emp_ids[pos] != employer_ids)):
            missing = employer_ids[(len(self.emp_ids) == 0) | (self.emp_ids[pos] != employer_ids)]
            raise InputError(f"enrolments name unknown employers: {missing[:5].tolist()}",
                             field="employer_id")
        return self.emp_class[pos], self.emp_tier[pos]


def compute_chunk(ctx: RateContext, rows: np.ndarray, decl: np.ndarray, month: dt.date):
    """Vectorised assessment of one chunk.

    ``rows``: person_id, k, employer_id, wage (−1 unknown), 6 scheme flags.
    ``decl``: person_id, k, employer_id, year, value — sorted, several per key allowed (latest
    wins). Returns (keys n×3, info n×5 [wage, base, clamp, basis, injury_num], amounts n×NCOL).
    """
    rs = ctx.rs
    ncol = len(AMOUNT_COLUMNS)
    n = len(rows)
    keys = rows[:, 0:3]
    flags = rows[:, 4:4 + len(COLLECTED_SCHEMES)].astype(bool)
    amounts = np.zeros((n, ncol), dtype=np.int64)
    info = np.zeros((n, 5), dtype=np.int64)
    if n == 0:
        return keys, info, amounts
    # latest declaration per key
    if len(decl):
        last = np.ones(len(decl), dtype=bool)
        last[:-1] = np.any(decl[1:, 0:3] != decl[:-1, 0:3], axis=1)
        decl = decl[last]
    di = match_rows(keys, decl[:, 0:3] if len(decl) else np.zeros((0, 3), np.int64))
    has_decl = di >= 0
    dval = np.where(has_decl, decl[np.maximum(di, 0), 4] if len(decl) else 0, 0)
    dyear = np.where(has_decl, decl[np.maximum(di, 0), 3] if len(decl) else 0, 0)
    k = rows[:, 1]
    # employees
    e = np.flatnonzero(k == 0)
    if len(e):
        wage = np.where(has_decl[e], dval[e], rows[e, 3])
        basis = np.where(has_decl[e], 0, np.where(rows[e, 3] >= 0, 1, 2))
        wage = np.maximum(wage, 0)
        base, how = clamp_base(wage, rs.floor_fen, rs.ceiling_fen)
        inj = np.zeros(len(e), dtype=np.int64)
        if rs.injury_base:
            cls, tier = ctx.employer_attrs(rows[e, 2])
            inj = rs.injury_rate_num(cls, tier * (DEN // 100))
        per_line = assess_employees(rs, base, inj)
        for col, ln in ctx.lines:
            f = flags[e, COLLECTED_SCHEMES.index(ln.scheme)]
            amounts[e, col] = np.where(f, per_line[ln], 0)
        injury_enrolled = flags[e, COLLECTED_SCHEMES.index("injury")]
        info[e] = np.column_stack([wage, base, how, basis, np.where(injury_enrolled, inj, 0)])
    # flexible workers: the chosen base (clamped to the month's limits) or the floor
    f_ = np.flatnonzero(k == 1)
    if len(f_):
        chosen = np.where(has_decl[f_], dval[f_], rs.floor_fen)
        base, how = clamp_base(chosen, rs.floor_fen, rs.ceiling_fen)
        per_line = assess_flexible(rs, base)
        for col, ln in ctx.flex_lines:
            amounts[f_, col] = np.where(flags[f_, COLLECTED_SCHEMES.index(ln.scheme)], per_line[ln], 0)
        info[f_] = np.column_stack([chosen, base, how, np.where(has_decl[f_], 3, 4),
                                    np.zeros(len(f_), np.int64)])
    # residents: the tier chosen for this year, in the billing month
    r = np.flatnonzero(k == 2)
    if len(r) and ctx.bill_residents:
        ok = has_decl[r] & (dyear[r] == month.year) & flags[r, COLLECTED_SCHEMES.index(
            RESIDENT_SCHEME)]
        col = COLUMN_INDEX[f"{RESIDENT_SCHEME}_ee_ind"]
        amounts[r, col] = np.where(ok, dval[r], 0)
        # resident medical: the year's fixed individual contribution, no choice to make
        med = flags[r, COLLECTED_SCHEMES.index(RESIDENT_MEDICAL)]
        amounts[r, COLUMN_INDEX[f"{RESIDENT_MEDICAL}_ee_pool"]] = np.where(
            med, ctx.resident_medical_fen, 0)
        info[r] = np.column_stack([dval[r], dval[r], np.zeros(len(r), np.int64),
                                   np.full(len(r), 5), np.zeros(len(r), np.int64)])
    keep = amounts.any(axis=1)
    return keys[keep], info[keep], amounts[keep]


def diff_with_previous(keys, info, amounts, old: np.ndarray):
    """Subtract what earlier runs assessed (``old``: person, k, emp, len(AMOUNT_COLUMNS) sums); keep non-zero."""
    if len(old) == 0:
        return keys, info, amounts
    okeys, oamt = old[:, 0:3], old[:, 3:]
    allk = np.concatenate([keys, okeys])
    uk, inv = np.unique(allk, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    total = np.zeros((len(uk), len(AMOUNT_COLUMNS)), dtype=np.int64)
    np.add.at(total, inv[:len(keys)], amounts)
    np.subtract.at(total, inv[len(keys):], oamt)
    new_info = np.zeros((len(uk), 5), dtype=np.int64)
    new_info[inv[:len(keys)]] = info
    keep = total.any(axis=1)
    return uk[keep], new_info[keep], total[keep]


def assessment_batch(region: str, month: dt.date, run_id: int, keys, amounts):
    """The ledger batch of an assessment's rows (``keys``: person, k, employer; ``amounts``:
    one column per ``AMOUNT_COLUMNS``): per scheme, Dr the receivables (employer rows /
    individuals' rows), Cr the pooled fund (one aggregated line) and Cr each person's
    individual account (schemes with individual accounts). None when there is nothing."""
    from shebao.ledger.model import INDIVIDUAL_SCHEMES, Batch, BatchEntry, Line, account_code

    entries = []
    is_emp = keys[:, 1] == 0
    pids = keys[:, 0]
    for scheme in COLLECTED_SCHEMES:
        cols = scheme_columns(scheme)
        sub = amounts[:, cols]
        if not sub.any():
            continue
        names = [AMOUNT_COLUMNS[c] for c in cols]
        pool_mask = np.array([nm.endswith("_pool") for nm in names])
        ind = sub[:, ~pool_mask].sum(axis=1)
        pooled = int(sub[:, pool_mask].sum())
        recv_e = int(sub[is_emp].sum())
        recv_i = int(sub[~is_emp].sum())
        person_ids = np.zeros(0, np.int64)
        person_amts = np.zeros(0, np.int64)
        if scheme in INDIVIDUAL_SCHEMES:
            nz = ind != 0
            person_ids, inv = np.unique(pids[nz], return_inverse=True)
            person_amts = np.zeros(len(person_ids), np.int64)
            np.add.at(person_amts, inv.reshape(-1), -ind[nz])
        else:  # the ledger keeps no individual accounts for this scheme: pooled
            pooled += int(ind.sum())
        lines = []
        if recv_e:
            lines.append(Line(account_code(region, scheme, "receivable_employer"), recv_e))
        if recv_i:
            lines.append(Line(account_code(region, scheme, "receivable_individual"), recv_i))
        if pooled:
            lines.append(Line(account_code(region, scheme, "pooled_fund"), -pooled))
        entries.append(BatchEntry(region, scheme, month, tuple(lines), person_ids, person_amts,
                                  source="collection.assess",
                                  memo=f"assessment {region} {month_str(month)} run {run_id}"))
    return Batch(entries) if entries else None
