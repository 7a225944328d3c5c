"""Collection and benefits through the channels: dashboard, declarations (form, file dry run,
API with Idempotency-Key), bills; pension cases under maker-checker; payroll approval."""
import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shebao.benefits import payroll
from shebao.benefits.tables import payroll_run, pension_award
from tests.support.web import api_headers
from shebao.collection.tables import base_declaration


def _api(app, engine, world, username):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[(username, "")]))
    return c


def _decl_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(base_declaration)).scalar_one()


def test_collection_dashboard_totals_chart_and_scope(login):
    c = login("inspector-310101")
    r = c.get("/staff/collection", params={"region": "310101", "month": "2025-08"})
    assert r.status_code == 200
    tiles = re.findall(r'class="v"[^>]*>([^<]*)<', r.text)
    assert tiles[0] == tiles[1] and tiles[0].startswith("¥") and tiles[0] != "¥0.00"
    assert tiles[3] == "✓" and "data:image/svg+xml;base64," in r.text
    out = c.get("/staff/collection", params={"region": "310104", "month": "2025-08"})
    assert out.status_code == 403 and "outside your scope" in out.text
    bad = c.get("/staff/collection", params={"region": "310101", "month": "2025-13"})
    assert bad.status_code == 422 and 'data-field="month"' in bad.text


def test_employer_declares_a_wage_and_sees_the_clamped_base(login, world, engine):
    c = login("employer-310101")
    before = _decl_count(engine)
    r = c.post("/employer/declare", data={"person_id": str(world.persons["310101"]),
                                          "year": "2025", "wage": "50000"})
    assert r.status_code == 200 and "¥37,302.00" in r.text          # cut to the ceiling
    bad = c.post("/employer/declare", data={"person_id": str(world.persons["310101"]),
                                            "year": "2025", "wage": "12,000"})
    assert bad.status_code == 422 and 'data-field="wage"' in bad.text
    wide = c.post("/employer/declare", data={"person_id": str(world.persons["310101"]),
                                             "year": "2025", "wage": "１０００"})   # full-width
    assert wide.status_code == 422 and 'data-field="wage"' in wide.text
    assert _decl_count(engine) == before + 1                        # nothing half-saved


def test_employer_cannot_declare_for_another_firms_employee(login, world, engine):
    before = _decl_count(engine)
    r = login("employer-310101").post("/employer/declare", data={
        "person_id": str(world.persons["310104"]), "year": "2025", "wage": "9000"})
    assert r.status_code == 403 and _decl_count(engine) == before


def test_declaration_file_dry_run_reports_every_row_and_writes_nothing(login, world, engine):
    from shebao.registry.tables import employer
    with engine.connect() as conn:
        uscc = conn.execute(select(employer.c.uscc).where(
            employer.c.id == world.employers["310101"])).scalar_one()
    before = _decl_count(engine)
    csv = (f"citizen_id,uscc,wage\n{world.citizen_ids['310101']},{uscc},9000\n"
           f"123,{uscc},abc\n").encode()
    c = login("employer-310101")
    r = c.post("/employer/declare/upload", data={"year": "2025", "dry_run": "on"},
               files={"file": ("d.csv", csv, "text/csv")})
    assert r.status_code == 200
    assert re.search(r'data-testid="accepted">1<', r.text)
    assert re.search(r'data-testid="rejected">1<', r.text)
    assert _decl_count(engine) == before
    other = csv.replace(uscc.encode(), b"91310000MA1FL0001X")
    r = c.post("/employer/declare/upload", data={"year": "2025", "dry_run": "on"},
               files={"file": ("d.csv", other, "text/csv")})
    assert r.status_code == 422 and "another employer" in r.text


def test_declaration_api_is_idempotent(app, engine, world):
    c = _api(app, engine, world, "employer-310101")
    eid = world.employers["310101"]
    body = {"citizen_id": world.citizen_ids["310101"], "year": 2025, "wage": "15000.00"}
    r = c.post(f"/api/v1/employers/{eid}/declarations", json=body)
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    before = _decl_count(engine)
    first = c.post(f"/api/v1/employers/{eid}/declarations", json=body,
                   headers={"Idempotency-Key": "decl-2025-001"})
    again = c.post(f"/api/v1/employers/{eid}/declarations", json=body,
                   headers={"Idempotency-Key": "decl-2025-001"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert _decl_count(engine) == before + 1
    other = c.post(f"/api/v1/employers/{eid}/declarations", json={**body, "wage": "1.00"},
                   headers={"Idempotency-Key": "decl-2025-001"})
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    wide = c.post(f"/api/v1/employers/{eid}/declarations", json={**body, "wage": "１０００"},
                  headers={"Idempotency-Key": "decl-2025-002"})    # full-width digits
    assert wide.status_code == 422 and "wage" in str(wide.json())
    assert _decl_count(engine) == before + 1


def test_bills_for_the_employer_only(login, app, engine, world):
    c = login("employer-310101")
    page = c.get("/employer/bills")
    assert page.status_code == 200 and "2025-08" in page.text
    bill_id = int(re.search(r'href="/employer/bills/(\d+)"', page.text).group(1))
    detail = c.get(f"/employer/bills/{bill_id}")
    assert detail.status_code == 200 and "张*" in detail.text and "张伟" not in detail.text
    api = _api(app, engine, world, "employer-310104")
    assert api.get(f"/api/v1/bills/{bill_id}").status_code == 403
    mine = _api(app, engine, world, "employer-310101").get(
        f"/api/v1/employers/{world.employers['310101']}/bills").json()
    assert [b["id"] for b in mine["items"]] == [bill_id]


def test_pension_case_needs_a_second_clerk(login, world, engine):
    case = world.cases["310104"]
    maker = login("benefits_clerk-310104")
    page = maker.get(f"/staff/pension/{case}")
    assert 'data-testid="own-submission"' in page.text and "复核通过" not in page.text
    assert maker.post(f"/staff/pension/{case}/approve").status_code == 403
    other_district = login("benefits_clerk-310101")
    assert other_district.get(f"/staff/pension/{case}").status_code == 403
    checker = login("benefits_clerk-2-310104")
    empty = checker.post(f"/staff/pension/{case}/reject", data={"reason": ""})
    assert empty.status_code == 422 and 'data-field="reason"' in empty.text
    ok = checker.post(f"/staff/pension/{case}/approve")
    assert ok.status_code == 303
    assert "已通过" in checker.get(ok.headers["location"]).text
    with engine.connect() as conn:
        assert conn.execute(select(pension_award)).first().monthly_fen > 0


def test_pension_api_approval_is_idempotent_and_four_eyes(app, engine, world):
    case = world.cases["310104"]
    maker = _api(app, engine, world, "benefits_clerk-310104")
    r = maker.post(f"/api/v1/pension/cases/{case}/approve", headers={"Idempotency-Key": "a1"})
    assert r.status_code == 403
    checker = _api(app, engine, world, "benefits_clerk-2-310104")
    r1 = checker.post(f"/api/v1/pension/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    r2 = checker.post(f"/api/v1/pension/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    assert r1.status_code == r2.status_code == 200 and r1.json()["status"] == "approved"
    assert r1.json()["approval"] == {"maker": "benefits_clerk-310104",
                                     "checker": "benefits_clerk-2-310104",
                                     "status": "approved", "reason": None}
    with engine.connect() as conn:
        assert len(conn.execute(select(pension_award)).all()) == 1
    listing = checker.get("/api/v1/pension/cases", params={"status": "approved"}).json()
    assert [c["id"] for c in listing["items"]] == [case]
    assert "*" in listing["items"][0]["citizen_id"]


def test_payroll_run_approved_by_another_clerk(login, app, engine, world):
    from shebao.benefits import determination as det
    case = world.cases["310104"]
    det.approve_case(engine, world.users[("benefits_clerk-2-310104", "")].actor(), case)
    maker = world.users[("benefits_clerk-310104", "")].actor()
    run = payroll.run(engine, maker, "310104", dt.date(2026, 1, 1))
    c = login("benefits_clerk-310104")
    assert c.post(f"/staff/payroll/{run.run_id}/submit").status_code == 303
    assert c.post(f"/staff/payroll/{run.run_id}/approve").status_code == 403
    api = _api(app, engine, world, "benefits_clerk-2-310104")
    r = api.post(f"/api/v1/payroll/runs/{run.run_id}/approve",
                 headers={"Idempotency-Key": "run-1"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["maker"] == "benefits_clerk-310104"
    with engine.connect() as conn:
        assert conn.execute(select(payroll_run.c.status)).scalar_one() == "approved"


def test_pensioner_sees_who_read_their_case(app, engine, world):
    from shebao.core.actor import SYSTEM
    from shebao.security import service as sec
    case = world.cases["310104"]
    _api(app, engine, world, "inspector-310104").get(
        f"/api/v1/pension/cases/{case}", headers={"X-Purpose": "audit of awards 2025"})
    me = sec.create_user(engine, SYSTEM, username="pensioner", password="Long-pass-123",
                         role="citizen", person_id=world.persons["pensioner"])
    c = TestClient(app)
    c.headers.update(api_headers(engine, me))
    items = c.get("/api/v1/me/reads").json()["items"]
    assert any(i["actor"] == "inspector-310104" and i["purpose"] == "audit of awards 2025"
               and i["subject_type"] == "pension_case" for i in items)


def test_city_inspector_gets_a_choice_of_districts_not_a_422(app, engine):
    from tests.support.accounts import make_account
    from tests.support.web import web_client

    pw = make_account(engine, "inspector-city-choice", "inspector", "310100")
    r = web_client(app, "inspector-city-choice", pw).get("/staff/collection")
    assert r.status_code == 200, r.text
    links = set(re.findall(r'href="/staff/collection\?region=(\d{6})"', r.text))
    assert {"310101", "310104"} <= links and all(c.startswith("3101") for c in links)
