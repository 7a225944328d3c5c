"""Pure domain rules of the ledger: no database."""
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from shebao.core.errors import InputError, InvariantError
from shebao.ledger import model
from shebao.ledger.model import Batch, EntryRequest, Line

D = dt.date(2025, 1, 1)
BANK, POOL = "310000.pension.fund_bank", "310000.pension.pooled_fund"


def test_account_codes_round_trip_and_refuse_garbage():
    assert model.account_code("310000", "pension", "individual", 12) == \
        "310000.pension.individual.12"
    assert model.parse_code("310000.medical.individual.7").person_id == 7
    for bad in ("310000.pension", "31000.pension.pooled_fund", "310000.pension.vault",
                "310000.injury.individual.3", "310000.pension.individual.0",
                "310000.pension.individual.03", "310000.pension.pooled_fund.4"):
        with pytest.raises(InputError, match="unknown account"):
            model.parse_code(bad)


def test_chart_has_every_kind_of_the_issue_with_normal_sides():
    kinds = model.KINDS
    assert set(kinds) == {"pooled_fund", "individual", "fund_bank", "bank_transit",
                          "receivable_employer", "receivable_individual", "benefits_payable",
                          "suspense", "late_fee_income", "interest_credited",
                          "transfer_clearing", "expenses", "fiscal_subsidy",
                          "fines_receivable", "fines_payable_treasury"}
    assert {k for k, v in kinds.items() if v.no_negative} == {"individual", "fund_bank"}
    assert kinds["individual"].normal_sign == model.CREDIT
    assert kinds["fund_bank"].normal_sign == model.DEBIT
    assert kinds["fiscal_subsidy"].normal_sign == model.CREDIT   # income of the fund (#18)


def test_an_unbalanced_entry_cannot_be_built():
    with pytest.raises(InvariantError, match="differ by 1 fen"):
        EntryRequest(D, (Line.debit(BANK, 101), Line.credit(POOL, 100))).validated()
    with pytest.raises(InvariantError, match="at least two"):
        EntryRequest(D, (Line.debit(BANK, 0 + 1),)).validated()


def test_money_must_be_integer_fen():
    for amt in (1.0, Decimal("1"), "1", True):
        with pytest.raises(InputError, match="integer fen"):
            EntryRequest(D, (Line(BANK, amt), Line(POOL, -1))).validated()
    ok = EntryRequest(D, (Line(BANK, np.int64(5)), Line(POOL, -5))).validated()
    assert all(type(ln.amount) is int for ln in ok.lines)


def test_dates_and_sources_are_checked():
    with pytest.raises(InputError, match="effective_date"):
        EntryRequest(dt.datetime(2025, 1, 1), (Line.debit(BANK, 1), Line.credit(POOL, 1))
                     ).validated()
    with pytest.raises(InputError, match="source"):
        EntryRequest(D, (Line.debit(BANK, 1), Line.credit(POOL, 1)), "Bad Source!").validated()


@pytest.mark.parametrize("key,ok", [("collect:2025-07:310000:42", True), ("a", True),
                                    ("x" * 200, True), ("x" * 201, False), ("", False),
                                    ("-lead", False), ("tab\tkey", False), ("中文", False)])
def test_idempotency_key_shape(key, ok):
    if ok:
        assert model.check_key(key) == key
    else:
        with pytest.raises(InputError, match="malformed"):
            model.check_key(key)


def test_content_hash_ignores_line_order_but_not_amounts():
    a = EntryRequest(D, (Line.debit(BANK, 3), Line.credit(POOL, 3)))
    b = EntryRequest(D, (Line.credit(POOL, 3), Line.debit(BANK, 3)))
    c = EntryRequest(D, (Line.debit(BANK, 4), Line.credit(POOL, 4)))
    assert a.content_hash() == b.content_hash() != c.content_hash()


def test_contribution_entry_aggregates_the_pool_and_keeps_persons():
    be = model.contribution_entry("310000", "pension", D, debit_kind="bank_transit",
                                  person_ids=[3, 1, 2], pooled_fen=[100, 200, 300],
                                  individual_fen=[10, 0, 30]).validated()
    assert [(ln.account, ln.amount) for ln in be.lines] == [
        ("310000.pension.bank_transit", 640), ("310000.pension.pooled_fund", -600)]
    assert be.person_ids.tolist() == [3, 2] and be.person_amounts.tolist() == [-10, -30]


def test_batch_hash_sees_one_fen_in_one_person():
    def batch(extra):
        ind = np.array([10, 20, 30]) + extra
        return Batch([model.contribution_entry("310000", "pension", D, debit_kind="fund_bank",
                                               person_ids=[1, 2, 3], pooled_fen=[5, 5, 5],
                                               individual_fen=ind)]).validated()
    assert batch(np.array([0, 0, 0])).content_hash() == batch(np.array([0, 0, 0])).content_hash()
    assert batch(np.array([0, 0, 0])).content_hash() != batch(np.array([0, 1, 0])).content_hash()


def test_monthly_product_interest_arithmetic():
    # opening 1,000,000 + 12,000 in March + 6,000 in October at 2.62 %:
    # (12×1,000,000 + 12,000×10 + 6,000×3) × 0.0262 / 12 = 26,501.3 → 26,501
    monthly = np.zeros((3, 12), np.int64)
    monthly[0, 2], monthly[0, 9] = 12_000, 6_000
    monthly[1, 0] = 100            # 100 × 12 × 0.015 / 12 = 1.5 → 2 (half up)
    monthly[2, 11] = 800           # 800 × 1 × 0.015 / 12 = 1.0
    out = model.monthly_product_interest(np.array([1_000_000, 0, 0]), monthly, Decimal("0.0262"))
    assert out[0] == 26_501
    out2 = model.monthly_product_interest(np.array([0, 0, 0]), monthly, Decimal("0.015"))
    assert out2[1:].tolist() == [2, 1]
    assert out.dtype == np.int64


def _reference_interest(opening: int, monthly: list[int], rate: Decimal) -> int:
    from fractions import Fraction

    from shebao.core.money import round_half_up
    product = 12 * opening + sum(a * (12 - m) for m, a in enumerate(monthly))
    return round_half_up(Fraction(product) * Fraction(rate) / 12)


def test_monthly_product_interest_matches_exact_reference():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 10**10),
                              st.lists(st.integers(-10**8, 10**8), min_size=12, max_size=12)),
                    min_size=1, max_size=20),
           st.decimals(min_value=Decimal("0"), max_value=Decimal("0.2"), places=4))
    def check(rows, rate):
        opening = np.array([r[0] for r in rows], np.int64)
        monthly = np.array([r[1] for r in rows], np.int64)
        got = model.monthly_product_interest(opening, monthly, rate).tolist()
        assert got == [_reference_interest(o, m, rate) for o, m in rows]

    check()
