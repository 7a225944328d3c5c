"""Organisation on real databases: units below the county, outlets, staff assignments; staffing
from the cases each outlet decided × the catalogue's standard minutes; catalogue deadlines
driving the overdue list; an outsourced outlet's measured performance and exit."""
import datetime as dt
from fractions import Fraction

import pytest

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.workdays import working_days_between
from shebao.org import model, outsourcing, queries, service, staffing
from shebao.security import service as sec

ADMIN = Actor(id="admin-x", role="administrator", scope="310104")
CLERK = Actor(id="clerk-a", role="collection_clerk", scope="310104")
R = "310104"
TODAY = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()
ITEM = "registry.person_registration"       # 10 working days, 15 standard minutes


@pytest.fixture
def org(engine):
    for u, role in (("clerk-a", "collection_clerk"), ("clerk-b", "collection_clerk"),
                    ("head-a", "collection_clerk")):
        sec.create_user(engine, SYSTEM, username=u, password="Long-enough-pass-77", role=role,
                        scope=R)
    service.add_unit(engine, ADMIN, "310104001", "枫林路街道")
    service.add_unit(engine, ADMIN, "310104001002", "东安一村居委会", households=1200)
    service.add_unit(engine, ADMIN, "310104001002G1", "东安一村第1网格", households=300)
    service.add_outlet(engine, ADMIN, "XH-01", "徐汇区社保中心窗口", "counter", R)
    pid = outsourcing.add_provider(engine, ADMIN, "91310104MA1FL00001", "某银行徐汇支行", R)
    service.add_outlet(engine, ADMIN, "XH-BANK", "银行代办点", "bank_agent", R,
                       unit_code="310104001", provider_id=pid)
    start = TODAY - dt.timedelta(days=120)
    service.assign(engine, ADMIN, "clerk-a", "XH-01", "operational", valid_from=start)
    service.assign(engine, ADMIN, "head-a", "XH-01", "administrative", valid_from=start,
                   is_head=True)
    service.assign(engine, ADMIN, "clerk-b", "XH-01", "professional", valid_from=start,
                   fte_pct=50)
    return engine, pid


def open_decided(engine, outlet, opened_on, person_id, item=ITEM):
    cid = cases.open_case(engine, CLERK, item=item, region=R, subject_type="person",
                          subject_id=person_id, person_id=person_id, outlet=outlet,
                          opened_on=opened_on)
    cases.decide(engine, CLERK, cid, outcome="registered")
    return cid


def test_hierarchy_reaches_the_grid(org):
    engine, _ = org
    tree = queries.hierarchy(engine, R)
    assert [n["level"] for n in tree] == ["national", "province", "city", "county", "town",
                                          "village", "grid"]
    assert tree[-1]["parent"] == "310104001002"
    with pytest.raises(InputError, match="parent"):
        service.add_unit(engine, ADMIN, "310104009001", "无主村")
    with pytest.raises(PermissionDenied):
        service.add_unit(engine, Actor(id="a2", role="administrator", scope="440300"),
                         "310104002", "外区")


def test_assignments_move_staff_and_keep_scope(org):
    engine, _ = org
    assert queries.outlet_of(engine, "head-a", TODAY)["is_head"] is True
    service.assign(engine, ADMIN, "clerk-b", "XH-BANK", "operational", valid_from=TODAY)
    assert queries.outlet_of(engine, "clerk-b", TODAY)["outlet"] == "XH-BANK"
    assert queries.outlet_of(engine, "clerk-b", TODAY - dt.timedelta(days=1))["outlet"] == "XH-01"
    with pytest.raises(ConflictError):
        service.assign(engine, ADMIN, "clerk-b", "XH-01", "operational", valid_from=TODAY)
    with pytest.raises(InputError, match="staff_class"):
        service.assign(engine, ADMIN, "clerk-a", "XH-01", "boss", valid_from=TODAY)


def test_staffing_from_workload(org):
    engine, _ = org
    for p in (1, 2, 3):
        open_decided(engine, "XH-01", TODAY, p)
    open_decided(engine, "XH-BANK", TODAY, 4)
    start = TODAY - dt.timedelta(days=90)
    rep = staffing.staffing_report(engine, ADMIN, R, start, TODAY)
    days = working_days_between(start - dt.timedelta(days=1), TODAY,
                                catalogue.calendar(R, TODAY))
    assert rep["working_days"] == days and rep["minutes_per_day"] == 360
    by = {o["outlet"]: o for o in rep["outlets"]}
    # XH-01: 3 cases × 15 min = 45 min; capacity 360 × days per post
    assert by["XH-01"]["workload_minutes"] == 45
    assert by["XH-01"]["required"] == model.show(Fraction(45, 360 * days))
    # actual: clerk-a 100% + clerk-b 50% (the administrative head does not count) = 1.50
    assert by["XH-01"]["actual"] == "1.50"
    assert by["XH-BANK"]["workload_minutes"] == 15 and by["XH-BANK"]["actual"] == "0.00"
    with pytest.raises(PermissionDenied):
        staffing.staffing_report(engine, Actor(id="c", role="citizen", person_id=1), R, start,
                                 TODAY)


def test_catalogue_deadline_drives_the_overdue_list(org):
    engine, _ = org
    old = TODAY - dt.timedelta(days=40)    # 10 working days are long past
    late = cases.open_case(engine, CLERK, item=ITEM, region=R, subject_type="person",
                           subject_id=9, person_id=9, outlet="XH-01", opened_on=old)
    fresh = cases.open_case(engine, CLERK, item=ITEM, region=R, subject_type="person",
                            subject_id=8, person_id=8, outlet="XH-01", opened_on=TODAY)
    ids = [c.id for c in case_queries.overdue(engine, TODAY, region=R)]
    assert late in ids and fresh not in ids
    c = case_queries.get(engine, late)
    # due = 10 working days after opening on the region's calendar
    assert working_days_between(old, c.due_on, catalogue.calendar(R, TODAY)) == 10


def test_outsourced_outlet_performance_and_exit(org):
    engine, pid = org
    cid = outsourcing.add_contract(
        engine, ADMIN, pid, ITEM, R, valid_from=TODAY - dt.timedelta(days=100),
        valid_to=TODAY + dt.timedelta(days=265), price_fen=3500,
        access_criteria=["持有金融许可证", "网点覆盖全部街道"], target_on_time_pct=90,
        target_rating_x100=450)
    on_time = open_decided(engine, "XH-BANK", TODAY, 11)
    open_decided(engine, "XH-BANK", TODAY - dt.timedelta(days=60), 12)   # decided late
    cases.rate(engine, Actor(id="p11", role="citizen", person_id=11), on_time, 4)
    perf = outsourcing.performance(engine, ADMIN, cid, TODAY - dt.timedelta(days=90), TODAY)
    # 2 decided, 1 on time = 50.0%; mean rating 4.00; cost 2 × 35.00
    assert (perf["decided"], perf["on_time"], perf["on_time_pct"]) == (2, 1, "50.0")
    assert perf["mean_rating"] == "4.00" and perf["cost_fen"] == 7000
    assert perf["breaches"] == ["on-time 50.0% < target 90%", "mean rating 4.00 < target 4.50"]
    with pytest.raises(PermissionDenied):
        outsourcing.performance(engine, Actor(id="o", role="administrator", scope="440300"),
                                cid, TODAY - dt.timedelta(days=90), TODAY)
    outsourcing.end_contract(engine, ADMIN, cid, TODAY, "未达到服务质量目标")
    p = next(p for p in queries.providers(engine) if p["id"] == pid)
    assert p["status"] == "exited"
    assert queries.outlet(engine, "XH-BANK")["active"] is False
    with pytest.raises(ConflictError):
        outsourcing.end_contract(engine, ADMIN, cid, TODAY, "again")
    with pytest.raises(InputError):
        outsourcing.add_contract(engine, ADMIN, pid, "no.such.item", R, valid_from=TODAY,
                                 valid_to=TODAY, price_fen=1, access_criteria=["x"],
                                 target_on_time_pct=90, target_rating_x100=450)
