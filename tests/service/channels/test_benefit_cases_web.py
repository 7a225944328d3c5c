"""Benefit cases through the channels (#13): the API (a citizen applies for themself only;
maker ≠ checker; approval idempotent; the notice as PDF; appeals), staff pages per case type
in scope, the overdue list, the citizen's page."""
import datetime as dt

from fastapi.testclient import TestClient

from shebao.benefits.determination import record_history
from shebao.core.actor import Actor
from tests.support.web import api_headers

CLERK = Actor(id="benefits_clerk-310104", role="benefits_clerk", scope="310104")


def _api(app, engine, world, username):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[(username, "")]))
    return c


def test_benefit_case_api_from_application_to_award_and_notice(app, engine, world):
    pid = world.persons["310104"]
    record_history(engine, CLERK, pid, [
        {"region": "310104", "period_start": dt.date(2012 + y, 1, 1), "months": 12,
         "base_total_fen": 12 * 900000, "kind": "paid"} for y in range(5)], source="legacy")
    citizen = _api(app, engine, world, "citizen-310104")
    facts = {"registered_on": "2025-08-10", "involuntary": True, "seeking_work": True}
    other = citizen.post("/api/v1/benefit/cases", json={
        "kind": "unemployment", "person_id": world.persons["310101"], "region": "310101",
        "facts": facts})
    assert other.status_code == 403                     # only for themself
    r = citizen.post("/api/v1/benefit/cases", json={
        "kind": "unemployment", "person_id": pid, "region": "310104", "facts": facts})
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    assert (r.json()["status"], r.json()["channel"]) == ("received", "online")
    assert citizen.post(f"/api/v1/benefit/cases/{case}/compute", json={}).status_code == 403
    outsider = _api(app, engine, world, "benefits_clerk-310101")
    assert outsider.get(f"/api/v1/benefit/cases/{case}").status_code == 403
    maker = _api(app, engine, world, "benefits_clerk-310104")
    comp = maker.post(f"/api/v1/benefit/cases/{case}/compute", json={"facts": {}})
    assert comp.status_code == 200, comp.text
    # 60 paid months → 18 months of 0.9 × 2740 = 2466.00
    assert comp.json()["computation"]["facts"]["months"] == 18
    assert maker.post(f"/api/v1/benefit/cases/{case}/submit").json()["status"] == "pending_check"
    assert maker.post(f"/api/v1/benefit/cases/{case}/approve",
                      headers={"Idempotency-Key": "m1"}).status_code == 403
    checker = _api(app, engine, world, "benefits_clerk-2-310104")
    a1 = checker.post(f"/api/v1/benefit/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    a2 = checker.post(f"/api/v1/benefit/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    assert a1.status_code == a2.status_code == 200 and a1.json() == a2.json()
    assert a1.json()["status"] == "decided" and a1.json()["award_id"]
    pdf = citizen.get(f"/api/v1/benefit/cases/{case}/notice.pdf", params={"lang": "en"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    aw = citizen.get(f"/api/v1/benefit/persons/{pid}/awards").json()
    assert [ln["amount"] for ln in aw["awards"][0]["lines"]] == ["2466.00", "246.60"]
    assert citizen.get(f"/api/v1/benefit/persons/{world.persons['310101']}/awards"
                       ).status_code == 403
    ap = citizen.post(f"/api/v1/benefit/cases/{case}/appeal", json={"grounds": "too short"})
    assert ap.status_code == 201 and ap.json()["parent_id"] == case
    mine = citizen.get("/api/v1/benefit/cases").json()["items"]
    assert {c["id"] for c in mine} == {case, ap.json()["id"]}


def test_staff_pages_case_type_form_overdue_and_citizen_page(login, world):
    citizen = login("citizen-310104")
    page = citizen.get("/me/benefits")
    assert page.status_code == 200 and 'data-testid="apply-unemployment"' in page.text
    bad = citizen.post("/me/benefits/apply/unemployment", data={"f_registered_on": "x"})
    assert bad.status_code == 422
    ok = citizen.post("/me/benefits/apply/unemployment", data={
        "f_registered_on": "2025-08-10", "f_involuntary": "1", "f_seeking_work": "1"})
    assert ok.status_code == 303
    case = int(ok.headers["location"].rsplit("/", 1)[1])
    assert "已受理" in citizen.get(ok.headers["location"]).text
    clerk = login("benefits_clerk-310104")
    view = clerk.get(f"/staff/benefits/{case}")
    assert view.status_code == 200 and 'name="f_registered_on"' in view.text
    assert login("benefits_clerk-310101").get(f"/staff/benefits/{case}").status_code == 403
    assert login("collection_clerk-310104").get("/staff/benefits").status_code == 403
    listing = clerk.get("/staff/benefits")
    assert f'data-case="{case}"' in listing.text
    # nothing is overdue the day it arrives
    assert f'data-case="{case}"' not in clerk.get("/staff/benefits?overdue=true").text
