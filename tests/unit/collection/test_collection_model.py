import datetime as dt

import numpy as np
import pytest

from shebao.collection import model
from shebao.core.errors import InputError


def test_e2e_round_trip_and_refusals():
    e = model.e2e_id("310104", dt.date(2025, 7, 1), "E", 42)
    assert e == "SB310104202507E0000000042" and len(e) == model.E2E_LEN <= 35
    assert model.parse_e2e(e) == ("310104", dt.date(2025, 7, 1), "E", 42)
    assert model.parse_e2e("SB310104202513E0000000042") is None
    assert model.parse_e2e("XX") is None


def test_allocate_fills_lines_in_order_and_reports_excess():
    # bill 1 lines 100, 40, 20 paid 150 → 100, 40, 10; bill 2 lines 50, 50 paid 130 → excess 30
    alloc, excess = model.allocate([1, 1, 1, 2, 2], [150, 130], [100, 40, 20, 50, 50])
    assert alloc.tolist() == [100, 40, 10, 50, 50] and excess.tolist() == [0, 30]


def test_late_fee_is_exact_half_up():
    # 121694076 fen × 47 days × 0.0005 = 2859810.786 → 2859811
    assert model.late_fee(np.array([121694076]), np.array([47]), 5, 10000).tolist() == [2859811]
    # 1 fen × 1 day: 0.0005 → 0; 1000 fen × 1 day = 0.5 → 1 (half up)
    assert model.late_fee(np.array([1, 1000]), np.array([1, 1]), 5, 10000).tolist() == [0, 1]
    assert model.late_fee(np.array([1000]), np.array([-3]), 5, 10000).tolist() == [0]


def test_due_date_and_clamp_reason():
    assert model.due_date(dt.date(2025, 1, 1), 31) == dt.date(2025, 2, 28)
    assert model.due_date(dt.date(2025, 12, 1), 15) == dt.date(2026, 1, 15)
    r = model.clamp_reason(500000, 746000, 746000, 3730200, -1)
    assert "5000.00 is below the floor 7460.00" in r


def test_diff_keeps_only_differences_and_vanished_rows():
    keys = np.array([[1, 0, 9], [2, 1, 0]])
    info = np.array([[10, 10, 0, 0, 0], [20, 20, 0, 3, 0]])
    amt = np.zeros((2, len(model.AMOUNT_COLUMNS)), np.int64)
    amt[0, 0], amt[1, 0] = 100, 200
    old = np.zeros((2, 3 + len(model.AMOUNT_COLUMNS)), np.int64)
    old[0, :3], old[0, 3] = [1, 0, 9], 100          # unchanged
    old[1, :3], old[1, 3] = [3, 1, 0], 70           # person 3 no longer enrolled
    k, i, a = model.diff_with_previous(keys, info, amt, old)
    assert k.tolist() == [[2, 1, 0], [3, 1, 0]] and a[:, 0].tolist() == [200, -70]


def test_due_date_in_a_leap_february():
    assert model.due_date(dt.date(2028, 1, 1), 31) == dt.date(2028, 2, 29)
    assert model.due_date(dt.date(2028, 1, 1), 29) == dt.date(2028, 2, 29)
    assert model.due_date(dt.date(2025, 3, 1), 31) == dt.date(2025, 4, 30)


def test_allocate_receipts_by_hand():
    # bill 7: lines 100, 40, 20 (priority order); receipts 120 then 50 → the first fills 100
    # and 20 of 40; the second the other 20 and the 20 line, 10 in excess
    # bill 9: one line 30, receipt 30; receipt 3 has no bill; bill 8 has no lines
    applied, (ri, li, fen) = model.allocate_receipts(
        [7, 0, 9, 7, 8], [120, 5, 30, 50, 11], [7, 7, 7, 9], [100, 40, 20, 30])
    assert applied.tolist() == [120, 0, 30, 40, 0]
    assert sorted(zip(ri.tolist(), li.tolist(), fen.tolist())) == [
        (0, 0, 100), (0, 1, 20), (2, 3, 30), (3, 1, 20), (3, 2, 20)]


def test_allocate_receipts_matches_a_loop():
    rng = np.random.default_rng(3)
    for _ in range(30):
        nb = int(rng.integers(1, 6))
        line_bill = np.sort(rng.integers(1, nb + 1, int(rng.integers(0, 12))))
        cap = rng.integers(-5, 60, len(line_bill))
        bill_of = rng.integers(0, nb + 2, int(rng.integers(0, 10)))
        amount = rng.integers(1, 90, len(bill_of))
        applied, (ri, li, fen) = model.allocate_receipts(bill_of, amount, line_bill, cap)
        left = np.maximum(cap, 0).tolist()
        want_applied, want = [], []
        for r, (b, a) in enumerate(zip(bill_of.tolist(), amount.tolist())):
            got = 0
            for j in range(len(line_bill)):
                if b and line_bill[j] == b and a > got:
                    t = min(left[j], a - got)
                    if t:
                        want.append((r, j, t))
                        left[j] -= t
                        got += t
            want_applied.append(got)
        assert applied.tolist() == want_applied
        assert sorted(zip(ri.tolist(), li.tolist(), fen.tolist())) == sorted(want)
        assert model.match_rows(np.array([[1, 2]]), np.array([[0, 0], [1, 2]])).tolist() == [1]
