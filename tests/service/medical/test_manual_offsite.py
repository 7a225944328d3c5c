"""Manual claims through the case model (30 WD, four eyes), off-site registrations, clearing."""
import datetime as dt

import pytest
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.cases import queries as case_queries
from shebao.ledger import service as ledger
from shebao.ledger.model import EntryRequest, Line
from shebao.medical import access, claims, manual, offsite, settle

from .conftest import BJ, CLERK, SH

CHECKER = Actor(id="clerk_bj2", role="benefits_clerk", scope="110000")
NATIONAL = Actor(id="clerk_nat", role="benefits_clerk", scope="national")
HOSP = Actor(id="hosp_bj", role="provider")


def _bill(person, no, amount="10000.00"):
    return {"provider": "H11010501", "bill_no": no, "person_id": person, "kind": "inpatient",
            "admitted_on": "2025-03-03", "lines": [{"item_code": "T001", "amount": amount}]}


def test_manual_claim_is_a_case_with_30_working_days_and_four_eyes(engine, world):
    me = Actor(id="zhang", role="citizen", person_id=world["bj"])
    got = manual.open_manual_claim(engine, me, _bill(world["bj"], "M1"))
    case = case_queries.get(engine, got["case_id"])
    assert case.item == "medical.manual_claim" and case.due_on is not None
    # 30 working days = six weeks of five; the fewest calendar days is when the case opens on a
    # Sunday (Monday is day 1, the Friday six weeks on is day 30): 40 days; holidays add more
    assert (case.due_on - case.opened_on).days >= 40
    with pytest.raises(PermissionDenied):
        manual.open_manual_claim(engine, me, _bill(world["sh"], "M2"))
    manual.propose(engine, CLERK, got["case_id"], "granted")
    with pytest.raises(Exception):                 # the maker may not check
        manual.approve(engine, CLERK, got["case_id"])
    out = manual.approve(engine, CHECKER, got["case_id"])
    # Beijing: (10,000 − 1,300) × 85% = 7,395 owed to the person
    assert out["outcome"] == "granted" and out["settlement"]["basic"] == 739500
    assert ledger.balance(engine, f"{BJ}.medical.benefits_payable") == 739500
    mine = access.person_medical(engine, me, world["bj"], "citizen portal")
    assert [c["basic"] for c in mine["claims"]] == ["7395.00"]


def test_refused_manual_claim_is_rejected_and_needs_a_reason(engine, world):
    got = manual.open_manual_claim(engine, CLERK, _bill(world["bj"], "M3"), channel="counter")
    with pytest.raises(InputError) as e:
        manual.propose(engine, CLERK, got["case_id"], "refused")
    assert e.value.field == "reason"
    manual.propose(engine, CLERK, got["case_id"], "refused", "not medically necessary")
    assert manual.approve(engine, CHECKER, got["case_id"])["outcome"] == "refused"
    with engine.connect() as c:
        assert c.execute(text("SELECT status FROM medical_claim")).scalar_one() == "rejected"
    assert settle.settle(engine, CLERK, BJ)["claims"] == 0


def test_registered_long_term_resident_gets_home_ratio_then_clearing(engine, world):
    p = world["sh"]
    me = Actor(id="li", role="citizen", person_id=p)
    reg = offsite.register(engine, me, person_id=p, treatment_region="110000",
                           category="long_term", subtype="long_term_resident",
                           valid_from=dt.date(2025, 1, 1))
    assert reg["valid_to"] is None                              # long-term: until revoked
    with pytest.raises(InputError):                             # Beijing from Beijing: no
        offsite.register(engine, CLERK, person_id=world["bj"], treatment_region="110000",
                         category="referral", subtype="referral", valid_from=dt.date(2025, 1, 1))
    cid = claims.submit_claim(engine, HOSP, {
        "provider": "H11010501", "bill_no": "R1", "person_id": p, "kind": "inpatient",
        "admitted_on": "2025-05-01", "lines": [{"item_code": "T001", "amount": "27000.00"},
                                               {"item_code": "NOPE", "amount": "3000.00"}]})
    settle.settle(engine, NATIONAL, "310000", on=dt.date(2025, 5, 20))
    # rules-2 §2: registered long-term resident: (27,000 − 1,000) × 85% = 22,100
    assert access.person_medical(engine, NATIONAL, p, "check")["claims"][0]["basic"] == \
        "22100.00"
    assert claims is not None and cid
    # Shanghai's fund account must hold the money it pays out
    ledger.post_entry(engine, NATIONAL, "seed-sh", EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(f"{SH}.medical.fund_bank", 5_000_000),
        Line.credit(f"{SH}.medical.pooled_fund", 5_000_000))))
    out = offsite.clear(engine, NATIONAL, dt.date(2025, 5, 1))
    assert (out["pairs"], out["amount_fen"]) == (1, 2210000)
    for region in (SH, BJ):
        assert ledger.balance(engine, f"{region}.medical.transfer_clearing") == 0
    assert ledger.balance(engine, f"{BJ}.medical.fund_bank") == 2210000
    assert offsite.clear(engine, NATIONAL, dt.date(2025, 5, 1))["pairs"] == 0   # once
    # a temporary visit after revoking: the lower ratio
    offsite.revoke(engine, me, reg["registration_id"])
    claims.submit_claim(engine, HOSP, {
        "provider": "H11010501", "bill_no": "R2", "person_id": p, "kind": "inpatient",
        "admitted_on": "2025-06-01", "lines": [{"item_code": "T001", "amount": "11000.00"}]})
    settle.settle(engine, NATIONAL, "310000", on=dt.date(2025, 6, 20))
    # later stay (national 1,000): (11,000 − 1,000) × 75% = 7,500
    assert access.person_medical(engine, me, p, "portal")["claims"][0]["basic"] == "7500.00"
