"""Ledger domain: the chart of accounts, lines, entries and batches as plain dataclasses.

No SQLAlchemy here. Everything a request must satisfy *before* it reaches the database is
checked here and refused with :class:`~shebao.core.errors.InputError` (malformed) or
:class:`~shebao.core.errors.InvariantError` (unbalanced):

* amounts are integer fen (``int`` or numpy int64), never floats, never zero;
  **sign convention: debit positive, credit negative** (``Line.debit`` / ``Line.credit``);
* an entry has at least two lines and sums to zero, and it balances *within each
  region × scheme* (funds of different schemes and regions are never mixed; moving money
  between regions goes through each region's ``transfer_clearing`` account);
* idempotency keys are 1–200 characters of ``A–Z a–z 0–9 : . _ / @ + = -``, starting with a
  letter or digit.

Account codes: ``<region>.<scheme>.<kind>`` for the chart and
``<region>.<scheme>.individual.<person_id>`` for an individual account, e.g.
``310000.pension.pooled_fund`` and ``310000.pension.individual.1234``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np

from shebao.core.errors import InputError, InvariantError
from shebao.core.regions import check_region
from shebao.core.schemes import (CHART_ACCOUNT_KINDS, INDIVIDUAL_ACCOUNT, INDIVIDUAL_SCHEMES,
                                 SCHEMES, check_scheme)

DEBIT, CREDIT = 1, -1


@dataclass(frozen=True)
class AccountKind:
    kind: str
    normal_sign: int        # DEBIT: balance = Σ amount; CREDIT: balance = −Σ amount
    no_negative: bool
    title: str


# The chart of accounts of one region × scheme.
CHART: tuple[AccountKind, ...] = (
    AccountKind("pooled_fund", CREDIT, False, "统筹基金 pooled fund"),
    AccountKind("fund_bank", DEBIT, True, "基金财政专户 fund special account at the bank"),
    AccountKind("bank_transit", DEBIT, False, "银行代收在途 bank collection in transit"),
    AccountKind("receivable_employer", DEBIT, False, "应收单位缴费 receivable from employers"),
    AccountKind("receivable_individual", DEBIT, False, "应收个人缴费 receivable from individuals"),
    AccountKind("benefits_payable", CREDIT, False, "应付待遇 benefits payable"),
    AccountKind("suspense", CREDIT, False, "暂收款 suspense (unmatched receipts)"),
    AccountKind("late_fee_income", CREDIT, False, "滞纳金收入 late-fee income"),
    AccountKind("interest_credited", DEBIT, False,
                "个人账户记账利息 interest credited to individual accounts (charged to the pool)"),
    AccountKind("transfer_clearing", DEBIT, False, "转移清算 transfer clearing in/out between regions"),
    AccountKind("expenses", DEBIT, False, "基金支出 expenses"),
    # the fund's fiscal-subsidy income (财政补贴收入), kept apart from contributions so that
    # the fund statement reports the current surplus with and without subsidy (#18)
    AccountKind("fiscal_subsidy", CREDIT, False, "财政补贴收入 fiscal subsidy income"),
    # fines of supervision decisions (社会保险法 art. 88: 罚没收入 go to the treasury, not to the
    # fund): a memorandum pair outside the fund's balance — what is owed by the fined party and
    # what is owed on to the treasury — so that every decision that moves money is in the books
    AccountKind("fines_receivable", DEBIT, False, "应收罚款 fines receivable (not fund money)"),
    AccountKind("fines_payable_treasury", CREDIT, False,
                "应缴国库罚没收入 fines owed to the treasury (not fund money)"),
)
INDIVIDUAL = AccountKind(INDIVIDUAL_ACCOUNT, CREDIT, True, "个人账户 individual account")
KINDS = {k.kind: k for k in CHART} | {INDIVIDUAL.kind: INDIVIDUAL}
if tuple(k.kind for k in CHART) != CHART_ACCOUNT_KINDS:   # the vocabulary is core's
    raise ImportError("ledger.model.CHART and core.schemes.CHART_ACCOUNT_KINDS disagree")

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._/@+=\-]{0,199}$")
_SOURCE = re.compile(r"^[a-z][a-z0-9_.:\-]{0,63}$")


def check_key(key) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise InputError(f"malformed idempotency key {key!r}: 1–200 characters of A–Z a–z 0–9 "
                         ": . _ / @ + = -, starting with a letter or digit", field="key",
                         value=key)
    return key


def check_source(source) -> str:
    if not isinstance(source, str) or not _SOURCE.match(source):
        raise InputError(f"source {source!r} must be a short lower-case tag such as "
                         "'collection' or 'payroll.run:42'", field="source")
    return source


def check_fen(amount, what: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, (int, np.integer)):
        raise InputError(f"{what} must be integer fen, got {type(amount).__name__} {amount!r}",
                         field=what)
    return int(amount)


def account_code(region: str, scheme: str, kind: str, person_id: int | None = None) -> str:
    check_region(region)
    check_scheme(scheme)
    if kind not in KINDS:
        raise InputError(f"unknown account kind {kind!r} (one of {', '.join(KINDS)})",
                         field="kind")
    if kind == "individual":
        if scheme not in INDIVIDUAL_SCHEMES:
            raise InputError(f"scheme {scheme} has no individual accounts", field="scheme")
        if person_id is None or isinstance(person_id, bool) or int(person_id) <= 0:
            raise InputError("an individual account needs a positive person_id", field="person_id")
        return f"{region}.{scheme}.individual.{int(person_id)}"
    if person_id is not None:
        raise InputError(f"account kind {kind} is not per person", field="person_id")
    return f"{region}.{scheme}.{kind}"


@dataclass(frozen=True)
class AccountCode:
    region: str
    scheme: str
    kind: str
    person_id: int | None = None

    @property
    def code(self) -> str:
        return account_code(self.region, self.scheme, self.kind, self.person_id)


def parse_code(code: str) -> AccountCode:
    """``"310000.pension.individual.12"`` → AccountCode; refuses anything malformed."""
    parts = str(code).split(".")
    try:
        if len(parts) == 3:
            ac = AccountCode(parts[0], parts[1], parts[2])
        elif len(parts) == 4 and parts[2] == "individual" and parts[3].isdigit():
            ac = AccountCode(parts[0], parts[1], parts[2], int(parts[3]))
        else:
            raise InputError("bad shape")
        if ac.code != code:
            raise InputError("not canonical")
    except InputError as exc:
        raise InputError(f"unknown account {code!r}: not an account code of the form "
                         f"<region>.<scheme>.<kind>[.<person_id>] ({exc.reason})",
                         field="account") from None
    return ac


@dataclass(frozen=True)
class Line:
    """One posting of a request: ``amount`` fen, debit positive, credit negative."""

    account: str
    amount: int

    @staticmethod
    def debit(account: str, fen: int) -> "Line":
        return Line(account, check_fen(fen))

    @staticmethod
    def credit(account: str, fen: int) -> "Line":
        return Line(account, -check_fen(fen))


def _check_lines(lines, allow_empty: bool = False) -> tuple[Line, ...]:
    out = []
    for i, ln in enumerate(lines):
        if not isinstance(ln, Line):
            raise InputError(f"line {i} is not a Line", field="lines")
        parse_code(ln.account)
        amt = check_fen(ln.amount, f"lines[{i}].amount")
        if amt == 0:
            raise InputError(f"line {i} ({ln.account}) has a zero amount", field="lines")
        out.append(Line(ln.account, amt))
    if not out and not allow_empty:
        raise InputError("an entry needs lines", field="lines")
    return tuple(out)


def check_balanced(lines: tuple[Line, ...], extra_by_group: dict | None = None) -> None:
    """Refuse unless the lines sum to zero within each region × scheme."""
    groups: dict[tuple[str, str], int] = dict(extra_by_group or {})
    for ln in lines:
        ac = parse_code(ln.account)
        groups[(ac.region, ac.scheme)] = groups.get((ac.region, ac.scheme), 0) + ln.amount
    total = sum(groups.values())
    if total != 0:
        raise InvariantError(f"unbalanced entry: debits and credits differ by {total} fen "
                             f"(debit positive, credit negative; they must sum to 0)")
    bad = {f"{r}/{s}": v for (r, s), v in groups.items() if v != 0}
    if bad:
        raise InvariantError(f"entry mixes funds: it must balance within each region × scheme, "
                             f"but these do not: {bad} (use transfer_clearing accounts)")


def _as_date(d, what="effective_date") -> dt.date:
    if isinstance(d, dt.datetime) or not isinstance(d, dt.date):
        raise InputError(f"{what} must be a date, got {d!r}", field=what)
    return d


@dataclass(frozen=True)
class EntryRequest:
    """A journal entry to post: ``effective_date`` is the period it belongs to."""

    effective_date: dt.date
    lines: tuple[Line, ...]
    source: str = "manual"
    memo: str = ""

    def validated(self) -> "EntryRequest":
        lines = _check_lines(self.lines)
        if len(lines) < 2:
            raise InvariantError("an entry needs at least two postings")
        check_balanced(lines)
        return EntryRequest(_as_date(self.effective_date), lines, check_source(self.source),
                            str(self.memo or ""))

    def region_scheme(self) -> tuple[str | None, str | None]:
        codes = {(parse_code(ln.account).region, parse_code(ln.account).scheme)
                 for ln in self.lines}
        regs = {r for r, _ in codes}
        schs = {s for _, s in codes}
        return (regs.pop() if len(regs) == 1 else None, schs.pop() if len(schs) == 1 else None)

    def content_hash(self) -> str:
        return content_hash({
            "kind": "entry", "effective_date": self.effective_date.isoformat(),
            "source": self.source, "memo": self.memo,
            "lines": sorted([ln.account, ln.amount] for ln in self.lines)})


@dataclass
class BatchEntry:
    """One aggregated entry of a batch: for one region × scheme × run.

    ``lines`` are the aggregated postings to the chart (pooled fund, bank, receivables…);
    ``person_ids`` / ``person_amounts`` (int64 arrays of equal length, one row per person,
    persons unique) are the per-person postings to the individual accounts of this region ×
    scheme, same sign convention (a contribution *credited* to an individual account is a
    negative amount). Rows with a zero amount are dropped. ``lines`` + ``person_amounts`` must
    sum to zero.
    """

    region: str
    scheme: str
    effective_date: dt.date
    lines: tuple[Line, ...] = ()
    person_ids: np.ndarray | None = None
    person_amounts: np.ndarray | None = None
    source: str = "batch"
    memo: str = ""

    def validated(self) -> "BatchEntry":
        check_region(self.region)
        check_scheme(self.scheme)
        lines = _check_lines(self.lines, allow_empty=True)
        for ln in lines:
            ac = parse_code(ln.account)
            if (ac.region, ac.scheme) != (self.region, self.scheme):
                raise InvariantError(f"batch entry {self.region}/{self.scheme} has a line on "
                                     f"{ln.account}: a batch entry stays in its region × scheme")
        pids, amts = self.person_ids, self.person_amounts
        if (pids is None) != (amts is None):
            raise InputError("person_ids and person_amounts go together", field="person_ids")
        if pids is None:
            pids = np.zeros(0, dtype=np.int64)
            amts = np.zeros(0, dtype=np.int64)
        pids, amts = np.asarray(pids), np.asarray(amts)
        if pids.ndim != 1 or amts.shape != pids.shape:
            raise InputError("person_ids and person_amounts must be 1-d arrays of equal length",
                             field="person_amounts")
        if len(pids) and (pids.dtype.kind not in "iu" or amts.dtype.kind not in "iu"):
            raise InputError(f"person_ids and person_amounts must be integer arrays (fen), got "
                             f"{pids.dtype} and {amts.dtype}", field="person_amounts")
        pids = pids.astype(np.int64)
        amts = amts.astype(np.int64)
        if len(pids) and self.scheme not in INDIVIDUAL_SCHEMES:
            raise InputError(f"scheme {self.scheme} has no individual accounts",
                             field="person_ids")
        if len(pids) and pids.min() <= 0:
            raise InputError("person_ids must be positive", field="person_ids")
        keep = amts != 0
        pids, amts = pids[keep], amts[keep]
        if len(np.unique(pids)) != len(pids):
            raise InputError("a person appears twice in one batch entry; aggregate first",
                             field="person_ids")
        if len(lines) + len(pids) < 2:
            raise InvariantError("an entry needs at least two postings")
        person_total = int(amts.sum(dtype=np.int64)) if len(amts) else 0
        check_balanced(lines, {(self.region, self.scheme): person_total})
        return BatchEntry(self.region, self.scheme, _as_date(self.effective_date), lines, pids,
                          amts, check_source(self.source), str(self.memo or ""))

    def digest_parts(self) -> dict:
        h = hashlib.sha256()
        order = np.argsort(self.person_ids, kind="stable")
        h.update(np.ascontiguousarray(self.person_ids[order]).astype("<i8").tobytes())
        h.update(np.ascontiguousarray(self.person_amounts[order]).astype("<i8").tobytes())
        return {"region": self.region, "scheme": self.scheme,
                "effective_date": self.effective_date.isoformat(), "source": self.source,
                "memo": self.memo, "lines": sorted([ln.account, ln.amount] for ln in self.lines),
                "persons": h.hexdigest(), "n_persons": int(len(self.person_ids))}


@dataclass
class Batch:
    """Many entries posted in one transaction under one idempotency key."""

    entries: list[BatchEntry] = field(default_factory=list)

    def validated(self) -> "Batch":
        if not self.entries:
            raise InputError("a batch needs at least one entry", field="entries")
        return Batch([e.validated() for e in self.entries])

    def content_hash(self) -> str:
        return content_hash({"kind": "batch", "entries": [e.digest_parts() for e in self.entries]})


def contribution_entry(region: str, scheme: str, effective_date: dt.date, *,
                       debit_kind: str, person_ids, pooled_fen, individual_fen,
                       source: str = "collection", memo: str = "") -> BatchEntry:
    """The aggregated entry of a contribution run for one region × scheme.

    Per person: ``pooled_fen`` goes to the pooled fund (aggregated into one line) and
    ``individual_fen`` to the person's individual account; the total is debited to the
    ``debit_kind`` chart account (``receivable_employer``, ``bank_transit``, ``fund_bank``…).
    Arrays are int64 fen, one row per person.
    """
    pooled = np.asarray(pooled_fen, dtype=np.int64)
    indiv = np.asarray(individual_fen, dtype=np.int64)
    total_pooled = int(pooled.sum(dtype=np.int64))
    total_indiv = int(indiv.sum(dtype=np.int64))
    lines = []
    if total_pooled + total_indiv:
        lines.append(Line.debit(account_code(region, scheme, debit_kind),
                                total_pooled + total_indiv))
    if total_pooled:
        lines.append(Line.credit(account_code(region, scheme, "pooled_fund"), total_pooled))
    return BatchEntry(region, scheme, effective_date, tuple(lines),
                      np.asarray(person_ids, dtype=np.int64), -indiv, source, memo)


def content_hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def monthly_product_interest(opening: np.ndarray, monthly: np.ndarray, rate) -> np.ndarray:
    """Interest of a year by the monthly-product method (月积数法), exact, per account.

    ``opening``: balance at 1 January (normal side, fen), shape (n,). ``monthly``: the net
    amount recorded in each month (normal side), shape (n, 12). An amount recorded in month m
    (1–12) earns (13 − m) months; the opening balance earns 12:

        interest = round_half_up( (12·opening + Σ_m monthly[m]·(13 − m)) × rate / 12 )
    """
    from shebao.core.money import rate_ratio, round_half_up

    num, den = rate_ratio(rate)
    weights = np.arange(12, 0, -1, dtype=np.int64)          # Jan 12 … Dec 1
    product = 12 * opening.astype(np.int64) + (monthly.astype(np.int64) * weights).sum(axis=1)
    return round_half_up(product * num, den * 12)


__all__ = ["SCHEMES", "INDIVIDUAL_SCHEMES", "CHART", "INDIVIDUAL", "KINDS", "AccountKind",
           "AccountCode", "Line", "EntryRequest", "BatchEntry", "Batch", "account_code",
           "parse_code", "check_key", "check_region", "check_scheme", "contribution_entry",
           "monthly_product_interest"]
