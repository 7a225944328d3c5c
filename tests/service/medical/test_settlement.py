"""Claims from a provider → settlement run → ledger, on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.ledger import service as ledger
from shebao.ledger.model import EntryRequest, Line
from shebao.medical import claims, settle

from .conftest import BJ, CLERK, SH, bill

HOSP = Actor(id="hosp_bj", role="provider")


def _settled(engine, claim_id):
    with engine.connect() as c:
        return dict(c.execute(text("SELECT * FROM medical_settlement WHERE claim_id = :c"),
                              {"c": claim_id}).mappings().one())


def test_a_year_of_claims_crosses_the_cap(engine, world):
    """Beijing in-service, tertiary, three stays of 50,000 in 2025 (settled one run each) and a
    fourth in 2026: the cap (100,000 [M]) cuts the third stay, the serious-illness layer (85%)
    takes over; the new year starts afresh."""
    p = world["bj"]
    got = []
    for i, day in enumerate(("2025-02-01", "2025-06-01", "2025-10-01", "2026-01-10")):
        cid = claims.submit_claim(engine, HOSP, bill(p, f"B{i}", "50000.00", admitted=day))
        settle.settle(engine, CLERK, "110000", on=dt.date.fromisoformat(day))
        got.append(_settled(engine, cid))
    # 1st stay: deductible 1,300: 28,700×85% + 10,000×90% + 10,000×95% = 42,895
    assert (got[0]["deductible_fen"], got[0]["basic_fen"]) == (130000, 4289500)
    # 2nd stay, deductible 650: 29,350×85% + 9,000 + 9,500 = 43,447.50
    assert (got[1]["deductible_fen"], got[1]["basic_fen"]) == (65000, 4344750)
    # 3rd: cap left 100,000 − 86,342.50 = 13,657.50 ; cut 43,447.50 − 13,657.50 = 29,790
    # serious = 29,790 × 85% = 25,321.50 ; cash = 50,000 − 13,657.50 − 25,321.50 = 11,021
    assert (got[2]["basic_fen"], got[2]["serious_fen"], got[2]["cash_fen"]) == (
        1365750, 2532150, 1102100)
    assert sum(g["basic_fen"] for g in got[:3]) == 10_000_000     # exactly the cap
    # 2026: a first stay again, nothing used yet
    assert (got[3]["deductible_fen"], got[3]["basic_fen"], got[3]["serious_fen"]) == (
        130000, 4289500, 0)
    fund = sum(g["basic_fen"] for g in got)
    serious = sum(g["serious_fen"] for g in got)
    # the ledger: the pooled fund paid the basic shares, the layer its own, all owed to the
    # hospital (benefits payable); the patient's cash never enters the fund
    assert ledger.balance(engine, f"{BJ}.medical.pooled_fund") == -fund
    assert ledger.balance(engine, f"{BJ}.medical.expenses") == serious
    assert ledger.balance(engine, f"{BJ}.medical.benefits_payable") == fund + serious


def test_one_run_equals_runs_one_by_one(engine, world):
    """Claims settled in one batch consume the cap in admission order, like one run each."""
    p = world["bj"]
    ids = [claims.submit_claim(engine, HOSP, bill(p, f"C{i}", "50000.00",
                                                  admitted=f"2025-0{i + 1}-01"))
           for i in range(3)]
    r = settle.settle(engine, CLERK, BJ)
    assert r["claims"] == 3 and r["basic"] == 10_000_000
    assert [_settled(engine, c)["basic_fen"] for c in ids] == [4289500, 4344750, 1365750]


def test_catalogue_classes_and_the_account(engine, world):
    p = world["bj"]
    # money in the person's medical account: 300.00
    ledger.open_chart(engine, CLERK, BJ, ("medical",))
    ledger.open_individual_accounts(engine, CLERK, BJ, "medical", [p])
    ledger.post_entry(engine, CLERK, "acct-seed", EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(f"{BJ}.medical.fund_bank", 30000),
        Line.credit(f"{BJ}.medical.individual.{p}", 30000))))
    cid = claims.submit_claim(engine, HOSP, {
        "provider": "H11010501", "bill_no": "K1", "person_id": p, "kind": "inpatient",
        "admitted_on": "2025-04-01", "use_account": True,
        "lines": [{"item_code": "T001", "amount": "2000.00"},
                  {"item_code": "D002", "amount": "1000.00"},
                  {"item_code": "X001", "amount": "500.00"},
                  {"item_code": "NOPE", "amount": "100.00"}]})
    settle.settle(engine, CLERK, BJ)
    s = _settled(engine, cid)
    # self-paid: 1,000 × 10% (B) + 500 (C) + 100 (not listed) = 700 ; in scope 2,900
    # fund = (2,900 − 1,300) × 85% = 1,360 ; in-scope patient part 1,540 → account 300
    assert (s["self_paid_fen"], s["scope_fen"], s["basic_fen"], s["account_fen"],
            s["cash_fen"]) == (70000, 290000, 136000, 30000, 360000 - 136000 - 30000)
    assert ledger.balance(engine, f"{BJ}.medical.individual.{p}") == 0


def test_duplicates_are_refused(engine, world):
    p = world["bj"]
    claims.submit_claim(engine, HOSP, bill(p, "D1", "800.00"))
    with pytest.raises(ConflictError, match="submitted already"):
        claims.submit_claim(engine, HOSP, bill(p, "D1", "900.00"))
    with pytest.raises(ConflictError, match="duplicate claim"):
        claims.submit_claim(engine, HOSP, bill(p, "D2", "800.00"))
    with pytest.raises(PermissionDenied):
        claims.submit_claim(engine, Actor(id="other_hosp", role="provider"),
                            bill(p, "D3", "1.00"))
    with pytest.raises(InputError) as e:
        claims.submit_claim(engine, HOSP, bill(p, "D4", "0.001"))
    assert e.value.field == "amount"
    with engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM medical_claim")).scalar_one() == 1


def test_off_site_unregistered_then_cleared(engine, world):
    """A Shanghai-insured person in a Beijing hospital, no registration: −10 pp (rules-2 §2);
    Shanghai's fund pays through transfer clearing, Beijing owes its hospital."""
    p = world["sh"]
    cid = claims.submit_claim(engine, HOSP, {
        "provider": "H11010501", "bill_no": "O1", "person_id": p, "kind": "inpatient",
        "admitted_on": "2025-05-01", "lines": [{"item_code": "T001", "amount": "27000.00"},
                                               {"item_code": "NOPE", "amount": "3000.00"}]})
    sh_clerk = Actor(id="clerk_sh", role="benefits_clerk", scope="310000")
    settle.settle(engine, sh_clerk, "310000", on=dt.date(2025, 5, 20))
    s = _settled(engine, cid)
    # Shanghai policy = national default [M]: (27,000 − 1,000) × (85% − 10%) = 19,500
    assert (s["basic_fen"], s["cash_fen"], s["offsite"]) == (1950000, 1050000, 5)
    assert ledger.balance(engine, f"{SH}.medical.pooled_fund") == -1950000
    assert ledger.balance(engine, f"{SH}.medical.transfer_clearing") == -1950000
    assert ledger.balance(engine, f"{BJ}.medical.transfer_clearing") == 1950000
    assert ledger.balance(engine, f"{BJ}.medical.benefits_payable") == 1950000


def test_preview_is_what_the_run_then_settles(engine, world):
    """``settle.preview`` (the clerk's view before deciding) reads and computes as the run does:
    after a first stay has used the deductible and part of the year, the second claim's preview
    equals its settlement to the fen, and nothing was written by the preview."""
    p = world["bj"]
    first = claims.submit_claim(engine, HOSP, bill(p, "P1", "50000.00", admitted="2025-02-01"))
    assert settle.preview(engine, first)["deductible"] == 130000        # first stay: 1,300
    settle.settle(engine, CLERK, "110000", on=dt.date(2025, 2, 20))
    second = claims.submit_claim(engine, HOSP, bill(p, "P2", "30000.00", admitted="2025-06-01",
                                                    use_account=True))
    before = settle.preview(engine, second)
    assert before["deductible"] == 65000                                 # a later stay: 650
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM medical_settlement WHERE claim_id = :c"),
                         {"c": second}).scalar_one() == 0
    settle.settle(engine, CLERK, "110000", on=dt.date(2025, 6, 20))
    after = _settled(engine, second)
    assert {k: v for k, v in before.items() if k != "sources"} == \
        {k[:-4]: after[k] for k in after if k.endswith("_fen")}
    assert before["sources"]
