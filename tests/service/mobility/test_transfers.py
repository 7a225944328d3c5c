"""A person's whole pension record moves from Shanghai to Beijing in one database: every step
with its working-day limit, four eyes on the funds leaving, the ledger balanced on both sides."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from shebao.cases import queries as case_queries
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.ledger import check
from shebao.ledger import service as ledger
from shebao.ledger.model import account_code
from shebao.mobility import queries, transfers
from shebao.notices import outbox
from shebao.registry import queries as registry_queries

from .conftest import (BJ, BJ_CLERK, SH, SH_CHECKER, SH_MAKER, add_history, citizen,
                       fund_account, fund_pool, make_person)

APPLIED = dt.date(2025, 3, 3)   # a Monday


def _bal(engine, region, kind, person=None, scheme="pension"):
    return ledger.balance(engine, account_code(region, scheme, kind, person))


def _region(engine, pid):
    with engine.connect() as c:
        return registry_queries.person_facts(c, [pid])[pid]["pension_region"]


def _ten_years(engine):
    pid = make_person(engine, dt.date(1985, 6, 1), seq=11)
    # rules-2 §1.2: 6,000 a month 2010–14, 8,000 a month 2015–19 → Σ 840,000, pooled 100,800
    add_history(engine, pid, SH, {y: 600_000 for y in range(2010, 2015)}
                | {y: 800_000 for y in range(2015, 2020)})
    fund_account(engine, SH, pid, 6_720_000, dt.date(2019, 12, 31))
    fund_pool(engine, SH, 50_000_000, dt.date(2019, 12, 31))
    return pid


def test_whole_record_moves_with_the_ledger_balanced_on_both_sides(engine):
    pid = _ten_years(engine)
    pool_sh = _bal(engine, SH, "pooled_fund")
    tid = transfers.apply(engine, citizen(pid), kind="pension", person_id=pid, to_region=BJ,
                          channel="online", on=APPLIED)
    t = queries.transfer(engine, tid)
    assert (t["status"], t["from_region"], t["to_region"], t["temporary"]) == \
        ("applied", SH, BJ, False)
    # step 1 at the new place: 15 working days from Monday 3 March (weekends skipped)
    assert [(s["step"], s["region"], s["due_on"]) for s in t["steps"]] == \
        [("contact_letter", BJ, dt.date(2025, 3, 24))]

    with pytest.raises(PermissionDenied):     # the old place cannot write the new place's letter
        transfers.send_contact_letter(engine, SH_MAKER, tid, on=dt.date(2025, 3, 5))
    transfers.send_contact_letter(engine, BJ_CLERK, tid, on=dt.date(2025, 3, 5))
    transfers.request_transfer_out(engine, SH_MAKER, tid)
    t = queries.transfer(engine, tid)
    assert (t["pooled_fen"], t["account_fen"], t["months"]) == (10_080_000, 6_720_000, 120)
    assert t["base_total_fen"] == 84_000_000
    with pytest.raises(PermissionDenied):     # four eyes: not the maker
        transfers.approve_transfer_out(engine, SH_MAKER, tid, on=dt.date(2025, 3, 10))
    out_entry = transfers.approve_transfer_out(engine, SH_CHECKER, tid, on=dt.date(2025, 3, 10))
    assert out_entry is not None
    # in transit: the old place owes the new place; nothing yet at the new place
    assert _bal(engine, SH, "individual", pid) == 0
    assert _bal(engine, SH, "transfer_clearing") == -(10_080_000 + 6_720_000)
    assert _bal(engine, SH, "pooled_fund") == pool_sh - 10_080_000
    with pytest.raises(ConflictError):        # steps in order only
        transfers.send_contact_letter(engine, BJ_CLERK, tid)

    transfers.record_in(engine, BJ_CLERK, tid, on=dt.date(2025, 3, 12))
    assert _bal(engine, BJ, "individual", pid) == 6_720_000
    assert _bal(engine, BJ, "pooled_fund") == 10_080_000
    # balanced on both sides: the clearing accounts cancel, every entry balances
    assert _bal(engine, SH, "transfer_clearing") + _bal(engine, BJ, "transfer_clearing") == 0
    assert _bal(engine, BJ, "transfer_clearing") == 16_800_000
    rep = check.run_check(engine)
    assert rep.ok, rep.violations
    # the relation moved: the person now belongs to Beijing
    assert _region(engine, pid) == BJ
    t = queries.transfer(engine, tid)
    assert t["status"] == "recorded"
    assert [(s["step"], s["outcome"]) for s in t["steps"]] == [
        ("contact_letter", "done"), ("transfer_out", "done"), ("record_in", "done")]
    assert t["steps"][2]["due_on"] == dt.date(2025, 3, 31)   # 15 WD from 10 March
    assert [y[0] for y in t["sheet"]["years"]] == list(range(2010, 2020))
    # one case at each end in the shared case model, both decided and closed
    cin, cout = case_queries.get(engine, t["case_in_id"]), case_queries.get(engine, t["case_out_id"])
    assert (cin.item, cin.region, cin.status, cin.outcome) == \
        ("mobility.pension_transfer_in", BJ, "closed", "recorded")
    assert (cout.item, cout.region, cout.status, cout.outcome, cout.parent_id) == \
        ("mobility.pension_transfer_out", SH, "closed", "transferred", cin.id)
    assert cin.due_on == dt.date(2025, 3, 24) and cin.channel == "online"
    templates = [n.template for n in outbox.for_recipient(engine, "person", pid)]
    assert templates.count("case.received") == 2 and templates.count("case.decided") == 2


def test_one_live_transfer_and_refusal_in_writing(engine):
    pid = _ten_years(engine)
    tid = transfers.apply(engine, BJ_CLERK, kind="pension", person_id=pid, to_region=BJ,
                          on=APPLIED)
    with pytest.raises(Exception):            # a second live pension transfer is refused
        transfers.apply(engine, BJ_CLERK, kind="pension", person_id=pid, to_region=BJ,
                        on=APPLIED)
    with pytest.raises(InputError):
        transfers.refuse(engine, BJ_CLERK, tid, " ")
    transfers.refuse(engine, BJ_CLERK, tid, "no contribution certificate")
    t = queries.transfer(engine, tid)
    assert t["status"] == "refused" and t["steps"][0]["outcome"] == "refused"
    # after a refusal a new application is possible
    assert transfers.apply(engine, BJ_CLERK, kind="pension", person_id=pid, to_region=BJ,
                           on=APPLIED) != tid
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM mobility_transfer")).scalar_one() == 2


def test_medical_account_moves_in_two_steps(engine):
    pid = make_person(engine, dt.date(1990, 1, 1), seq=12)
    fund_account(engine, SH, pid, 1_234_567, dt.date(2024, 12, 31), scheme="medical")
    tid = transfers.apply(engine, citizen(pid), kind="medical", person_id=pid, to_region=BJ,
                          on=APPLIED)
    t = queries.transfer(engine, tid)
    # M43: old place 10 working days to transfer out
    assert [(s["step"], s["region"], s["due_on"]) for s in t["steps"]] == \
        [("transfer_out", SH, dt.date(2025, 3, 17))]
    transfers.request_transfer_out(engine, SH_MAKER, tid, months=96)
    transfers.approve_transfer_out(engine, SH_CHECKER, tid, on=dt.date(2025, 3, 4))
    t = queries.transfer(engine, tid)
    assert t["steps"][1]["due_on"] == dt.date(2025, 3, 11)     # new place: 5 working days
    transfers.record_in(engine, BJ_CLERK, tid, on=dt.date(2025, 3, 5), gap_months=4)
    assert _bal(engine, BJ, "individual", pid, "medical") == 1_234_567
    # a 4-month gap > 3: continuity broken, a 6-month waiting period; 96 months recognised
    assert queries.transfer(engine, tid)["sheet"]["continuity"] == {
        "gap_months": 4, "continuous": False, "waiting_months": 6, "recognised_months": 96}
    assert _bal(engine, SH, "individual", pid, "medical") == 0
    assert _bal(engine, SH, "transfer_clearing", scheme="medical") + \
        _bal(engine, BJ, "transfer_clearing", scheme="medical") == 0
    # a medical transfer does not move the pension relation
    assert _region(engine, pid) == SH
    assert check.run_check(engine).ok


def test_temporary_account_for_a_man_over_50_outside_his_hukou(engine):
    pid = make_person(engine, dt.date(1970, 1, 1), seq=13, hukou="340100")
    tid = transfers.apply(engine, BJ_CLERK, kind="pension", person_id=pid, to_region=BJ,
                          on=APPLIED)
    assert queries.transfer(engine, tid)["temporary"] is True


def test_a_citizen_sees_only_their_own_transfers(engine):
    a = make_person(engine, dt.date(1985, 1, 1), seq=14)
    b = make_person(engine, dt.date(1985, 1, 2), seq=15)
    with pytest.raises(PermissionDenied):
        transfers.apply(engine, citizen(a), kind="pension", person_id=b, to_region=BJ)
    tid = transfers.apply(engine, citizen(a), kind="pension", person_id=a, to_region=BJ)
    assert [t["id"] for t in queries.transfers_of(engine, citizen(a), a)] == [tid]
    with pytest.raises(PermissionDenied):
        queries.transfers_of(engine, citizen(b), a)


def test_bridge_employee_to_resident_moves_the_account_only(engine):
    # rules-2 §1.5: 8 employee years (account 40,000) < 15 → the account moves to the resident
    # scheme in full, no pooled share; the employee months count as resident years
    pid = make_person(engine, dt.date(1964, 1, 1), seq=16, male=False)
    add_history(engine, pid, SH, {y: 500_000 for y in range(2010, 2018)})
    fund_account(engine, SH, pid, 4_000_000, dt.date(2017, 12, 31))
    tid = transfers.apply(engine, SH_MAKER, kind="bridge", person_id=pid, to_region=SH,
                          on=APPLIED)
    transfers.send_contact_letter(engine, SH_MAKER, tid, on=APPLIED)
    transfers.request_transfer_out(engine, SH_MAKER, tid)
    t = queries.transfer(engine, tid)
    assert (t["account_fen"], t["pooled_fen"], t["months"]) == (4_000_000, 0, 96)
    transfers.approve_transfer_out(engine, SH_CHECKER, tid, on=APPLIED)
    transfers.record_in(engine, SH_MAKER, tid, on=APPLIED)
    assert _bal(engine, SH, "individual", pid) == 0
    # into the person's resident account (the resident scheme keeps one per person)
    assert _bal(engine, SH, "individual", pid, scheme="resident_pension") == 4_000_000
    assert _bal(engine, SH, "transfer_clearing") + \
        _bal(engine, SH, "transfer_clearing", scheme="resident_pension") == 0
    assert check.run_check(engine).ok


def test_bridge_with_fifteen_employee_years_goes_the_other_way(engine):
    # rules-2 §1.5: 15 employee years (180 months) ≥ 15 → the resident pension account (the
    # ledger's resident_pension individual account) moves into the employee account in full;
    # the resident years do not count
    pid = make_person(engine, dt.date(1964, 1, 2), seq=17)
    add_history(engine, pid, SH, {y: 500_000 for y in range(2003, 2018)})
    fund_account(engine, SH, pid, 5_000_000, dt.date(2017, 12, 31))
    tid = transfers.apply(engine, SH_MAKER, kind="bridge", person_id=pid, to_region=SH,
                          on=APPLIED)
    transfers.send_contact_letter(engine, SH_MAKER, tid, on=APPLIED)
    with pytest.raises(ConflictError):       # no resident account: nothing to bridge
        transfers.request_transfer_out(engine, SH_MAKER, tid)
    fund_account(engine, SH, pid, 1_234_500, dt.date(2016, 12, 31), scheme="resident_pension")
    transfers.request_transfer_out(engine, SH_MAKER, tid)
    t = queries.transfer(engine, tid)
    assert (t["account_fen"], t["pooled_fen"], t["months"]) == (1_234_500, 0, 180)
    assert (t["sheet"]["direction"], t["sheet"]["scheme"], t["sheet"]["scheme_in"]) == \
        ("resident_to_employee", "resident_pension", "pension")
    transfers.approve_transfer_out(engine, SH_CHECKER, tid, on=APPLIED)
    transfers.record_in(engine, SH_MAKER, tid, on=APPLIED)
    assert _bal(engine, SH, "individual", pid, scheme="resident_pension") == 0
    assert _bal(engine, SH, "individual", pid) == 5_000_000 + 1_234_500
    assert _bal(engine, SH, "transfer_clearing") + \
        _bal(engine, SH, "transfer_clearing", scheme="resident_pension") == 0
    assert queries.transfer(engine, tid)["status"] == "recorded"
    assert check.run_check(engine).ok


def test_claim_place_from_the_record_rules2_vector(engine):
    # hukou Anhui; Shanghai 12 y (2000–11), Jiangsu 8 y (2012–19), Zhejiang from 52 (temporary)
    pid = make_person(engine, dt.date(1968, 1, 1), seq=18, hukou="340100")
    add_history(engine, pid, SH, {y: 500_000 for y in range(2000, 2012)})
    add_history(engine, pid, "320100", {y: 500_000 for y in range(2012, 2020)})
    add_history(engine, pid, "330100", {y: 500_000 for y in range(2020, 2025)})
    with engine.begin() as c:    # the Zhejiang stay was a temporary account (recorded transfer)
        c.execute(text(
            "INSERT INTO mobility_transfer (kind, person_id, from_region, to_region, status, "
            "channel, temporary, applied_on, created_by, created_at, updated_at) VALUES "
            "('pension', :p, '320100', '330100', 'recorded', 'counter', 1, :d, 't', :t, :t)"),
            {"p": pid, "d": dt.date(2020, 1, 1), "t": dt.datetime(2020, 1, 1)})
    out = transfers.claim_place(engine, SH_MAKER, pid, dt.date(2028, 1, 1))
    assert (out["claim_region"], out["rule"]) == (SH, "previous")
    assert out["months_by_province"] == {"310000": 144, "320000": 96}
    assert [s["temporary"] for s in out["segments"]] == [False, False, True]
