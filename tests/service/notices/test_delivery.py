"""Delivery of the outbox on both databases: routing by preference and language, the portal
fallback, retries with backoff until dead, quiet hours, leases and concurrent claims."""
import dataclasses
import datetime as dt

from sqlalchemy import select

from shebao.notices import delivery
from shebao.notices.adapters import CaptureAdapter
from shebao.notices.policy import Policy
from shebao.notices.tables import notice, notice_attempt
from shebao.rules import load_rules

from .conftest import UTC, put_notices, put_prefs

POLICY = Policy.from_rules(load_rules(), dt.date(2026, 12, 1))


def _rows(engine):
    with engine.connect() as c:
        return {int(r.recipient_id): r for r in c.execute(select(notice)).all()}


def test_routes_by_preference_in_the_recipients_language_and_falls_back_to_the_portal(
        engine, capture):
    put_prefs(engine, [1], channels="sms", lang="zh_CN")
    put_prefs(engine, [2], channels="wechat,email", lang="en")   # no wechat id: email
    put_notices(engine, [1, 2, 3])                                # 3 has no preference
    rep = delivery.drain(engine, {"sms": capture, "email": capture}, POLICY)
    assert (rep.sent, rep.failed, rep.by_channel) == (3, 0, {"sms": 1, "email": 1, "portal": 1})
    got = {m["address"]: m for m in capture.accepted()}
    assert got["13800000000"]["subject"] == "社会保险费欠缴提醒"
    assert got["13800000000"]["key"].startswith("notice:")
    assert got["p2@example.cn"]["subject"] == "Contributions overdue"
    assert len(got) == 2                       # the portal-only notice reached no gateway
    rows = _rows(engine)
    assert [rows[i].status for i in (1, 2, 3)] == ["sent"] * 3
    assert [rows[i].channel for i in (1, 2, 3)] == ["sms", "email", "portal"]
    assert all(rows[i].attempts == 1 and rows[i].delivered_at for i in (1, 2, 3))
    # nothing is sent twice: a second drain finds nothing due
    assert delivery.drain(engine, {"sms": capture}, POLICY).claimed == 0
    assert capture.counts()["calls"] == 2


def test_failures_retry_with_exponential_backoff_then_die(engine, tmp_path):
    bad = CaptureAdapter(str(tmp_path / "c.sqlite"), fail_addresses=frozenset({"139"}))
    put_prefs(engine, [7], phone="139")
    put_notices(engine, [7])
    t = dt.datetime(2030, 1, 5, 2, 0, tzinfo=UTC)
    waits = []
    for attempt in range(1, POLICY.max_attempts + 1):
        rep = delivery.drain(engine, {"sms": bad}, POLICY, at=t)
        row = _rows(engine)[7]
        assert row.attempts == attempt
        if attempt < POLICY.max_attempts:
            assert (rep.failed, row.status) == (1, "pending")
            waits.append((row.next_attempt_at.replace(tzinfo=UTC) - t).total_seconds())
            # not due a second before the backoff ends
            assert delivery.drain(engine, {"sms": bad}, POLICY,
                                  at=t + dt.timedelta(seconds=waits[-1] - 1)).claimed == 0
            t = t + dt.timedelta(seconds=waits[-1])
        else:
            assert (rep.dead, row.status) == (1, "failed")
    assert waits == [30, 60, 120, 240, 480, 960, 1920]           # 30 × 2^(n−1)
    assert row.last_error == "capture: address refused"
    with engine.connect() as c:
        outcomes = [r.outcome for r in c.execute(select(notice_attempt)
                                                 .order_by(notice_attempt.c.id))]
    assert outcomes == ["failed"] * 7 + ["dead"]
    assert bad.counts()["accepted"] == 0
    bad.close()


def test_quiet_hours_defer_without_spending_an_attempt(engine, capture):
    put_prefs(engine, [5], quiet=("22:00", "08:00"))
    put_notices(engine, [5])
    night = dt.datetime(2030, 1, 4, 15, 0, tzinfo=UTC)          # 23:00 in Shanghai
    rep = delivery.drain(engine, {"sms": capture}, POLICY, at=night)
    row = _rows(engine)[5]
    assert (rep.deferred, row.status, row.attempts) == (1, "pending", 0)
    assert row.next_attempt_at.replace(tzinfo=UTC) == dt.datetime(2030, 1, 5, 0, 0, tzinfo=UTC)
    assert capture.counts()["calls"] == 0
    morning = dt.datetime(2030, 1, 5, 0, 1, tzinfo=UTC)          # 08:01 in Shanghai
    assert delivery.drain(engine, {"sms": capture}, POLICY, at=morning).sent == 1
    assert _rows(engine)[5].attempts == 1 and capture.counts()["accepted"] == 1


def test_a_claim_is_a_lease_other_workers_skip_until_it_runs_out(engine, capture):
    put_notices(engine, list(range(1, 11)))
    small = dataclasses.replace(POLICY, batch_size=4)
    t = dt.datetime(2030, 1, 5, 2, 0, tzinfo=UTC)
    a = delivery.claim(engine, small, at=t)
    b = delivery.claim(engine, small, at=t)
    assert len(a) == len(b) == 4 and not set(a) & set(b)
    # worker A dies without sending: after the lease its notices are due again
    later = t + small.lease() + dt.timedelta(seconds=1)
    rep = delivery.drain(engine, {}, small, at=later)
    assert rep.sent == 10 and _rows(engine)[1].attempts == 2     # A's claim counted


def test_concurrent_claims_take_disjoint_rows_without_waiting(engine):
    """Two open claiming transactions: the second skips the rows the first has locked
    (PostgreSQL SKIP LOCKED); on SQLite the single writer serialises them."""
    put_notices(engine, list(range(1, 9)))
    small = dataclasses.replace(POLICY, batch_size=3)
    t = dt.datetime(2030, 1, 5, 2, 0, tzinfo=UTC)
    if engine.dialect.name != "postgresql":
        assert len(set(delivery.claim(engine, small, at=t)) |
                   set(delivery.claim(engine, small, at=t))) == 6
        return
    with engine.connect() as c1:
        c1.begin()
        first = delivery.claim(c1, small, at=t)               # locked, not yet committed
        second = delivery.claim(engine, small, at=t)          # would block without SKIP LOCKED
        c1.commit()
    assert len(first) == len(second) == 3 and not set(first) & set(second)
