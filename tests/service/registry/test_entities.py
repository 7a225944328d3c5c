"""Effective-dated persons and employers, spells and enrolments, invariants."""
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, InvariantError
from shebao.registry import service as s
from shebao.registry.tables import enrolment, person_version
from shebao.security.tables import audit_log

CLERK = Actor(id="clerk-7", role="collection_clerk", scope="310000")


def _person(engine, cid="310104198001010017", name="张伟"):
    return s.register_person(engine, CLERK, citizen_id=cid, name=name, hukou_region="310104",
                             phone="13800138001", valid_from=dt.date(2020, 1, 1))


def _employer(engine, uscc="91350100M000100Y43", industry="65", region="310104"):
    return s.register_employer(engine, CLERK, uscc=uscc, name="某公司", region=region,
                               industry_code=industry, valid_from=dt.date(2020, 1, 1))


def test_change_closes_old_version_and_opens_new_with_who_when_why(engine):
    pid = _person(engine)
    v = s.change_person(engine, CLERK, pid, {"phone": "13911112222", "address": "新地址"},
                        reason="citizen moved", valid_from=dt.date(2024, 3, 1))
    assert v == 2
    hist = s.person_history(engine, CLERK, pid, purpose="test")
    assert [(h["version"], h["phone"], h["valid_from"], h["valid_to"]) for h in hist] == [
        (1, "13800138001", dt.date(2020, 1, 1), dt.date(2024, 3, 1)),
        (2, "13911112222", dt.date(2024, 3, 1), None)]
    assert hist[1]["recorded_by"] == "clerk-7" and hist[1]["reason"] == "citizen moved"
    with engine.connect() as c:
        actions = c.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions == ["registry.person.register", "registry.person.change",
                       "registry.person.history"]
    with pytest.raises(InvariantError, match="cannot precede"):
        s.change_person(engine, CLERK, pid, {"phone": "13700000000"}, reason="x",
                        valid_from=dt.date(2023, 1, 1))
    with pytest.raises(InputError, match="reason"):
        s.change_person(engine, CLERK, pid, {"phone": "13700000000"}, reason=" ")
    with pytest.raises(InputError, match="cannot be changed directly"):
        s.change_person(engine, CLERK, pid, {"birth_date": dt.date(1981, 1, 1)}, reason="x")


def test_registration_checks_id_and_refuses_a_second_record(engine):
    with pytest.raises(InputError, match="check character"):
        s.register_person(engine, CLERK, citizen_id="310104198001010010", name="x")
    with pytest.raises(InputError, match="disagrees with the citizen ID"):
        s.register_person(engine, CLERK, citizen_id="310104198001010017", name="x", sex="F")
    _person(engine)
    with pytest.raises(ConflictError):
        _person(engine)


def test_employer_risk_class_and_tier_follow_the_rules(engine):
    eid = _employer(engine, industry="06")
    with engine.connect() as c:
        from shebao.registry.tables import employer
        row = c.execute(select(employer).where(employer.c.id == eid)).mappings().one()
    assert (row["risk_class"], row["float_tier_pct"]) == (8, 100)
    s.change_employer(engine, CLERK, eid, {"industry_code": "65", "float_tier_pct": 120},
                      reason="changed business", valid_from=dt.date(2025, 1, 1))
    with pytest.raises(InputError, match="not allowed for risk class 1"):
        s.change_employer(engine, CLERK, eid, {"float_tier_pct": 50}, reason="x")
    with engine.connect() as c:
        row = c.execute(select(employer).where(employer.c.id == eid)).mappings().one()
    assert (row["risk_class"], row["float_tier_pct"], row["version"]) == (1, 120, 2)


def test_one_open_enrolment_per_scheme_and_no_overlap(engine):
    pid = _person(engine)
    eid = _employer(engine)
    sid = s.start_employment(engine, CLERK, pid, eid, dt.date(2021, 1, 1), wage_fen=800000,
                             wage_year=2020)
    with pytest.raises(InvariantError, match="overlaps"):
        s.enrol(engine, CLERK, pid, "pension", "310104", "flexible", dt.date(2022, 1, 1))
    with pytest.raises(InvariantError, match="overlaps"):
        s.enrol(engine, CLERK, pid, "medical", "310104", "flexible", dt.date(2019, 1, 1),
                end_date=dt.date(2021, 1, 1))
    s.enrol(engine, CLERK, pid, "medical", "310104", "flexible", dt.date(2019, 1, 1),
            end_date=dt.date(2020, 12, 31))
    s.end_employment(engine, CLERK, sid, dt.date(2023, 6, 30), leave_reason="dismissal")
    with engine.connect() as c:
        rows = c.execute(select(enrolment.c.scheme, enrolment.c.status, enrolment.c.end_date)
                         .where(enrolment.c.employment_id == sid)).all()
    assert {r.status for r in rows} == {"ended"} and len(rows) == 5
    s.enrol(engine, CLERK, pid, "pension", "310104", "flexible", dt.date(2023, 7, 1))
    # the database itself refuses a second open enrolment in one scheme
    with pytest.raises(IntegrityError):
        with engine.begin() as c:
            c.execute(enrolment.insert().values(
                person_id=pid, origin_person_id=pid, scheme="pension", region="310104",
                kind="flexible", start_date=dt.date(2024, 1, 1), status="active",
                source="test", created_at=s.now(), created_by="t"))


def test_death_ends_activity_and_nothing_starts_after_it(engine):
    pid = _person(engine)
    eid = _employer(engine)
    s.start_employment(engine, CLERK, pid, eid, dt.date(2021, 1, 1))
    out = s.record_death(engine, SYSTEM, pid, dt.date(2024, 5, 1), source="hospital")
    assert out["enrolments_ended"] == 5 and out["spells_ended"] == 1
    with engine.connect() as c:
        open_n = c.execute(select(func.count()).select_from(enrolment).where(
            enrolment.c.end_date.is_(None))).scalar()
        ends = set(c.execute(select(enrolment.c.end_date)).scalars())
        status = c.execute(select(person_version.c.status).where(
            person_version.c.person_id == pid, person_version.c.valid_to.is_(None))).scalar()
    assert open_n == 0 and ends == {dt.date(2024, 5, 1)} and status == "deceased"
    with pytest.raises(InvariantError, match="after the person's death"):
        s.enrol(engine, CLERK, pid, "resident_medical", "310104", "resident",
                dt.date(2024, 6, 1))
    with pytest.raises(InvariantError, match="after the person's death"):
        s.start_employment(engine, CLERK, pid, eid, dt.date(2024, 6, 1))
    assert s.record_death(engine, SYSTEM, pid, dt.date(2024, 5, 1), source="x") == {
        "changed": False}


def test_active_enrolments_query_for_assessment(engine):
    pid = _person(engine)
    eid = _employer(engine)
    s.start_employment(engine, CLERK, pid, eid, dt.date(2021, 1, 1))
    with engine.connect() as c:
        rows = c.execute(s.active_enrolments(c, "310104", "pension", dt.date(2025, 1, 1))).all()
        none = c.execute(s.active_enrolments(c, "310104", "pension", dt.date(2020, 1, 1))).all()
    assert len(rows) == 1 and rows[0].employer_id == eid and none == []


def test_emigration_and_return_are_versions(engine):
    pid = _person(engine)
    s.enrol(engine, CLERK, pid, "resident_medical", "310104", "resident", dt.date(2020, 1, 1))
    out = s.record_emigration(engine, CLERK, pid, dt.date(2024, 2, 1), source="exit record")
    assert out["enrolments_ended"] == 1
    with pytest.raises(InvariantError, match="emigrated, not active"):
        s.record_emigration(engine, CLERK, pid, dt.date(2024, 3, 1), source="x")
    s.record_return(engine, CLERK, pid, dt.date(2025, 1, 1), source="entry record")
    hist = s.person_history(engine, CLERK, pid, purpose="test")
    assert [h["status"] for h in hist] == ["active", "emigrated", "active"]
