"""Fund accounts: the statement of one fund (region × scheme) over a period — revenue, fiscal
subsidy and expense lines, opening and closing balance — read from the ledger through
``ledger.queries`` and checked against it to the fen; the fund's budget and its final
accounts (决算) against the budget. Subsidies, budgets and the adoption of final accounts are
four-eyes decisions: ``decisions.py``."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, InvariantError
from shebao.core.schemes import check_scheme
from shebao.db.uow import reading
from shebao.ledger import queries as ledger_queries
from shebao.security import policy

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
