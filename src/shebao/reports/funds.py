"""Fund accounts: the statement of one fund (region × scheme) over a period — revenue, fiscal
subsidy and expense lines, opening and closing balance — read from the ledger through
``ledger.queries`` and checked against it to the fen; the fund's budget and its final
accounts (决算) against the budget; fiscal subsidies received, posted to the ledger."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select, update

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, InvariantError
from shebao.core.schemes import check_scheme
from shebao.db.uow import now, reading, transaction
from shebao.ledger import chart as ledger_chart
from shebao.ledger import posting as ledger_posting
from shebao.ledger import queries as ledger_queries
from shebao.ledger.model import EntryRequest, Line, account_code
from shebao.security import audit, policy

from . import model
from .tables import fund_budget


def _check(actor: Actor, region: str, scheme: str, permission: str = "reports.read") -> None:
    policy.require(actor, permission)
    regions.check_region(region)
    check_scheme(scheme)
    policy.require_region(actor, region)


def statement(bind, actor: Actor, region: str, scheme: str, start: dt.date,
              end: dt.date) -> model.FundStatement:
    """The fund statement of ``region`` × ``scheme`` for postings effective in [start, end]."""
    _check(actor, region, scheme)
    if end < start:
        raise InputError("the period ends before it starts", field="end")
    with reading(bind) as conn:
        opening = ledger_queries.account_balances(conn, region, scheme,
                                                  as_of=start - dt.timedelta(days=1))
        closing = ledger_queries.account_balances(conn, region, scheme, as_of=end)
        moves = ledger_queries.movements(conn, region, scheme, start, end)
    return model.FundStatement(region, scheme, start.isoformat(), end.isoformat(),
                               model.equity_of(opening), model.equity_of(closing),
                               model.net_assets_of(closing), model.lines_of(moves))


def checked_statement(bind, actor: Actor, region: str, scheme: str, start: dt.date,
                      end: dt.date) -> model.FundStatement:
    """As ``statement``, refusing one that does not tie out to the ledger."""
    st = statement(bind, actor, region, scheme, start, end)
    if st.check():
        raise InvariantError(f"fund statement {region}/{scheme} does not tie out to the "
                             f"ledger: {'; '.join(st.check())}")
    return st


def set_budget(db, actor: Actor, region: str, scheme: str, year: int,
               lines: dict[str, int]) -> None:
    """The fund's budget for a year: an amount in fen per statement line (replaces earlier
    figures of the same lines)."""
    _check(actor, region, scheme, "reports.manage")
    if not 2000 <= int(year) <= 2100:
        raise InputError("year out of range", field="year")
    for k, v in lines.items():
        if k not in model.LINE_SIDE:
            raise InputError(f"unknown budget line {k!r} (one of {', '.join(model.LINE_SIDE)})",
                             field="line")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{k}: a non-negative amount in fen", field=k)
    with transaction(db) as conn:
        old = budget(conn, region, scheme, year)
        for k, v in lines.items():
            if k in old:
                conn.execute(update(fund_budget).where(
                    fund_budget.c.region == region, fund_budget.c.scheme == scheme,
                    fund_budget.c.year == year, fund_budget.c.line == k).values(
                    amount_fen=v, created_by=actor.id, created_at=now()))
            else:
                conn.execute(fund_budget.insert().values(
                    region=region, scheme=scheme, year=year, line=k, amount_fen=v,
                    created_by=actor.id, created_at=now()))
        audit.record(conn, actor, "reports.budget.set", "fund_budget",
                     f"{region}/{scheme}/{year}", detail={"old": old, "new": lines})


def budget(bind, region: str, scheme: str, year: int) -> dict[str, int]:
    with reading(bind) as conn:
        return {r.line: int(r.amount_fen) for r in conn.execute(select(fund_budget).where(
            fund_budget.c.region == region, fund_budget.c.scheme == scheme,
            fund_budget.c.year == year))}


def final_accounts(bind, actor: Actor, region: str, scheme: str, year: int) -> dict:
    """决算: the year's statement (tied out) beside the budget, line by line."""
    st = checked_statement(bind, actor, region, scheme, dt.date(year, 1, 1),
                           dt.date(year, 12, 31))
    b = budget(bind, region, scheme, year)
    return {"statement": st.as_json(), "budget": b,
            "variance": model.variance(b, st.lines)}


def record_subsidy(db, actor: Actor, region: str, scheme: str, amount_fen: int,
                   received_on: dt.date, reference: str) -> int:
    """A fiscal subsidy received into the fund's special account: Dr fund_bank, Cr
    fiscal_subsidy (the chart is opened first, so older regions get the account). Idempotent
    on the reference (the treasury's allocation document)."""
    _check(actor, region, scheme, "reports.manage")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InputError("amount must be a positive number of fen", field="amount")
    ref = (reference or "").strip()
    if not ref or len(ref) > 80:
        raise InputError("give the allocation document's reference (1–80 characters)",
                         field="reference")
    key = f"subsidy:{region}:{scheme}:" + hashlib.sha256(ref.encode()).hexdigest()[:32]
    with transaction(db) as conn:
        ledger_chart.open_chart(conn, actor, region, [scheme])
        res = ledger_posting.post_entry(conn, actor, key, EntryRequest(
            received_on, (Line.debit(account_code(region, scheme, "fund_bank"), amount_fen),
                          Line.credit(account_code(region, scheme, "fiscal_subsidy"),
                                      amount_fen)),
            source="reports.subsidy", memo=f"fiscal subsidy {ref}"))
        audit.record(conn, actor, "reports.subsidy.record", "ledger_region", region,
                     detail={"scheme": scheme, "amount_fen": amount_fen, "reference": ref,
                             "replayed": res.replayed})
    return int(res.entry_id)
