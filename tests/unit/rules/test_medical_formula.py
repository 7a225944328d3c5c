"""The vectorised medical settlement against a claim-at-a-time loop."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.rules import load_rules
from shebao.rules.formulas import medical as M


def _loop_limit(person, amount, avail):
    out, left, prev = [], None, None
    for p, a, v in zip(person, amount, avail):
        if p != prev:
            left, prev = max(int(v), 0), p
        used = min(int(a), left)
        left -= used
        out.append(used)
    return np.array(out, np.int64)


def test_running_limit_matches_a_loop():
    rng = np.random.default_rng(7)
    person = np.sort(rng.integers(1, 50, 2000))
    amount = rng.integers(0, 10_000, 2000)
    avail = np.repeat(rng.integers(-100, 60_000, 50), 1)[person]
    assert np.array_equal(M.running_limit(person, amount, avail),
                          _loop_limit(person, amount, avail))


def test_batch_settlement_consumes_the_cap_in_claim_order():
    pol = M.policy(load_rules(), "110000", dt.date(2025, 5, 1))
    n = 4
    scope = np.array([50_000_00, 50_000_00, 50_000_00, 10_000_00], np.int64)
    person = np.array([1, 1, 1, 2])
    first = M.first_in_group(person)
    r = M.settle(person=person, total=scope, self_paid=np.zeros(n, np.int64), scope=scope,
                 inpatient=np.ones(n, bool), group=M.group_index([0] * n, [0] * n),
                 first_stay=first, deductibles=pol.deductibles[[0] * n],
                 reduction_num=np.zeros(n, np.int64), bands=pol.bands,
                 cap_left=np.full(n, pol.cap[0]), serious_num=pol.serious_num,
                 serious_left=np.full(n, pol.serious_cap), balance_left=np.zeros(n, np.int64),
                 use_account=np.zeros(n, bool))
    # first stay 42,895 ; second (deductible 650) 43,447.50 ; third: the 13,657.50 left
    assert r.basic[0] == 42_895_00
    assert r.basic[:3].sum() == pol.cap[0]                 # the person reaches the cap
    assert r.basic[2] < r.basic[1] and r.serious[2] > 0     # the third stay is cut
    assert r.basic[3] == (10_000_00 - 1_300_00) * 85 // 100  # another person, untouched
    assert np.array_equal(r.total, r.basic + r.serious + r.account + r.cash)
