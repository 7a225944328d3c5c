"""Pure rules of mobility: step order, due dates on the holiday calendar, the certification
state machine (rules-2.md §5 worked example)."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.core.errors import ConflictError
from shebao.mobility import model as M
from shebao.mobility import workdays
from shebao.rules import load_rules


def test_steps_in_order_and_the_side_that_acts():
    assert M.first_step("pension") == ("contact_letter", "to")
    assert M.next_step("pension", "contact_letter") == ("transfer_out", "from")
    assert M.next_step("pension", "record_in") is None
    assert M.first_step("medical") == ("transfer_out", "from")
    M.expect_step("pension", "letter_sent", "transfer_out")
    with pytest.raises(ConflictError):
        M.expect_step("pension", "applied", "transfer_out")
    with pytest.raises(ConflictError):
        M.expect_step("pension", "recorded", "record_in")


def test_due_date_counts_holidays_and_makeup_days():
    # Friday 26 Sep 2025 + 15 working days: Sun 28 Sep is a make-up working day, 1–8 Oct are
    # holidays, Sat 11 Oct a make-up day → 9/28, 9/29, 9/30, 10/9, 10/10, 10/11, 10/13–17,
    # 10/20–23 → Thursday 23 Oct
    assert workdays.due_on(load_rules(), "110000", dt.date(2025, 9, 26), 15) == dt.date(2025, 10, 23)


W = 12  # the certification window in months (parameter mobility.certification_window_months)


def test_worked_example_suspend_then_resume_with_back_pay():
    # pension 4,000; last check 2024-05; no data hit, no self check
    s = M.CertState(M.CERTIFIED, dt.date(2024, 5, 15))
    assert M.on_month(s, dt.date(2025, 5, 1), W).state == M.CERTIFIED     # still inside
    s = M.on_month(s, dt.date(2025, 6, 1), W)
    assert (s.state, s.suspended_from) == (M.SUSPENDED, dt.date(2025, 6, 1))
    assert M.on_month(s, dt.date(2025, 7, 1), W) == s                      # stays suspended
    # certified 2025-09-12 → resume from 2025-10, back pay June–September = 4 months
    s = M.on_certified(s, dt.date(2025, 9, 12), dt.date(2025, 9, 1))
    assert (s.state, s.resumed_from, s.back_pay_months) == \
        (M.CERTIFIED, dt.date(2025, 10, 1), 4)
    assert 4 * 400_000 == 1_600_000     # 16,000 yuan back pay, paid with October


def test_data_known_late_back_pays_until_the_run_month():
    s = M.CertState(M.SUSPENDED, dt.date(2024, 5, 1), dt.date(2025, 6, 1))
    s = M.on_certified(s, dt.date(2025, 7, 3), dt.date(2025, 9, 1))   # a July hit found in Sept
    assert (s.resumed_from, s.back_pay_months) == (dt.date(2025, 9, 1), 3)   # June–August


def test_death_found_later_is_an_overpayment():
    # death 2025-02-20 found in 2025-06; paid through May → March–May = 3 months = 12,000
    s = M.on_death(M.CertState(M.CERTIFIED, dt.date(2024, 9, 1)), dt.date(2025, 2, 20))
    assert s.state == M.DECEASED
    assert M.overpaid_months(dt.date(2025, 2, 20), dt.date(2025, 5, 1), None) == 3
    # suspended from April: only March was paid after the death
    assert M.overpaid_months(dt.date(2025, 2, 20), dt.date(2025, 5, 1), dt.date(2025, 4, 1)) == 1
    with pytest.raises(ConflictError):
        M.on_certified(s, dt.date(2025, 7, 1), dt.date(2025, 7, 1))
