"""Fund statements tie out to the ledger to the fen: opening + revenue + subsidy − expense =
closing (the ledger's balances), and the fund balance equals the net assets; a fiscal subsidy
is posted to its own account and reported apart."""
import datetime as dt

import pytest

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.ledger import model, service as ledger
from shebao.reports import funds, monthly

ADMIN = Actor(id="admin1", role="administrator", scope="310000")
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
    # a fiscal subsidy of 500.00 in March, through the reports service
    funds.record_subsidy(engine, ADMIN, R, S, 50000, dt.date(2026, 3, 25), "沪财社〔2026〕7号")
    return engine


def test_march_statement_ties_out_to_the_fen(books):
    st = funds.checked_statement(books, ADMIN, R, S, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    # opening = February's contributions 100000 + 8000 + 8001 = 116001 fen
    assert st.opening == 116001
    assert st.lines["contributions"] == 200000
    assert st.lines["late_fees"] == 333
    assert st.lines["fiscal_subsidy"] == 50000
    assert st.lines["benefits"] == 123456
    # revenue 200000 + 333 = 200333; subsidy 50000; expense 123456
    assert (st.revenue, st.subsidy, st.expense) == (200333, 50000, 123456)
    # surplus = 200333 + 50000 − 123456 = 126877; excluding subsidy 76877
    assert st.surplus == 126877 and st.surplus_excluding_subsidy == 76877
    # closing = 116001 + 126877 = 242878, as the ledger's own balances say
    assert st.closing == 242878
    bal = ledger.account_balances(books, R, S, as_of=dt.date(2026, 3, 31))
    assert (bal["pooled_fund"] + bal["individual"] + bal["late_fee_income"]
            + bal["fiscal_subsidy"]) == 242878
    # net assets: fund bank 150000 + 50000, receivable 116001 + 200000 − 150000 + 333,
    # less benefits payable 123456 = 242878
    assert st.net_assets == 242878
    assert st.check() == []


def test_year_final_accounts_against_the_budget(books):
    funds.set_budget(books, ADMIN, R, S, 2026, {"contributions": 400000, "benefits": 100000})
    fa = funds.final_accounts(books, ADMIN, R, S, 2026)
    v = {x["line"]: x for x in fa["variance"]}
    # contributions: actual 116001 + 200000 = 316001 vs 400000 → −83999, 790‰
    assert v["contributions"]["actual"] == 316001
    assert v["contributions"]["difference"] == -83999
    assert v["contributions"]["execution_permille"] == 790
    assert v["benefits"]["difference"] == 23456
    assert v["fiscal_subsidy"]["budget"] is None
    assert fa["statement"]["ties_out"] is True


def test_subsidy_is_idempotent_on_its_reference_and_needs_the_right(books):
    funds.record_subsidy(books, ADMIN, R, S, 50000, dt.date(2026, 3, 25), "沪财社〔2026〕7号")
    assert ledger.balance(books, code("fiscal_subsidy")) == 50000
    with pytest.raises(PermissionDenied):
        funds.record_subsidy(books, CLERK, R, S, 100, dt.date(2026, 3, 25), "x")
    with pytest.raises(InputError):
        funds.record_subsidy(books, ADMIN, R, S, 0, dt.date(2026, 3, 25), "y")


def test_monthly_report_sums_the_funds_in_the_region(books):
    rep = monthly.monthly_report(books, ADMIN, "310000", "2026-03")
    row = next(r for r in rep["rows"] if r["scheme"] == S)
    assert (row["collection"], row["benefits"], row["subsidy"], row["balance"]) == \
        (200000, 123456, 50000, 242878)
    ser = monthly.series(books, ADMIN, "310000", "2026-03", months=2)
    assert [s["month"] for s in ser] == ["2026-02", "2026-03"]
    assert ser[0]["balance"] == 116001 and ser[1]["balance"] == 242878
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
