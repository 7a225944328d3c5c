"""The payroll's rules as a pure function, on hand-computed cases (amounts in fen)."""
from __future__ import annotations

import datetime as dt

from shebao.benefits.payroll_rules import payroll_lines

DEC = dt.date(2025, 12, 1)


def _one(amount=300000, part=100000, balance=-500000, bank=True, death=None, merged=False,
         certs=(), paid=False, start=dt.date(2025, 1, 1)):
    r = payroll_lines(DEC, [7], [amount], [part], [balance], [bank], [death], [merged],
                      [certs], [paid], start_month=[start])
    return (bool(r.payable[0]), bool(r.held[0]), int(r.amount_fen[0]),
            int(r.account_share_fen[0]))


def test_account_share_is_the_part_while_the_balance_covers_it():
    # stored −5000.00 (credit-normal) = 5000.00 in the account ≥ part 1000.00 → 1000.00
    assert _one(balance=-500000) == (True, False, 300000, 100000)


def test_account_share_is_the_balance_once_it_is_below_the_part():
    # 600.00 in the account < part 1000.00 → min(100000, 60000) = 60000; pool pays the rest
    assert _one(balance=-60000) == (True, False, 300000, 60000)


def test_a_negative_balance_or_no_account_gives_no_account_share():
    # stored +200.00 = account overdrawn by 200.00 → max(−20000, 0) = 0
    assert _one(balance=20000)[3] == 0
    assert _one(balance=0)[3] == 0                   # no account: 0 stored → 0


def test_no_bank_account_is_held_not_paid():
    assert _one(bank=False)[:2] == (False, True)


def test_death_in_the_month_is_paid_for_it_and_death_before_stops():
    assert _one(death=dt.date(2025, 12, 1))[:2] == (True, False)     # dies 1 Dec: Dec paid
    assert _one(death=dt.date(2025, 12, 31))[:2] == (True, False)
    assert _one(death=dt.date(2025, 11, 30))[:2] == (False, False)   # dies in Nov: stop
    assert _one(death=dt.date(2025, 11, 30), bank=False)[:2] == (False, False)  # not held


def test_merged_person_and_award_not_started_are_not_in_the_run():
    assert _one(merged=True)[:2] == (False, False)
    assert _one(start=dt.date(2026, 1, 1))[:2] == (False, False)
    assert _one(start=DEC)[:2] == (True, False)


def test_failed_certification_suspends_until_a_later_pass():
    failed = (dt.date(2025, 11, 10), False)
    assert _one(certs=[failed])[:2] == (False, False)                 # failed in Nov: stop Dec
    assert _one(certs=[(DEC, False)])[:2] == (True, False)            # failed on 1 Dec: paid
    assert _one(certs=[failed, (dt.date(2025, 11, 20), True)])[:2] == (True, False)
    # a pass after the month also resumes (the SQL does not bound the pass by the month)
    assert _one(certs=[failed, (dt.date(2026, 1, 5), True)])[:2] == (True, False)
    # a pass BEFORE the failure does not resolve it
    assert _one(certs=[(dt.date(2025, 10, 1), True), failed])[:2] == (False, False)


def test_already_paid_for_the_month_is_not_paid_again_nor_held():
    assert _one(paid=True)[:2] == (False, False)
    assert _one(paid=True, bank=False)[:2] == (False, False)


def test_zero_amount_in_force_is_in_the_run_but_not_payable():
    r = payroll_lines(DEC, [1, 2], [0, 5], [0, 9], [-3, -3], [True, True], [None, None],
                      [False, False], [(), ()], [False, False])
    # award 1: amount 0 → no payment; award 2: share = min(9, max(3, 0)) = 3
    assert r.in_run.tolist() == [True, True] and r.payable.tolist() == [False, True]
    assert r.account_share_fen.tolist() == [0, 3]
