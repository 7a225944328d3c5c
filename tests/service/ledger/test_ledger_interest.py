"""Annual interest by the monthly-product method, with the year's rate from the rules."""
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from shebao.core.errors import InputError, RuleError
from shebao.ledger import check, interest, service
from shebao.ledger.model import EntryRequest, Line
from shebao.rules.loader import load_rules

from .conftest import CLERK, R, code, contribution, counts


def _post(ledger, key, person, fen, day):
    service.post_entry(ledger, CLERK, key, contribution(amount_pooled=1, indiv=((person, fen),),
                                                        day=day))


def test_rate_is_the_one_published_for_that_year():
    rules = load_rules()
    assert interest.rate_for(R, "pension", 2024, rules) == Decimal("0.0262")
    assert interest.rate_for("310104", "pension", 2016, rules) == Decimal("0.0831")  # inherited
    with pytest.raises(RuleError, match="no pension.account_interest_rate for 2031"):
        interest.rate_for(R, "pension", 2031, rules)   # 2025's rate is not 2031's rate


def test_monthly_product_interest_credited_against_the_pool(ledger):
    _post(ledger, "p1-2023", 1, 1_000_000, dt.date(2023, 6, 1))   # opening balance 2024
    _post(ledger, "p1-mar", 1, 12_000, dt.date(2024, 3, 15))
    _post(ledger, "p1-oct", 1, 6_000, dt.date(2024, 10, 1))
    _post(ledger, "p2-dec", 2, 100, dt.date(2024, 12, 1))
    _post(ledger, "p3-jan", 3, 50_000, dt.date(2024, 1, 20))
    res = interest.credit_interest(ledger, CLERK, R, "pension", 2024)
    # person 1: (12×1,000,000 + 12,000×10 + 6,000×3) × 0.0262 / 12 = 26,501.3 → 26,501
    # person 2: 100 × 1 × 0.0262 / 12 = 0.22 → 0 (no posting)
    # person 3: 50,000 × 12 × 0.0262 / 12 = 1,310
    assert res.rate == Decimal("0.0262") and not res.replayed
    assert (res.accounts, res.total_fen) == (2, 27_811)
    assert service.balance(ledger, code("individual", 1)) == 1_018_000 + 26_501
    assert service.balance(ledger, code("individual", 2)) == 100
    assert service.balance(ledger, code("individual", 3)) == 51_310
    assert service.balance(ledger, code("interest_credited")) == 27_811
    with ledger.connect() as c:
        e = c.execute(text("SELECT effective_date, source FROM ledger_entry WHERE id = :i"),
                      {"i": res.entry_id}).one()
    assert str(e.effective_date) == "2024-12-31" and e.source == "interest"
    st = service.statement(ledger, CLERK, 1, "pension")
    assert (st.lines[-1].source, st.lines[-1].amount) == ("interest", 26_501)
    # next year compounds on the credited interest: 1,044,501 × 0.0150 = 15,667.5 → 15,668
    res25 = interest.credit_interest(ledger, CLERK, R, "pension", 2025)
    assert service.balance(ledger, code("individual", 1)) == 1_044_501 + 15_668
    # person 3: 51,310 × 0.015 = 769.65 → 770; person 2: 100 × 0.015 = 1.5 → 2 (half up)
    assert res25.total_fen == 15_668 + 770 + 2
    assert check.run_check(ledger).ok


def test_interest_is_idempotent_per_year(ledger):
    _post(ledger, "a", 1, 120_000, dt.date(2023, 1, 1))
    first = interest.credit_interest(ledger, CLERK, R, "pension", 2024)
    # a back-dated contribution arriving later does not re-credit the year (the key's
    # content is region, scheme, year and rate): an adjustment is a separate request
    _post(ledger, "late", 1, 5_000, dt.date(2024, 6, 1))
    snap = counts(ledger)
    again = interest.credit_interest(ledger, CLERK, R, "pension", 2024)
    assert again.replayed and again.entry_id == first.entry_id
    assert (again.accounts, again.total_fen) == (first.accounts, first.total_fen) == (1, 3_144)
    assert counts(ledger) == snap


def test_medical_accounts_earn_nothing_without_a_rate_in_the_rules(ledger):
    service.post_entry(ledger, CLERK, "m", EntryRequest(dt.date(2023, 1, 1), (
        Line.debit(code("fund_bank", scheme="medical"), 500),
        Line.credit(code("individual", 1, scheme="medical"), 500))))
    snap = counts(ledger)
    res = interest.credit_interest(ledger, CLERK, R, "medical", 2024)
    if "medical.account_interest_rate" in load_rules():
        assert res.rate is not None
    else:
        assert res.entry_id is None and res.total_fen == 0
        assert "no medical.account_interest_rate" in res.reason
        assert counts(ledger) == snap


def test_interest_for_an_unpublished_year_is_refused(ledger):
    _post(ledger, "a", 1, 120_000, dt.date(2023, 1, 1))
    snap = counts(ledger)
    # Shanghai's own rates have a gap in 2013 and the national rate starts in 2016
    with pytest.raises(RuleError, match="2013"):
        interest.credit_interest(ledger, CLERK, R, "pension", 2013)
    assert counts(ledger) == snap


def test_interest_for_a_year_not_over_is_refused(ledger):
    year = dt.date.today().year
    with pytest.raises(InputError, match=f"year {year} is not over"):
        interest.credit_interest(ledger, CLERK, R, "pension", year)
