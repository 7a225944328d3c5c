import datetime as dt

import pytest
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.ledger import model, service

CLERK = Actor(id="clerk7", role="collection_clerk", scope="310000")
R = "310000"


def code(kind, person=None, region=R, scheme="pension"):
    return model.account_code(region, scheme, kind, person)


def contribution(amount_pooled=60_000, indiv=((1, 16_000),), day=dt.date(2025, 3, 1),
                 region=R, scheme="pension"):
    total = amount_pooled + sum(a for _, a in indiv)
    lines = [model.Line.debit(code("fund_bank", region=region, scheme=scheme), total),
             model.Line.credit(code("pooled_fund", region=region, scheme=scheme), amount_pooled)]
    lines += [model.Line.credit(code("individual", p, region=region, scheme=scheme), a)
              for p, a in indiv]
    return model.EntryRequest(day, tuple(lines), "collection", "March contributions")


def counts(engine) -> dict:
    with engine.connect() as c:
        return dict(c.execute(text(
            "SELECT (SELECT count(*) FROM ledger_request) AS requests, "
            "(SELECT count(*) FROM ledger_entry) AS entries, "
            "(SELECT count(*) FROM ledger_posting) AS postings, "
            "(SELECT count(*) FROM audit_log) AS audit, "
            "(SELECT coalesce(sum(abs(balance)), 0) FROM ledger_account) AS balances, "
            "(SELECT count(*) FROM ledger_account) AS accounts")).mappings().one())


@pytest.fixture
def ledger(engine):
    """A ledger with the chart of 310000 and 440300, and pension/medical accounts of 1–5."""
    for region in (R, "440300"):
        service.open_chart(engine, CLERK, region)
        for scheme in ("pension", "medical"):
            service.open_individual_accounts(engine, CLERK, region, scheme, range(1, 6))
    return engine
