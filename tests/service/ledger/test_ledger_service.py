"""Ledger services on a real database (SQLite and PostgreSQL)."""
import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.ledger import check, model, service
from shebao.ledger.model import Batch, BatchEntry, EntryRequest, Line

from .conftest import CLERK, R, code, contribution, counts


def test_post_moves_money_and_balances_are_on_the_normal_side(ledger):
    res = service.post_entry(ledger, CLERK, "collect:2025-03:emp1", contribution())
    assert not res.replayed and res.n_postings == 3
    assert service.balance(ledger, code("fund_bank")) == 76_000        # debit-normal
    assert service.balance(ledger, code("pooled_fund")) == 60_000      # credit-normal
    assert service.balance(ledger, code("individual", 1)) == 16_000
    assert check.run_check(ledger).ok


def test_every_write_is_audited_in_its_transaction(ledger):
    before = counts(ledger)["audit"]
    res = service.post_entry(ledger, CLERK, "k-aud", contribution())
    with ledger.connect() as c:
        row = c.execute(text("SELECT actor, action, subject_id, detail FROM audit_log "
                             "ORDER BY id DESC LIMIT 1")).one()
    assert counts(ledger)["audit"] == before + 1
    assert (row.actor, row.action, row.subject_id) == ("clerk7", "ledger.post", str(res.entry_id))
    assert json.loads(row.detail)["key"] == "k-aud"


def test_repeat_returns_the_original_and_writes_nothing(ledger):
    first = service.post_entry(ledger, CLERK, "k-rep", contribution())
    snap = counts(ledger)
    again = service.post_entry(ledger, CLERK, "k-rep", contribution())
    assert again.replayed and again.entry_ids == first.entry_ids and again.n_postings == 3
    assert counts(ledger) == snap


def test_same_key_with_other_content_is_refused_clearly(ledger):
    service.post_entry(ledger, CLERK, "k-conf", contribution())
    snap = counts(ledger)
    with pytest.raises(ConflictError, match="k-conf.*already used.*different"):
        service.post_entry(ledger, CLERK, "k-conf", contribution(amount_pooled=60_001))
    assert counts(ledger) == snap


def test_line_order_does_not_change_the_content(ledger):
    e = contribution(indiv=((1, 100), (2, 200)))
    first = service.post_entry(ledger, CLERK, "k-ord", e)
    again = service.post_entry(ledger, CLERK, "k-ord",
                               EntryRequest(e.effective_date, tuple(reversed(e.lines)),
                                            e.source, e.memo))
    assert again.replayed and again.entry_ids == first.entry_ids


@pytest.mark.parametrize("key", ["", " lead", "has space", "x" * 201, "ü-key", None, 42])
def test_malformed_keys_are_refused(ledger, key):
    snap = counts(ledger)
    with pytest.raises(InputError, match="malformed idempotency key"):
        service.post_entry(ledger, CLERK, key, contribution())
    assert counts(ledger) == snap


def test_unbalanced_entry_is_refused_and_writes_nothing(ledger):
    snap = counts(ledger)
    bad = EntryRequest(dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 100),
                                             Line.credit(code("pooled_fund"), 99)))
    with pytest.raises(InvariantError, match="unbalanced.*1 fen"):
        service.post_entry(ledger, CLERK, "k-unb", bad)
    assert counts(ledger) == snap


def test_unknown_account_is_refused(ledger):
    snap = counts(ledger)
    e = EntryRequest(dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 100),
                                           Line.credit(code("individual", 99), 100)))
    with pytest.raises(InputError, match="unknown account.*310000.pension.individual.99"):
        service.post_entry(ledger, CLERK, "k-unk", e)
    with pytest.raises(InputError, match="unknown account"):
        service.post_entry(ledger, CLERK, "k-unk2", EntryRequest(
            dt.date(2025, 1, 1), (Line.debit("310000.pension.vault", 1),
                                  Line.credit(code("pooled_fund"), 1))))
    assert counts(ledger) == snap


def test_float_and_zero_amounts_are_refused(ledger):
    with pytest.raises(InputError, match="integer fen"):
        service.post_entry(ledger, CLERK, "k-f", EntryRequest(dt.date(2025, 1, 1), (
            Line(code("fund_bank"), 1.5), Line(code("pooled_fund"), -1.5))))
    with pytest.raises(InputError, match="zero"):
        service.post_entry(ledger, CLERK, "k-z", EntryRequest(dt.date(2025, 1, 1), (
            Line(code("fund_bank"), 0), Line(code("pooled_fund"), 0))))
    assert counts(ledger)["entries"] == 0


def test_funds_of_different_schemes_or_regions_are_never_mixed(ledger):
    e = EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(code("fund_bank"), 100),
        Line.credit(code("pooled_fund", scheme="medical"), 100)))
    with pytest.raises(InvariantError, match="region × scheme"):
        service.post_entry(ledger, CLERK, "k-mix", e)
    # a transfer between regions goes through each side's clearing account
    t = EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(code("individual", 1), 50), Line.credit(code("transfer_clearing"), 50),
        Line.debit(code("transfer_clearing", region="440300"), 50),
        Line.credit(code("individual", 1, region="440300"), 50)), "transfer")
    service.post_entry(ledger, CLERK, "k-seed", contribution(indiv=((1, 80),)))
    service.post_entry(ledger, CLERK, "k-transfer", t)
    assert service.balance(ledger, code("individual", 1)) == 30
    assert service.balance(ledger, code("individual", 1, region="440300")) == 50
    assert check.run_check(ledger).ok


def test_forbidden_negative_is_refused_and_names_the_account(ledger):
    service.post_entry(ledger, CLERK, "k-in", contribution(indiv=((2, 1_000),)))
    snap = counts(ledger)
    out = EntryRequest(dt.date(2025, 6, 1), (Line.debit(code("individual", 2), 1_001),
                                             Line.credit(code("benefits_payable"), 1_001)))
    with pytest.raises(InvariantError, match=r"310000.pension.individual.2: balance 1000"):
        service.post_entry(ledger, CLERK, "k-out", out)
    assert counts(ledger) == snap
    ok = EntryRequest(dt.date(2025, 6, 1), (Line.debit(code("individual", 2), 1_000),
                                            Line.credit(code("benefits_payable"), 1_000)))
    service.post_entry(ledger, CLERK, "k-out2", ok)
    assert service.balance(ledger, code("individual", 2)) == 0


def test_fund_bank_may_not_go_negative_but_pooled_fund_may(ledger):
    e = EntryRequest(dt.date(2025, 1, 1), (Line.debit(code("expenses"), 10),
                                           Line.credit(code("fund_bank"), 10)))
    with pytest.raises(InvariantError, match="fund_bank"):
        service.post_entry(ledger, CLERK, "k-bank", e)
    e2 = EntryRequest(dt.date(2025, 1, 1), (Line.debit(code("pooled_fund"), 10),
                                            Line.credit(code("benefits_payable"), 10)))
    service.post_entry(ledger, CLERK, "k-pool", e2)
    assert service.balance(ledger, code("pooled_fund")) == -10


def test_reversal_names_the_original_and_cancels_it(ledger):
    orig = service.post_entry(ledger, CLERK, "k-o", contribution())
    rev = service.reverse_entry(ledger, CLERK, "k-o:reverse", orig.entry_id, memo="wrong base")
    with ledger.connect() as c:
        row = c.execute(text("SELECT reverses_id, effective_date, source FROM ledger_entry "
                             "WHERE id = :i"), {"i": rev.entry_id}).one()
    assert row.reverses_id == orig.entry_id and row.source == "reversal"
    assert str(row.effective_date) == "2025-03-01"      # effective in the original's period
    for k in ("fund_bank", "pooled_fund"):
        assert service.balance(ledger, code(k)) == 0
    assert service.reverse_entry(ledger, CLERK, "k-o:reverse", orig.entry_id,
                                 memo="wrong base").replayed
    with pytest.raises(ConflictError, match=f"already reversed by entry {rev.entry_id}"):
        service.reverse_entry(ledger, CLERK, "k-o:reverse-again", orig.entry_id)
    with pytest.raises(InputError, match="no ledger entry 999"):
        service.reverse_entry(ledger, CLERK, "k-none", 999)
    assert check.run_check(ledger).ok


def test_reversal_that_would_overdraw_an_individual_account_is_refused(ledger):
    dep = service.post_entry(ledger, CLERK, "k-dep", contribution(indiv=((3, 500),)))
    service.post_entry(ledger, CLERK, "k-pay", EntryRequest(dt.date(2025, 4, 1), (
        Line.debit(code("individual", 3), 400), Line.credit(code("benefits_payable"), 400))))
    with pytest.raises(InvariantError, match="individual.3"):
        service.reverse_entry(ledger, CLERK, "k-dep:rev", dep.entry_id)


def test_balances_as_of_any_date_include_back_dated_entries(ledger):
    service.post_entry(ledger, CLERK, "k-mar", contribution(indiv=((1, 100),),
                                                            day=dt.date(2025, 3, 1)))
    service.post_entry(ledger, CLERK, "k-may", contribution(indiv=((1, 300),),
                                                            day=dt.date(2025, 5, 1)))
    cutoff = dt.datetime.now(dt.timezone.utc)
    # recorded later, effective in January: a back-dated contribution
    service.post_entry(ledger, CLERK, "k-jan", contribution(indiv=((1, 50),),
                                                            day=dt.date(2025, 1, 1)))
    acct = code("individual", 1)
    assert service.balance(ledger, acct, as_of=dt.date(2024, 12, 31)) == 0
    assert service.balance(ledger, acct, as_of=dt.date(2025, 1, 31)) == 50
    assert service.balance(ledger, acct, as_of=dt.date(2025, 3, 31)) == 150
    assert service.balance(ledger, acct) == 450
    # what the books said before the back-dated entry was recorded
    assert service.balance(ledger, acct, as_of=dt.date(2025, 3, 31),
                           recorded_before=cutoff) == 100
    assert service.account_balances(ledger, R, "pension",
                                    as_of=dt.date(2025, 3, 31))["individual"] == 150
    tb = {r["kind"]: r["balance"] for r in check.run_check(ledger, as_of=dt.date(2025, 3, 31))
          .trial_balance if (r["region"], r["scheme"]) == (R, "pension")}
    assert tb["individual"] == 150 and tb["fund_bank"] == 60_000 * 2 + 150


def test_statement_has_every_line_with_running_balance(ledger):
    service.post_entry(ledger, CLERK, "s1", contribution(indiv=((4, 1_000),),
                                                         day=dt.date(2025, 2, 1)))
    service.post_entry(ledger, CLERK, "s2", contribution(indiv=((4, 2_000),),
                                                         day=dt.date(2025, 4, 1)))
    service.post_entry(ledger, CLERK, "s3", EntryRequest(dt.date(2025, 5, 1), (
        Line.debit(code("individual", 4), 500), Line.credit(code("benefits_payable"), 500)),
        "payroll", "lump sum"))
    service.post_entry(ledger, CLERK, "s4", contribution(indiv=((4, 300),),
                                                         day=dt.date(2025, 1, 1)))  # back-dated
    st = service.statement(ledger, CLERK, 4, "pension")
    assert [(ln.effective_date.month, ln.amount, ln.balance) for ln in st.lines] == [
        (1, 300, 300), (2, 1_000, 1_300), (4, 2_000, 3_300), (5, -500, 2_800)]
    assert st.closing_balance == service.balance(ledger, code("individual", 4)) == 2_800
    assert st.lines[3].source == "payroll" and st.lines[3].memo == "lump sum"
    with ledger.connect() as c:
        last = c.execute(text("SELECT action, subject_type, subject_id, purpose FROM audit_log "
                              "ORDER BY id DESC LIMIT 1")).one()
    assert tuple(last) == ("ledger.statement.read", "person", "4",
                           "individual account statement")


def test_statement_permissions(ledger):
    service.post_entry(ledger, CLERK, "s1", contribution(indiv=((4, 1_000),)))
    me = Actor(id="p4", role="citizen", person_id=4)
    assert service.statement(ledger, me, 4, "pension").closing_balance == 1_000
    with pytest.raises(PermissionDenied):
        service.statement(ledger, Actor(id="p5", role="citizen", person_id=5), 4, "pension")
    with pytest.raises(PermissionDenied):
        service.statement(ledger, Actor(id="gd", role="collection_clerk", scope="440000"), 4,
                          "pension", region=R)


def test_batch_posts_aggregated_entries_and_per_person_postings(ledger):
    n = 2_000
    pids = np.arange(1, n + 1, dtype=np.int64)
    pooled = (pids * 7) % 5_000 + 1_000
    indiv = (pids * 3) % 800 + 200
    batch = Batch([model.contribution_entry(R, s, dt.date(2025, 7, 1),
                                            debit_kind="receivable_employer", person_ids=pids,
                                            pooled_fen=pooled, individual_fen=indiv,
                                            source="collection.run:7")
                   for s in ("pension", "medical")])
    with pytest.raises(InputError, match="1995 person"):
        service.post_batch(ledger, CLERK, "run7:310000", batch)
    assert counts(ledger)["entries"] == 0
    res = service.post_batch(ledger, CLERK, "run7:310000", batch, open_missing=True)
    assert len(res.entry_ids) == 2 and res.n_postings == 2 * (n + 2)
    assert service.balance(ledger, code("pooled_fund")) == int(pooled.sum())
    assert service.balance(ledger, code("receivable_employer")) == int(pooled.sum() + indiv.sum())
    assert service.balance(ledger, code("individual", 1234)) == int(indiv[1233])
    assert service.balance(ledger, code("individual", 1234, scheme="medical")) == int(indiv[1233])
    snap = counts(ledger)
    again = service.post_batch(ledger, CLERK, "run7:310000", batch)
    assert again.replayed and again.entry_ids == res.entry_ids and counts(ledger) == snap
    changed = Batch([model.contribution_entry(R, "pension", dt.date(2025, 7, 1),
                                              debit_kind="receivable_employer",
                                              person_ids=pids, pooled_fen=pooled,
                                              individual_fen=indiv + (pids == 5))])
    with pytest.raises(ConflictError):
        service.post_batch(ledger, CLERK, "run7:310000", changed)
    rep = check.run_check(ledger)
    assert rep.ok, rep.violations


def test_bad_batches_are_refused(ledger):
    pids = np.array([1, 2, 2], np.int64)
    with pytest.raises(InputError, match="appears twice"):
        service.post_batch(ledger, CLERK, "b1", Batch([BatchEntry(
            R, "pension", dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 3),),
            pids, np.array([-1, -1, -1]))]))
    with pytest.raises(InvariantError, match="unbalanced"):
        service.post_batch(ledger, CLERK, "b2", Batch([BatchEntry(
            R, "pension", dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 3),),
            np.array([1, 2]), np.array([-1, -1]))]))
    with pytest.raises(InputError, match="integer arrays"):
        service.post_batch(ledger, CLERK, "b3", Batch([BatchEntry(
            R, "pension", dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 2),),
            np.array([1, 2]), np.array([-1.0, -1.0]))]))
    with pytest.raises(InvariantError, match="stays in its region"):
        service.post_batch(ledger, CLERK, "b4", Batch([BatchEntry(
            R, "pension", dt.date(2025, 1, 1),
            (Line.debit(code("fund_bank", scheme="medical"), 2),),
            np.array([1, 2]), np.array([-1, -1]))]))
    # a batch that overdraws one person is refused whole
    with pytest.raises(InvariantError, match="individual.2"):
        service.post_batch(ledger, CLERK, "b5", Batch([BatchEntry(
            R, "pension", dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 3),
                                                Line.credit(code("pooled_fund"), 1)),
            np.array([1, 2]), np.array([-5, 3]))]))
    assert counts(ledger)["entries"] == 0 and counts(ledger)["requests"] == 0


def test_caller_transaction_is_joined_and_a_refusal_leaves_it_intact(ledger):
    with ledger.connect() as conn:
        with conn.begin():
            conn.execute(text("INSERT INTO audit_log (at, actor, role, action, subject_type, "
                              "prev_hash, hash) VALUES (CURRENT_TIMESTAMP, 'x', 'system', "
                              "'caller.work', 't', 'p', 'callerhash')"))
            service.post_entry(conn, CLERK, "k-join", contribution())
            with pytest.raises(InvariantError):
                service.post_entry(conn, CLERK, "k-join-bad", EntryRequest(
                    dt.date(2025, 1, 1), (Line.debit(code("fund_bank"), 1),
                                          Line.credit(code("pooled_fund"), 2))))
            with pytest.raises(InvariantError):   # refused by the database CHECK, rolled back
                service.post_entry(conn, CLERK, "k-join-neg", EntryRequest(
                    dt.date(2025, 1, 1), (Line.debit(code("individual", 5), 1),
                                          Line.credit(code("pooled_fund"), 1))))
    c = counts(ledger)
    assert c["entries"] == 1 and c["requests"] == 1
    with ledger.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE hash = 'callerhash'")
                            ).scalar_one() == 1
    # the caller rolls back: nothing of the ledger's stays either
    with ledger.connect() as conn:
        tx = conn.begin()
        service.post_entry(conn, CLERK, "k-rolled", contribution())
        tx.rollback()
    assert counts(ledger)["entries"] == 1


def test_check_finds_what_a_trigger_bypass_broke(ledger, db_url, monkeypatch):
    from typer.testing import CliRunner

    from shebao.channels.cli.ledger import app

    res = service.post_entry(ledger, CLERK, "k-chk", contribution())
    monkeypatch.setenv("SHEBAO_DATABASE_URL", db_url)
    runner = CliRunner()
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "ledger OK" in ok.output and "pooled_fund" in ok.output and "600.00" in ok.output
    # someone with DDL rights slips an extra posting past the triggers
    with ledger.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ledger_posting DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER ledger_posting_entry_sealed"))
        acct = conn.execute(text("SELECT id FROM ledger_account WHERE code = :c"),
                            {"c": code("individual", 1)}).scalar_one()
        conn.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount, "
                          "effective_date) VALUES (:e, :a, -99, :d)"),
                     {"e": res.entry_id, "a": acct,
                      "d": "2025-03-01" if conn.dialect.name == "sqlite" else dt.date(2025, 3, 1)})
    bad = runner.invoke(app, ["check"])
    assert bad.exit_code == 1
    assert f"entry_unbalanced: entry {res.entry_id}" in bad.output
    assert "balance_mismatch: 310000.pension.individual.1" in bad.output
    js = runner.invoke(app, ["check", "--json"])
    assert js.exit_code == 1
    doc = json.loads(js.stdout)
    assert doc["ok"] is False
    kinds = {v["invariant"] for v in doc["violations"]}
    assert {"entry_unbalanced", "entry_mixes_funds", "balance_mismatch",
            "trial_balance"} <= kinds


def test_cli_statement_balance_and_bad_input(ledger, db_url, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from shebao.channels.cli.ledger import app
    from tests.support.accounts import cli_accounts

    service.post_entry(ledger, CLERK, "cli1", contribution(indiv=((2, 12_345),)))
    for k, v in cli_accounts(db_url, tmp_path, {"auditor": ("inspector", "310000")}).items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    st = runner.invoke(app, ["statement", "--person", "2", "--json", "--actor", "auditor"])
    assert st.exit_code == 0, st.output
    doc = json.loads(st.stdout)
    assert doc["lines"][0]["amount"] == "123.45" and doc["lines"][0]["balance"] == "123.45"
    bal = runner.invoke(app, ["balance", code("pooled_fund"), "--as-of", "2025-02-28"])
    assert bal.exit_code == 0 and bal.stdout.strip() == "0.00"
    bal = runner.invoke(app, ["balance", code("pooled_fund")])
    assert bal.stdout.strip() == "600.00"
    bad = runner.invoke(app, ["balance", "310000.pension.nope"])
    assert bad.exit_code != 0 and isinstance(bad.exception, InputError)
