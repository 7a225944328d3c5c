"""The supervision bureau's pure rules: blacklist and arrears state machines, fines, grounds,
late fees, instalments."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.core.errors import ConflictError, InputError
from shebao.supervision import model

D = dt.date


def test_blacklist_due_process_path_and_refusals():
    s = "proposed"
    for action, expected in [("notify", "notified"), ("object", "objected"),
                             ("submit", "pending"), ("reject", "notified"),
                             ("submit", "pending"), ("approve", "listed"),
                             ("publish", "published"), ("remove", "removed")]:
        s = model.step(model.BLACKLIST, action, s)
        assert s == expected
    # no listing without the prior notice, no removal of what is not listed
    with pytest.raises(ConflictError):
        model.step(model.BLACKLIST, "submit", "proposed")
    with pytest.raises(ConflictError):
        model.step(model.BLACKLIST, "approve", "notified")
    with pytest.raises(ConflictError):
        model.step(model.BLACKLIST, "remove", "rejected")
    with pytest.raises(InputError):
        model.step(model.BLACKLIST, "erase", "listed")


def test_arrears_stages():
    s = "opened"
    for action, expected in [("notice", "notice"), ("escalate", "escalated"),
                             ("enforce", "enforcement"), ("settle", "paid")]:
        s = model.step(model.ARREARS, action, s)
        assert s == expected
    with pytest.raises(ConflictError):
        model.step(model.ARREARS, "enforce", "notice")      # the deadline first


def test_fine_is_two_to_five_times():
    bounds = {"min": 2, "max": 5}
    assert model.fine(800000, Decimal("3"), bounds) == 2400000
    assert model.fine(100001, Decimal("2.5"), bounds) == 250003      # 250002.5 → half up
    for bad in ("1.99", "5.01"):
        with pytest.raises(InputError):
            model.fine(800000, Decimal(bad), bounds)


def test_grounds_need_facts_above_a_threshold():
    th = {"benefit_fraud": {"min_amount_yuan": 10000}, "records_misuse": {},
          "fraudulent_enrolment": {"min_person_times": 20, "min_profit_yuan": 20000}}
    model.check_ground("benefit_fraud", {"amount_yuan": "10000.01"}, th)
    model.check_ground("records_misuse", {}, th)
    model.check_ground("fraudulent_enrolment", {"person_times": 21}, th)
    with pytest.raises(InputError):
        model.check_ground("benefit_fraud", {"amount_yuan": 10000}, th)   # "above", not at
    with pytest.raises(InputError):
        model.check_ground("no_such_ground", {}, th)


def test_late_fee_and_instalments():
    assert model.late_fee(1_000_000, Decimal("0.0005"), 100) == 50000
    assert model.late_fee(1_000_000, Decimal("0.0005"), 0) == 0
    model.check_instalments([(D(2026, 7, 31), 600), (D(2026, 8, 31), 400)], 1000, D(2026, 7, 1))
    for plan in ([(D(2026, 7, 31), 600)], [(D(2026, 8, 31), 600), (D(2026, 7, 31), 400)],
                 [(D(2026, 6, 30), 1000)]):
        with pytest.raises(InputError):
            model.check_instalments(plan, 1000, D(2026, 7, 1))
    assert model.add_years(D(2024, 2, 29), 3) == D(2027, 2, 28)
