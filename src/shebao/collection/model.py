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
from dataclasses import dataclass

import numpy as np

from shebao.core.money import fen_to_yuan_str, round_half_up
from shebao.core.periods import add_months
from shebao.core.schemes import (COLLECTED_SCHEMES, EMPLOYEE_SCHEMES,  # noqa: F401
                                 KIND_PAYER, PAYER_TYPES, RESIDENT_SCHEME)

SIDES = ("er", "ee")
ACCOUNTS = ("pool", "ind")
AMOUNT_COLUMNS = tuple(f"{s}_{side}_{acct}" for s in EMPLOYEE_SCHEMES for side in SIDES
                       for acct in ACCOUNTS) + (f"{RESIDENT_SCHEME}_ee_pool",
                                                f"{RESIDENT_SCHEME}_ee_ind")
COLUMN_INDEX = {c: i for i, c in enumerate(AMOUNT_COLUMNS)}


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
    """Bills of ``month`` are due on ``due_day`` of the following month."""
    nxt = add_months(month.replace(day=1), 1)
    return nxt.replace(day=min(due_day, 28 if nxt.month == 2 else 30 if nxt.month in
                               (4, 6, 9, 11) else 31))


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
