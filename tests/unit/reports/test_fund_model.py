"""Which ledger movements are revenue, subsidy or expense."""
from shebao.reports import model


def test_classification_and_lines():
    moves = [("pooled_fund", "collection.assess", 100, 5000),     # net credit 4,900
             ("individual", "collection.assess", 0, 800),
             ("pooled_fund", "payroll", 3000, 200),               # net debit 2,800
             ("fiscal_subsidy", "reports.subsidy", 0, 1000),
             ("interest_credited", "interest", 50, 0),            # interest: −50 + 50 = 0
             ("individual", "interest", 0, 50),
             ("fund_bank", "collection.bank", 999, 0)]            # not a fund account
    lines = model.lines_of(moves)
    assert lines["contributions"] == 5700
    assert lines["benefits"] == 2800
    assert lines["fiscal_subsidy"] == 1000
    assert lines["interest"] == 0
    assert model.classify("fund_bank", "x") is None
    # the demo's legacy balances are a migration, not a negative benefit expense
    assert model.classify("individual", "benefits.legacy-migration") == "migrated_in"


def test_transfers_are_shown_gross_in_and_out():
    """One (kind, source) movement of mobility carries both directions: its credits arrived
    from other regions (revenue), its debits left (expense); the net is unchanged."""
    moves = [("individual", "mobility", 4567, 32109),
             ("pooled_fund", "mobility", 20000, 100000),
             ("transfer_clearing", "mobility", 132109, 24567)]   # an asset: no line
    lines = model.lines_of(moves)
    assert lines["transfers_in"] == 132109 and lines["transfers_out"] == 24567
    assert model.LINE_SIDE["transfers_in"] == "revenue"
    st = model.FundStatement("310104", "pension", "a", "b", 0, 132109 - 24567,
                             132109 - 24567, lines)
    assert st.surplus == 107542 and st.check() == []


def test_identities():
    st = model.FundStatement("310104", "pension", "2026-03-01", "2026-03-31", 100, 150, 150,
                             {"contributions": 80, "benefits": 30})
    assert st.surplus == 50 and st.check() == []
    bad = model.FundStatement("310104", "pension", "a", "b", 100, 151, 150, {"contributions": 50})
    assert len(bad.check()) == 2
