"""Ledger reads: accounts, balances and individual-account statements — for the ledger's
own use cases and for other packages (what they may read of the ledger's tables goes
through here: plain functions returning plain data).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, text

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.db.bulk import json_ids_sql, json_list, json_rows_sql
from shebao.db.dialect import unindexed
from shebao.db.uow import reading, transaction
from shebao.security.audit_appender import record_read

from .model import INDIVIDUAL_SCHEMES, check_region, check_scheme, parse_code
from .tables import ledger_account, ledger_entry, ledger_posting


def _as_dt(v) -> dt.datetime:
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return v



@dataclass(frozen=True)
class Account:
    id: int
    code: str
    region: str
    scheme: str
    kind: str
    person_id: int | None
    normal_sign: int
    no_negative: bool
    balance: int            # normal side

    @staticmethod
    def from_row(r) -> "Account":
        return Account(r.id, r.code, r.region, r.scheme, r.kind, r.person_id, r.normal_sign,
                       bool(r.no_negative), int(r.balance) * r.normal_sign)


def get_account(db, code: str) -> Account:
    parse_code(code)
    with reading(db) as conn:
        r = conn.execute(select(ledger_account).where(ledger_account.c.code == code)).first()
    if r is None:
        raise InputError(f"unknown account {code!r}: it has not been opened", field="account")
    return Account.from_row(r)


def balance(db, code: str, *, as_of: dt.date | None = None,
            recorded_before: dt.datetime | None = None) -> int:
    """Balance of an account on its normal side, in fen: all postings effective on or before
    ``as_of`` (and, for "what did the books say then", recorded before ``recorded_before``).
    Back-dated entries count in every later balance."""
    parse_code(code)
    with reading(db) as conn:
        acct = conn.execute(select(ledger_account).where(ledger_account.c.code == code)).first()
        if acct is None:
            raise InputError(f"unknown account {code!r}", field="account")
        q = select(func.coalesce(func.sum(ledger_posting.c.amount), 0)).where(
            ledger_posting.c.account_id == acct.id)
        if as_of is not None:
            q = q.where(ledger_posting.c.effective_date <= as_of)
        if recorded_before is not None:
            q = q.where(ledger_posting.c.entry_id.in_(select(ledger_entry.c.id).where(
                ledger_entry.c.recorded_at < recorded_before)))
        return int(conn.execute(q).scalar_one()) * acct.normal_sign


def account_balances(db, region: str, scheme: str, *, as_of: dt.date | None = None
                     ) -> dict[str, int]:
    """Normal-side balances of the chart accounts of a region × scheme (individual accounts
    summed under ``individual``), as of a date."""
    check_region(region)
    check_scheme(scheme)
    cond = "AND p.effective_date <= :d" if as_of else ""
    with reading(db) as conn:
        rows = conn.execute(text(
            f"SELECT a.kind, a.normal_sign, coalesce(sum(p.amount), 0) AS s "
            f"FROM ledger_account a LEFT JOIN ledger_posting p ON p.account_id = a.id {cond} "
            f"WHERE a.region = :r AND a.scheme = :s GROUP BY a.kind, a.normal_sign"),
            {"r": region, "s": scheme, "d": as_of}).all()
    return {r.kind: int(r.s) * r.normal_sign for r in rows}


@dataclass(frozen=True)
class StatementLine:
    effective_date: dt.date
    recorded_at: dt.datetime
    entry_id: int
    region: str
    source: str
    memo: str | None
    amount: int          # credit to the account positive, debit negative (normal side)
    balance: int         # running balance after this line

    def as_json(self) -> dict:
        return {"effective_date": self.effective_date.isoformat(),
                "recorded_at": self.recorded_at.isoformat(), "entry_id": self.entry_id,
                "region": self.region, "source": self.source, "memo": self.memo,
                "amount": fen_to_yuan_str(self.amount), "balance": fen_to_yuan_str(self.balance)}


@dataclass
class Statement:
    person_id: int
    scheme: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing_balance(self) -> int:
        return self.lines[-1].balance if self.lines else 0


def _check_reader(actor: Actor, person_id: int) -> None:
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen may read only their own account statement")
    if actor.role == "employer":
        raise PermissionDenied("employers may not read individual account statements")


@functools.lru_cache(maxsize=16)
def _lines_statement(schemes: int, by_region: bool):
    """The statement lines' query for that many schemes (built once per shape: the citizen
    page runs it at every request)."""
    cond = "AND a.region = :r" if by_region else ""
    marks = ", ".join(f":s{i}" for i in range(schemes))
    return text(
        f"SELECT a.scheme, e.effective_date, e.recorded_at, e.id AS entry_id, a.region, "
        f"e.source, e.memo, -p.amount AS amount FROM ledger_posting p "
        f"JOIN ledger_account a ON a.id = p.account_id "
        f"JOIN ledger_entry e ON e.id = p.entry_id "
        f"WHERE a.person_id = :pid AND a.scheme IN ({marks}) AND a.kind = 'individual' {cond} "
        f"ORDER BY a.scheme, e.effective_date, e.id, p.id")


def _statement_lines(conn, person_id: int, schemes: tuple[str, ...], region: str | None
                     ) -> dict[str, list]:
    """scheme → the rows of the person's individual account(s) in it, in statement order (one
    query for all the schemes asked)."""
    rows = conn.execute(_lines_statement(len(schemes), bool(region)),
                        {"pid": int(person_id), "r": region,
                         **{f"s{i}": s for i, s in enumerate(schemes)}}).all()
    out: dict[str, list] = {s: [] for s in schemes}
    for r in rows:
        out[r.scheme].append(r)
    return out


def _statement(person_id: int, scheme: str, rows) -> Statement:
    out = Statement(int(person_id), scheme)
    running = 0
    for r in rows:
        running += int(r.amount)
        eff = r.effective_date
        if isinstance(eff, str):
            eff = dt.date.fromisoformat(eff)
        out.lines.append(StatementLine(eff, _as_dt(r.recorded_at), int(r.entry_id), r.region,
                                       r.source, r.memo, int(r.amount), running))
    return out


def statement(db, actor: Actor, person_id: int, scheme: str, *, region: str | None = None,
              purpose: str = "individual account statement") -> Statement:
    """Every credit and debit of a person's individual account(s) in a scheme, ordered by
    effective date then entry, with the running balance. The read is audited."""
    check_scheme(scheme)
    _check_reader(actor, person_id)
    with transaction(db) as conn:
        rows = _statement_lines(conn, person_id, (scheme,), region)[scheme]
        if region and actor.role != "citizen" and not actor.covers(region):
            raise PermissionDenied(f"region {region} is outside {actor.id}'s scope")
        record_read(db, conn, actor, "ledger.statement.read", "person", int(person_id),
                    fields=["individual_account"], purpose=purpose,
                    detail={"scheme": scheme, "region": region, "lines": len(rows)})
    return _statement(person_id, scheme, rows)


def statements(db, actor: Actor, person_id: int, *,
               purpose: str = "individual account statement") -> dict[str, Statement]:
    """The person's statement in every scheme with individual accounts (pension, medical),
    read in one query, each scheme's read audited as :func:`statement` audits it; the caller
    has checked the actor may reach the person."""
    _check_reader(actor, person_id)
    with transaction(db) as conn:
        lines = _statement_lines(conn, person_id, tuple(INDIVIDUAL_SCHEMES), None)
        for scheme, rows in lines.items():
            record_read(db, conn, actor, "ledger.statement.read", "person", int(person_id),
                        fields=["individual_account"], purpose=purpose,
                        detail={"scheme": scheme, "region": None, "lines": len(rows)})
    return {s: _statement(person_id, s, rows) for s, rows in lines.items()}


__all__ = ["Account", "Statement", "StatementLine", "get_account", "balance",
           "account_balances", "statement", "statements"]


# --- read by collection ---

def posted_by_source(conn, region: str, effective_date: dt.date,
                     sources) -> dict[tuple[str, str, str], int]:
    """(scheme, account kind, source) → the sum of the postings of ``region``'s accounts in
    entries of those ``sources`` effective on ``effective_date`` (debits positive)."""
    names = sorted(set(sources))
    marks = ", ".join(f":s{i}" for i in range(len(names)))
    rows = conn.execute(text(
        "SELECT a.scheme, a.kind, e.source, SUM(pst.amount) FROM ledger_posting pst "
        "JOIN ledger_entry e ON e.id = pst.entry_id "
        "JOIN ledger_account a ON a.id = pst.account_id "
        f"WHERE a.region = :r AND e.effective_date = :m AND e.source IN ({marks}) "
        "GROUP BY a.scheme, a.kind, e.source"),
        {"r": region, "m": effective_date, **{f"s{i}": s for i, s in enumerate(names)}}).all()
    return {(r[0], r[1], r[2]): int(r[3] or 0) for r in rows}


# --- read by benefits ---
def account_ids(conn, codes) -> dict[str, int]:
    """account code → id for the codes that exist (one query, the codes as one parameter)."""
    codes = list(codes)
    if not codes:
        return {}
    return {r[0]: int(r[1]) for r in conn.execute(text(
        f"SELECT a.code, a.id FROM ledger_account a JOIN (SELECT value FROM "
        f"{json_rows_sql(conn)}) v ON a.code = v.value"), {"vals": json_list(codes)})}


def sums_before(conn, account_ids, before: dt.date) -> dict[int, int]:
    """account id → Σ postings (debit +) effective before ``before`` (accounts with none are
    absent)."""
    ids = [int(a) for a in account_ids]
    if not ids:
        return {}
    return {int(a): int(s) for a, s in conn.execute(text(
        f"SELECT p.account_id, SUM(p.amount) FROM ledger_posting p JOIN {json_ids_sql(conn)} "
        "ON p.account_id = v.id WHERE p.effective_date < :b GROUP BY p.account_id")
        .bindparams(bindparam("b", type_=ledger_posting.c.effective_date.type)),
        {"vals": json_list(ids), "b": before})}


def postings_between(conn, account_ids, start: dt.date, end: dt.date) -> list[tuple]:
    """(account id, effective date, amount) of the postings effective in [start, end)."""
    ids = [int(a) for a in account_ids]
    if not ids:
        return []
    day = ledger_posting.c.effective_date.type
    q = text(f"SELECT p.account_id, p.effective_date, p.amount FROM ledger_posting p "
             f"JOIN {json_ids_sql(conn)} ON p.account_id = v.id "
             "WHERE p.effective_date >= :s AND p.effective_date < :e").bindparams(
        bindparam("s", type_=day), bindparam("e", type_=day)).columns(
        ledger_posting.c.account_id, ledger_posting.c.effective_date, ledger_posting.c.amount)
    return [(int(a), d, int(m)) for a, d, m in conn.execute(
        q, {"vals": json_list(ids), "s": start, "e": end})]


# A derived table for set-based statements of benefits (payroll) that need the stored balance
# of persons' individual accounts: ``LEFT JOIN ({individual_balances_sql()}) la ON
# la.person_id = …``; columns (person_id, balance) — balance debit-positive, so a credit-normal
# individual account's money is ``-balance``. Parameters ``:scheme`` and ``:region`` are the
# caller's. The region is compared through ``dialect.unindexed`` so that SQLite, which has no
# statistics, keeps to the (person_id, scheme) index the caller's person range makes
# selective instead of scanning the region's accounts for every person.
def individual_balances_sql() -> str:
    return ("SELECT person_id, balance FROM ledger_account WHERE scheme = :scheme "
            f"AND kind = 'individual' AND {unindexed('region')} = :region")


# --- read by reports (#18): the fund statement's movements ---
def movements(bind, region: str, scheme: str, start: dt.date, end: dt.date) -> list[tuple]:
    """(account kind, entry source, Σ debits, Σ credits) of ``region`` × ``scheme``'s accounts
    (individual accounts under kind ``individual``) for postings effective in [start, end];
    debits and credits both as positive fen."""
    check_region(region)
    check_scheme(scheme)
    with reading(bind) as conn:
        rows = conn.execute(text(
            "SELECT a.kind, e.source, "
            "coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), 0) "
            "FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id "
            "JOIN ledger_entry e ON e.id = p.entry_id "
            "WHERE a.region = :r AND a.scheme = :s AND p.effective_date >= :a "
            "AND p.effective_date <= :b GROUP BY a.kind, e.source ORDER BY a.kind, e.source"),
            {"r": region, "s": scheme, "a": start, "b": end}).all()
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def fund_regions(bind, scheme: str | None = None) -> list[tuple[str, str]]:
    """(region, scheme) pairs that have a chart of accounts."""
    q = select(ledger_account.c.region, ledger_account.c.scheme).where(
        ledger_account.c.person_id.is_(None)).distinct()
    if scheme:
        q = q.where(ledger_account.c.scheme == check_scheme(scheme))
    with reading(bind) as conn:
        return sorted((r[0], r[1]) for r in conn.execute(q))
