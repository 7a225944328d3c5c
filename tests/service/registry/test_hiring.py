"""Enrolment by an employer (registry.hiring): a stranger needs the registered name and stays
pending until the person confirms or a clerk of the region approves; the employer then sees
the person masked, only while the spell lasts; refusals name nothing it cannot see."""
import datetime as dt

import pytest
from sqlalchemy import select

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import InputError, InvariantError, PermissionDenied
from shebao.core.ids import ric_check_char
from shebao.registry import access, hiring
from shebao.registry import service as reg
from shebao.registry.tables import employment, enrolment, employment_request

TODAY = dt.date.today()


def _cid(first17):
    return first17 + ric_check_char(first17)


@pytest.fixture
def firms(engine):
    a = reg.register_employer(engine, SYSTEM, uscc="91350100M000100Y43", name="甲公司",
                              region="310104", industry_code="65")
    b = reg.register_employer(engine, SYSTEM, uscc="91110108551385082Q", name="乙公司",
                              region="310104", industry_code="47")
    p = reg.register_person(engine, SYSTEM, citizen_id=_cid("31010419800101001"), name="张伟",
                            pension_region="310104", phone="13800138001", address="漕溪北路1号")
    return a, b, p


def employer_of(eid):
    return Actor(id=f"employer-{eid}", role="employer", employer_id=eid)


def citizen(pid):
    return Actor(id=f"citizen-{pid}", role="citizen", person_id=pid)


def test_a_stranger_needs_the_registered_name_and_stays_pending(engine, firms):
    a, _, p = firms
    boss = employer_of(a)
    cid = _cid("31010419800101001")
    with pytest.raises(InputError) as e:
        hiring.request_hire(engine, boss, a, cid, TODAY)
    assert e.value.field == "name"
    with pytest.raises(InputError) as wrong:
        hiring.request_hire(engine, boss, a, cid, TODAY, name="李四")
    with pytest.raises(InputError) as unknown:
        hiring.request_hire(engine, boss, a, _cid("31010419900101002"), TODAY, name="李四")
    assert str(wrong.value) == str(unknown.value)     # no oracle for "is this ID registered"
    out = hiring.request_hire(engine, boss, a, cid, TODAY, name="张伟")
    assert out["status"] == "pending"
    with engine.connect() as c:
        assert c.execute(select(employment)).first() is None
        with pytest.raises(PermissionDenied):               # pending gives no access
            access.check_person(c, boss, p)
    assert [r["request_id"] for r in hiring.pending_requests(engine, citizen(p))] == \
        [out["request_id"]]


def test_the_person_confirms_then_the_employer_sees_the_masked_record_only(engine, firms):
    a, _, p = firms
    boss = employer_of(a)
    rid = hiring.request_hire(engine, boss, a, _cid("31010419800101001"),
                              TODAY - dt.timedelta(days=30), name="张伟")["request_id"]
    with pytest.raises(PermissionDenied):                  # not the employer's to decide
        hiring.confirm_hire(engine, boss, rid)
    with pytest.raises(PermissionDenied):                  # nor another citizen's
        hiring.confirm_hire(engine, citizen(p + 1), rid)
    sid = hiring.confirm_hire(engine, citizen(p), rid)
    with engine.connect() as c:
        assert c.execute(select(employment_request.c.status, employment_request.c.decided_as)
                         .where(employment_request.c.id == rid)).one() == ("effective",
                                                                           "person")
        assert c.execute(select(enrolment).where(enrolment.c.employment_id == sid)
                         ).all().__len__() == 5
    seen = access.access_person(engine, boss, p, "payroll")
    assert seen["name"] != "张伟" and seen["name"].startswith("张")
    assert seen["citizen_id"] != _cid("31010419800101001")
    assert seen["address"] is None and seen["birth_date"] is None
    assert seen["phone"] != "13800138001"
    # the spell ends yesterday: access ends with it
    reg.end_employment(engine, SYSTEM, sid, TODAY - dt.timedelta(days=1),
                       leave_reason="resignation")
    with pytest.raises(PermissionDenied):
        access.access_person(engine, boss, p, "payroll")


def test_a_clerk_of_the_employers_region_approves(engine, firms):
    a, _, p = firms
    rid = hiring.request_hire(engine, employer_of(a), a, _cid("31010419800101001"), TODAY,
                              name="张伟")["request_id"]
    outsider = Actor(id="c-310101", role="collection_clerk", scope="310101")
    with pytest.raises(PermissionDenied):
        hiring.confirm_hire(engine, outsider, rid)
    assert hiring.pending_requests(engine, outsider) == []
    clerk = Actor(id="c-310104", role="collection_clerk", scope="310104")
    assert len(hiring.pending_requests(engine, clerk)) == 1
    hiring.confirm_hire(engine, clerk, rid)
    with pytest.raises(InvariantError):                     # decided once
        hiring.refuse_hire(engine, citizen(p), rid, reason="no")


def test_a_former_employee_is_enrolled_again_at_once_and_refusals_name_nothing(engine, firms):
    a, b, p = firms
    old = reg.start_employment(engine, SYSTEM, p, a, dt.date(2015, 1, 1))
    reg.end_employment(engine, SYSTEM, old, dt.date(2016, 12, 31), leave_reason="resignation")
    other = reg.start_employment(engine, SYSTEM, p, b, dt.date(2020, 3, 1))  # open at b
    with engine.connect() as c:
        enr_ids = c.execute(select(enrolment.c.id).where(enrolment.c.employment_id == other)
                            ).scalars().all()
    with pytest.raises(InvariantError) as e:
        hiring.request_hire(engine, employer_of(a), a, _cid("31010419800101001"),
                            dt.date(2021, 1, 1))
    msg = str(e.value)
    assert "2020" not in msg and str(p) not in msg.split() and not any(
        f"#{i}" in msg for i in enr_ids)
    reg.end_employment(engine, SYSTEM, other, dt.date(2020, 12, 31), leave_reason="resignation")
    out = hiring.request_hire(engine, employer_of(a), a, _cid("31010419800101001"),
                              dt.date(2021, 1, 1))
    assert out["status"] == "effective"


def test_implausible_start_dates_are_refused_naming_the_field(engine, firms):
    a, _, p = firms
    for start in (dt.date(1900, 1, 1), dt.date(2099, 1, 1), dt.date(1990, 1, 1)):
        with pytest.raises(InputError) as e:
            reg.start_employment(engine, SYSTEM, p, a, start)
        assert e.value.field == "start_date", start
