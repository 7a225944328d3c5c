"""The database itself refuses what would break the ledger — tested with raw SQL that
bypasses the Python service entirely, on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shebao.ledger import check, service

from .conftest import CLERK, code, contribution


def _ids(conn, *codes):
    return [conn.execute(text("SELECT id FROM ledger_account WHERE code = :c"),
                         {"c": c}).scalar_one() for c in codes]


def _d(conn, day=dt.date(2025, 1, 1)):
    return day.isoformat() if conn.dialect.name == "sqlite" else day


def raw_entry(conn, entry_id, postings, n=None, key=None):
    """Write an entry and its postings by hand, in the order each backend's guard expects."""
    rid = conn.execute(text(
        "INSERT INTO ledger_request (key, content_hash, kind, actor, created_at) "
        "VALUES (:k, 'x', 'entry', 'raw', CURRENT_TIMESTAMP) RETURNING id"),
        {"k": key or f"raw-{entry_id}"}).scalar_one()
    entry = lambda: conn.execute(text(  # noqa: E731
        "INSERT INTO ledger_entry (id, request_id, effective_date, recorded_at, source, "
        "n_postings) VALUES (:id, :rid, :d, CURRENT_TIMESTAMP, 'raw', :n)"),
        {"id": entry_id, "rid": rid, "d": _d(conn), "n": n if n is not None else len(postings)})
    def post():   # all postings of the entry in one statement
        values = ", ".join(f"(:e, :a{i}, :m{i}, :d)" for i in range(len(postings)))
        prm = {"e": entry_id, "d": _d(conn)}
        for i, (a, m) in enumerate(postings):
            prm[f"a{i}"], prm[f"m{i}"] = a, m
        conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                          f"effective_date) VALUES {values}"), prm)
    if conn.dialect.name == "sqlite":
        post()
        entry()
    else:
        entry()
        post()


def _count(engine, table):
    with engine.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_raw_balanced_entry_is_accepted(ledger):
    with ledger.begin() as conn:
        bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
        raw_entry(conn, 9001, [(bank, 500), (pool, -500)])
    assert _count(ledger, "ledger_entry") == 1 and _count(ledger, "ledger_posting") == 2


def test_raw_unbalanced_entry_is_refused_by_the_database(ledger):
    with pytest.raises(DBAPIError, match="unbalanced"):
        with ledger.begin() as conn:
            bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
            raw_entry(conn, 9002, [(bank, 500), (pool, -499)])
    assert _count(ledger, "ledger_entry") == 0 and _count(ledger, "ledger_posting") == 0


def test_raw_entry_with_wrong_posting_count_is_refused(ledger):
    with pytest.raises(DBAPIError, match="postings"):
        with ledger.begin() as conn:
            bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
            raw_entry(conn, 9003, [(bank, 500), (pool, -500)], n=3)
    assert _count(ledger, "ledger_entry") == 0


def test_postings_cannot_be_added_to_a_committed_entry(ledger):
    with ledger.begin() as conn:
        bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
        raw_entry(conn, 9004, [(bank, 500), (pool, -500)])
    with pytest.raises(DBAPIError, match="(sealed|closed)"):
        with ledger.begin() as conn:
            conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                              "effective_date) VALUES (9004, :a, 7, :d)"),
                         {"a": bank, "d": _d(conn)})
    assert _count(ledger, "ledger_posting") == 2


def test_orphan_postings_without_their_entry_cannot_commit(ledger):
    with pytest.raises(DBAPIError):
        with ledger.begin() as conn:
            bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
            for a, m in ((bank, 10), (pool, -3)):
                conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                                  "effective_date) VALUES (777, :a, :m, :d)"),
                             {"a": a, "m": m, "d": _d(conn)})
    assert _count(ledger, "ledger_posting") == 0


@pytest.mark.parametrize("stmt", [
    "UPDATE ledger_posting SET amount = amount + 1",
    "DELETE FROM ledger_posting",
    "UPDATE ledger_entry SET effective_date = effective_date",
    "DELETE FROM ledger_entry",
    "UPDATE ledger_request SET content_hash = 'y'",
    "DELETE FROM ledger_request",
])
def test_journal_is_append_only(ledger, stmt):
    service.post_entry(ledger, CLERK, "k-append", contribution())
    before = (_count(ledger, "ledger_posting"), _count(ledger, "ledger_entry"))
    with pytest.raises(DBAPIError, match="append-only"):
        with ledger.begin() as conn:
            conn.execute(text(stmt))
    assert (_count(ledger, "ledger_posting"), _count(ledger, "ledger_entry")) == before
    with ledger.connect() as c:
        assert c.execute(text("SELECT sum(amount) FROM ledger_posting")).scalar_one() == 0


def test_truncate_refused_on_postgresql(ledger):
    if ledger.dialect.name != "postgresql":
        # SQLite has no TRUNCATE; its DELETE is refused (above)
        assert ledger.dialect.name == "sqlite"
        return
    service.post_entry(ledger, CLERK, "k-trunc", contribution())
    with pytest.raises(DBAPIError, match="append-only"):
        with ledger.begin() as conn:
            conn.execute(text("TRUNCATE ledger_posting CASCADE"))
    assert _count(ledger, "ledger_posting") == 3


def test_database_refuses_a_negative_individual_balance(ledger):
    with pytest.raises(DBAPIError, match="(?i)check"):
        with ledger.begin() as conn:
            # an individual account is credit-normal: a debit balance is negative
            conn.execute(text("UPDATE ledger_account SET balance = 5 WHERE code = :c"),
                         {"c": code("individual", 1)})
    with ledger.begin() as conn:   # a pooled fund may go either way
        conn.execute(text("UPDATE ledger_account SET balance = 5 WHERE code = :c"),
                     {"c": code("pooled_fund")})
    rep = check.run_check(ledger)
    assert [v["invariant"] for v in rep.violations] == ["balance_mismatch"]
    assert rep.violations[0]["account"] == code("pooled_fund")


def test_reversal_must_name_an_existing_entry(ledger):
    with pytest.raises(DBAPIError):
        with ledger.begin() as conn:
            bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
            raw_entry(conn, 9010, [(bank, 5), (pool, -5)])
            conn.execute(text("INSERT INTO ledger_request (key, content_hash, kind, actor, "
                              "created_at) VALUES ('r2', 'x', 'reversal', 'raw', "
                              "CURRENT_TIMESTAMP)"))
            # reverses_id 424242 does not exist: the foreign key refuses it
            if conn.dialect.name == "sqlite":
                for a, m in ((bank, -5), (pool, 5)):
                    conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount,"
                                      " effective_date) VALUES (9011, :a, :m, :d)"),
                                 {"a": a, "m": m, "d": _d(conn)})
            conn.execute(text(
                "INSERT INTO ledger_entry (id, request_id, effective_date, recorded_at, source, "
                "n_postings, reverses_id) SELECT 9011, id, :d, CURRENT_TIMESTAMP, 'raw', 2, "
                "424242 FROM ledger_request WHERE key = 'r2'"), {"d": _d(conn)})
            if conn.dialect.name != "sqlite":
                conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                                  "effective_date) VALUES (9011, :a, -5, :d), (9011, :b, 5, :d)"),
                             {"a": bank, "b": pool, "d": _d(conn)})
    assert _count(ledger, "ledger_entry") == 0


def test_posting_to_a_missing_account_is_refused(ledger):
    with pytest.raises(DBAPIError):
        with ledger.begin() as conn:
            bank, = _ids(conn, code("fund_bank"))
            raw_entry(conn, 9020, [(bank, 5), (987654, -5)])
    assert _count(ledger, "ledger_posting") == 0


@pytest.mark.parametrize("stmt", [
    "DELETE FROM ledger_account WHERE code = '310000.pension.individual.1'",
    "UPDATE ledger_account SET person_id = 2 WHERE code = '310000.pension.individual.1'",
    "UPDATE ledger_account SET no_negative = false WHERE code = '310000.pension.fund_bank'",
    "UPDATE ledger_account SET code = 'x' WHERE code = '310000.pension.pooled_fund'",
])
def test_accounts_keep_their_identity(ledger, stmt):
    n = _count(ledger, "ledger_account")
    with pytest.raises(DBAPIError, match="ledger_account"):
        with ledger.begin() as conn:
            conn.execute(text(stmt.replace("false", "false" if conn.dialect.name ==
                                           "postgresql" else "0")))
    assert _count(ledger, "ledger_account") == n


def test_postgresql_entry_cannot_be_completed_in_a_later_statement(ledger):
    """Even with the deferred check forced to run early, a later statement cannot add
    postings: each statement must leave every entry it touched complete and balanced."""
    with pytest.raises(DBAPIError):
        with ledger.begin() as conn:
            bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
            raw_entry(conn, 9030, [(bank, 500), (pool, -500)])
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
                conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
            conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                              "effective_date) VALUES (9030, :a, 7, :d), (9030, :b, -7, :d)"),
                         {"a": bank, "b": pool, "d": _d(conn)})
    assert _count(ledger, "ledger_posting") == 0


def test_stored_balances_follow_raw_postings_on_postgresql_only(ledger):
    """PostgreSQL keeps ``ledger_account.balance`` itself (posting trigger, migration 0007), so
    even postings written by hand move it; SQLite leaves that to the service, and the ledger
    check then names the account whose stored balance no longer matches its postings."""
    with ledger.begin() as conn:
        bank, pool = _ids(conn, code("fund_bank"), code("pooled_fund"))
        raw_entry(conn, 9040, [(bank, 500), (pool, -500)])
    with ledger.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, balance FROM ledger_account WHERE id IN "
                                        "(:a, :b)"), {"a": bank, "b": pool}).all())
    violations = [(v["invariant"], v["account"]) for v in check.run_check(ledger).violations]
    if ledger.dialect.name == "postgresql":
        assert stored == {bank: 500, pool: -500}
        assert violations == []
    else:
        assert stored == {bank: 0, pool: 0}
        assert sorted(violations) == [("balance_mismatch", code("fund_bank")),
                                      ("balance_mismatch", code("pooled_fund"))]
