"""ledger.queries: reads of the ledger for the channels and other packages."""
import datetime as dt

from sqlalchemy import event, text

from shebao.core.actor import Actor
from shebao.ledger import queries, service

from .conftest import CLERK, code, contribution


def test_statements_cover_every_individual_scheme_each_read_audited(ledger):
    service.post_entry(ledger, CLERK, "q1", contribution(indiv=((3, 1_200),)))
    service.post_entry(ledger, CLERK, "q2", contribution(indiv=((3, 800),), scheme="medical",
                                                         day=dt.date(2025, 4, 1)))
    with ledger.connect() as c:
        before = c.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    me = Actor(id="p3", role="citizen", person_id=3)
    sts = queries.statements(ledger, me, 3, purpose="citizen portal")
    # every individual scheme, the resident pension's account too (empty here)
    assert {s: st.closing_balance for s, st in sts.items()} == {"pension": 1_200,
                                                                 "medical": 800,
                                                                 "resident_pension": 0}
    assert queries.balance(ledger, code("individual", 3, scheme="medical")) == 800
    with ledger.connect() as c:
        rows = c.execute(text("SELECT action, purpose FROM audit_log ORDER BY id")).all()
    assert [tuple(r) for r in rows[before:]] == [("ledger.statement.read", "citizen portal")] * 3


def test_statements_run_one_statement_built_once(ledger):
    """The citizen page reads the statements at every request: the same statement object each
    time (no text to build, no cache key to compute)."""
    me = Actor(id="p3", role="citizen", person_id=3)
    seen = []
    event.listen(ledger, "before_execute",
                 lambda conn, clause, *a: seen.append(clause) if "ledger_posting" in str(
                     clause) else None)
    queries.statements(ledger, me, 3, purpose="citizen portal")
    queries.statements(ledger, me, 3, purpose="citizen portal")
    assert len(seen) == 2 and seen[0] is seen[1]


def test_account_and_chart_balances(ledger):
    service.post_entry(ledger, CLERK, "q3", contribution(amount_pooled=5_000, indiv=((1, 700),)))
    acct = queries.get_account(ledger, code("individual", 1))
    assert (acct.kind, acct.person_id, acct.balance) == ("individual", 1, 700)
    got = queries.account_balances(ledger, "310000", "pension")
    assert got["pooled_fund"] == 5_000 and got["individual"] == 700 and got["fund_bank"] == 5_700
