"""Fund statements tie out to the ledger to the fen: opening + revenue + subsidy − expense =
closing (the ledger's balances), and the fund balance equals the net assets; a fiscal subsidy
is posted to its own account (only when a second officer approves it) and reported apart;
money arriving through an inter-region transfer (mobility's postings through the
transfer-clearing account) is its own revenue line, money leaving its own expense line."""
import datetime as dt

import pytest

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.ledger import model, service as ledger
from shebao.mobility import funds as mobility_funds
from shebao.reports import decisions, funds, monthly

ADMIN = Actor(id="admin1", role="administrator", scope="310000")
CHECKER = Actor(id="admin2", role="administrator", scope="national")
CLERK = Actor(id="clerk1", role="collection_clerk", scope="310000")
R, S = "310104", "pension"


def code(kind, person=None):
    return model.account_code(R, S, kind, person)


def post(engine, key, day, lines, source):
    ledger.post_entry(engine, ADMIN, key, model.EntryRequest(day, tuple(lines), source, key))


@pytest.fixture
def books(engine):
    ledger.open_chart(engine, ADMIN, R, [S])
    ledger.open_individual_accounts(engine, ADMIN, R, S, [1, 2])
    # February (before the period): contributions 1,000.00 pooled + 80.00 + 80.01 individual
    post(engine, "feb", dt.date(2026, 2, 1), [
        model.Line.debit(code("receivable_employer"), 116001),
        model.Line.credit(code("pooled_fund"), 100000),
        model.Line.credit(code("individual", 1), 8000),
        model.Line.credit(code("individual", 2), 8001)], "collection.assess")
    # March: contributions 2,000.00 assessed, 1,500.00 received into the fund account
    post(engine, "mar", dt.date(2026, 3, 1), [
        model.Line.debit(code("receivable_employer"), 200000),
        model.Line.credit(code("pooled_fund"), 200000)], "collection.assess")
    post(engine, "mar-bank", dt.date(2026, 3, 10), [
        model.Line.debit(code("fund_bank"), 150000),
        model.Line.credit(code("receivable_employer"), 150000)], "collection.bank")
    # March: pension payroll 1,234.56 (payable), late fees 3.33
    post(engine, "mar-pay", dt.date(2026, 3, 15), [
        model.Line.debit(code("pooled_fund"), 123456),
        model.Line.credit(code("benefits_payable"), 123456)], "payroll")
    post(engine, "mar-fee", dt.date(2026, 3, 20), [
        model.Line.debit(code("receivable_employer"), 333),
        model.Line.credit(code("late_fee_income"), 333)], "collection.late_fee")
    # a fiscal subsidy of 500.00 in March: proposed by one administrator, posted when a
    # second approves
    pid = decisions.propose_subsidy(engine, ADMIN, R, S, 50000, dt.date(2026, 3, 25),
                                    "沪财社〔2026〕7号")
    decisions.approve(engine, CHECKER, pid)
    # March: person 2 transfers in from Guangzhou — 321.09 on the account, 1,000.00 of pooled
    # share — and person 1 transfers out 45.67 of account and 200.00 pooled (mobility's own
    # postings through transfer_clearing)
    with engine.begin() as conn:
        mobility_funds.post_in(conn, ADMIN, 901, R, S, 2, 32109, 100000, dt.date(2026, 3, 26))
        mobility_funds.post_out(conn, ADMIN, 902, R, S, 1, 4567, 20000, dt.date(2026, 3, 27))
    return engine


def test_march_statement_ties_out_to_the_fen(books):
    st = funds.checked_statement(books, ADMIN, R, S, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    # opening = February's contributions 100000 + 8000 + 8001 = 116001 fen
    assert st.opening == 116001
    assert st.lines["contributions"] == 200000
    assert st.lines["late_fees"] == 333
    assert st.lines["fiscal_subsidy"] == 50000
    assert st.lines["benefits"] == 123456
    # transfers in 32109 + 100000 = 132109 (revenue); out 4567 + 20000 = 24567 (expense)
    assert st.lines["transfers_in"] == 132109
    assert st.lines["transfers_out"] == 24567
    # revenue 200000 + 333 + 132109 = 332442; subsidy 50000; expense 123456 + 24567 = 148023
    assert (st.revenue, st.subsidy, st.expense) == (332442, 50000, 148023)
    # surplus = 332442 + 50000 − 148023 = 234419; excluding subsidy 184419
    assert st.surplus == 234419 and st.surplus_excluding_subsidy == 184419
    # closing = 116001 + 234419 = 350420, as the ledger's own balances say
    assert st.closing == 350420
    bal = ledger.account_balances(books, R, S, as_of=dt.date(2026, 3, 31))
    assert (bal["pooled_fund"] + bal["individual"] + bal["late_fee_income"]
            + bal["fiscal_subsidy"]) == 350420
    # the transfers-in line is what the transfer-clearing account received: its debits
    # (132109) less its credits (24567) is its balance
    assert bal["transfer_clearing"] == 132109 - 24567
    # net assets: fund bank 150000 + 50000, receivable 116001 + 200000 − 150000 + 333,
    # clearing 107542, less benefits payable 123456 = 350420
    assert st.net_assets == 350420
    assert st.check() == []


def test_year_final_accounts_against_the_budget(books):
    decisions.approve(books, CHECKER, decisions.propose_budget(
        books, ADMIN, R, S, 2026, {"contributions": 400000, "benefits": 100000}))
    fa = funds.final_accounts(books, ADMIN, R, S, 2026)
    v = {x["line"]: x for x in fa["variance"]}
    # contributions: actual 116001 + 200000 = 316001 vs 400000 → −83999, 790‰
    assert v["contributions"]["actual"] == 316001
    assert v["contributions"]["difference"] == -83999
    assert v["contributions"]["execution_permille"] == 790
    assert v["benefits"]["difference"] == 23456
    assert v["fiscal_subsidy"]["budget"] is None
    assert fa["statement"]["ties_out"] is True


def test_monthly_report_sums_the_funds_in_the_region(books):
    rep = monthly.monthly_report(books, ADMIN, "310000", "2026-03")
    row = next(r for r in rep["rows"] if r["scheme"] == S)
    assert (row["collection"], row["benefits"], row["subsidy"], row["balance"]) == \
        (200000, 123456, 50000, 350420)
    ser = monthly.series(books, ADMIN, "310000", "2026-03", months=2)
    assert [s["month"] for s in ser] == ["2026-02", "2026-03"]
    assert ser[0]["balance"] == 116001 and ser[1]["balance"] == 350420
    with pytest.raises(PermissionDenied):
        monthly.monthly_report(books, Actor(id="a", role="administrator", scope="440300"),
                               "310000", "2026-03")


def test_administration_budget_against_two_percent_of_collection(books):
    from shebao.org import service as org
    org.set_budget(books, ADMIN, R, 2026, 7000)
    rep = monthly.administration_budget(books, ADMIN, "310000", 2026)
    # collection 2026 = 116001 + 200000 = 316001 fen; 2% = 6320.02 → 6320 fen
    assert rep["collection"] == 316001 and rep["benchmark"] == 6320
    # budget 7000 − 6320 = 680 over; 7000 / 316001 = 22‰
    assert rep["difference"] == 680 and rep["budget_permille_of_collection"] == 22
