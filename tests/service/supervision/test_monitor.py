"""The monitoring rules on both databases: each finds its seeded case and not its near miss;
alerts are deduplicated across runs; scope and dismissal hold."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.supervision import alerts, monitor
from tests.support.supervision_seed import AS_OF, seed_monitoring

INSPECTOR = Actor("insp", "inspector", "310000")


def _by_rule(found):
    out = {}
    for a in found:
        out.setdefault(a["rule"], []).append(a)
    return out


def test_each_rule_finds_its_case_and_not_its_near_miss(engine):
    hits = seed_monitoring(engine)
    res = monitor.run(engine, INSPECTOR, "310000", AS_OF)
    assert res["new"] == res["found"] == len(hits) == 8, res
    got = _by_rule(alerts.list_alerts(engine, INSPECTOR, limit=100))
    assert sorted(got) == sorted(hits)
    for rule, subject in hits.items():
        assert len(got[rule]) == 1, (rule, got[rule])
        a = got[rule][0]
        if rule == "shared_bank_account":
            assert a["subject_key"] == hashlib.sha256(subject.encode()).hexdigest()[:32]
            assert a["evidence"]["pensioners"] == 3
            assert "9999" in a["evidence"]["account"] and subject not in a["evidence"]["account"]
        else:
            assert a["subject_id"] == subject, rule
    death = got["pension_after_death"][0]
    # paid for March and April after a death on 10 February: 2 × 3,800.00
    assert death["evidence"]["months_paid_after_death"] == 2
    assert death["evidence"]["amount"] == "7600.00"
    # score = weight 80 + bonus 20 × min(1, 7,600 / 10,000) = 80 + 15 (integer part)
    assert death["score"] == 95
    assert got["wage_base_low"][0]["evidence"]["declared_below_minimum"] == 3
    assert got["enrolment_before_retirement"][0]["evidence"]["persons"] == 5
    assert got["arrears_long"][0]["evidence"]["max_days"] == 200
    assert got["unemployment_while_working"][0]["evidence"]["employed_from"] == "2026-04-01"
    assert got["medical_readmission"][0]["evidence"]["readmissions"] == 1


def test_a_second_run_deduplicates_and_a_dismissal_sticks(engine):
    seed_monitoring(engine)
    first = monitor.run(engine, INSPECTOR, "310000", AS_OF)
    one = alerts.list_alerts(engine, INSPECTOR, rule="arrears_long")[0]
    alerts.dismiss(engine, INSPECTOR, one["id"], "paid since; the list is stale")
    second = monitor.run(engine, INSPECTOR, "310000", AS_OF)
    assert (second["new"], second["repeated"]) == (0, first["found"])
    assert len(alerts.list_alerts(engine, INSPECTOR, status=None, limit=100)) == first["found"]
    again = alerts.get_alert(engine, INSPECTOR, one["id"])
    assert again["status"] == "dismissed" and again["times_seen"] == 2
    assert again["last_run_id"] == second["run_id"]


def test_scope_and_rights(engine):
    seed_monitoring(engine)
    other = Actor("insp2", "inspector", "310101")
    res = monitor.run(engine, other, "310101", AS_OF)
    assert res["found"] == 0
    with pytest.raises(PermissionDenied):
        monitor.run(engine, other, "310104", AS_OF)
    with pytest.raises(PermissionDenied):
        monitor.run(engine, Actor("clerk", "collection_clerk", "310000"), "310000", AS_OF)
    monitor.run(engine, INSPECTOR, "310000", AS_OF)
    assert alerts.list_alerts(engine, other) == []
    with pytest.raises(InputError):
        monitor.run(engine, INSPECTOR, "310000", AS_OF, only=["no_such_rule"])


def test_wage_far_below_the_peers(engine):
    from tests.support.supervision_seed import Seeder
    with engine.begin() as conn:
        s = Seeder(conn)
        low, *peers = [s.employer(industry="70") for _ in range(4)]
        for e, wage in [(low, 300_000)] + [(p, 1_000_000) for p in peers]:
            for _ in range(3):
                s.declare(s.person(birth=dt.date(1990, 1, 1)), e, wage)
    monitor.run(engine, INSPECTOR, "310000", AS_OF, only=["wage_base_low"])
    found = alerts.list_alerts(engine, INSPECTOR, rule="wage_base_low")
    # 3,000.00 is above the minimum wage (2,740) but below 40% of the peers' 10,000.00
    assert [a["subject_id"] for a in found] == [low]
    assert found[0]["evidence"]["why"] == ["median far below peers"]
    assert found[0]["evidence"]["peer_median_wage"] == "10000.00"
