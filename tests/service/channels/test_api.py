"""REST API: problem+json naming the field, cursor pagination, purposes in the audit log."""
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.web import api_headers
from shebao.core.ids import ric_check_char
from shebao.security.tables import audit_log


def _api(app, engine, world, username):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[(username, "")]))
    return c


def _cid(seq):
    s = f"31010119850101{seq:03d}"
    return s + ric_check_char(s)


def test_sign_in_with_password_returns_a_bearer_token(app, world):
    c = TestClient(app)
    r = c.post("/api/v1/auth/token", json={"username": "inspector-310101",
                                           "password": world.passwords["inspector-310101"]})
    assert r.status_code == 200 and r.json()["role"] == "inspector"
    me = c.get("/api/v1/me", headers={"Authorization": "Bearer " + r.json()["token"]})
    assert me.json()["scope"] == "310101"
    bad = c.post("/api/v1/auth/token", json={"username": "inspector-310101", "password": "x"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"


def test_no_token_is_401_problem(app):
    r = TestClient(app).get("/api/v1/persons")
    assert r.status_code == 401 and r.json()["title"] == "Not authenticated"
    assert r.headers["www-authenticate"] == "Bearer"


def test_validation_errors_name_the_field(app, engine, world):
    c = _api(app, engine, world, "collection_clerk-310101")
    r = c.post("/api/v1/persons", json={"citizen_id": "123", "name": "x",
                                        "pension_region": "310101"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "citizen_id" and "18 characters" in r.json()["detail"]
    r = c.post("/api/v1/persons", json={"citizen_id": _cid(1), "name": "x",
                                        "pension_region": "31010"})
    assert r.json()["field"] == "pension_region"
    r = c.get("/api/v1/persons", params={"limit": 0})
    assert r.status_code == 422 and r.json()["field"] == "limit"
    r = c.get("/api/v1/persons", params={"cursor": "!!"})
    assert r.status_code == 422 and r.json()["field"] == "cursor"


def test_cursor_pagination_walks_every_row_once(app, engine, world):
    c = _api(app, engine, world, "collection_clerk-310101")
    made = {world.persons["310101"]}
    for i in range(7):
        r = c.post("/api/v1/persons", json={"citizen_id": _cid(10 + 2 * i), "name": f"人{i}",
                                            "pension_region": "310101"})
        assert r.status_code == 201, r.text
        made.add(r.json()["id"])
    seen, cursor, pages = [], None, 0
    while True:
        r = c.get("/api/v1/persons", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        body = r.json()
        seen += [p["id"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and sorted(seen) == sorted(made)       # 8 rows: 3 + 3 + 2
    assert all("*" in p["citizen_id"] for p in r.json()["items"])


def test_person_read_records_the_stated_purpose(app, engine, world):
    c = _api(app, engine, world, "benefits_clerk-310101")
    pid = world.persons["310101"]
    r = c.get(f"/api/v1/persons/{pid}", headers={"X-Purpose": "pension claim 2025-17"})
    assert r.status_code == 200 and r.json()["person"]["citizen_id"] == world.citizen_ids["310101"]
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(
            audit_log.c.action == "registry.person.read").order_by(audit_log.c.id.desc())).first()
    assert (row.actor, row.role, row.subject_id, row.purpose) == (
        "benefits_clerk-310101", "benefits_clerk", str(pid), "pension claim 2025-17")
    mine = _api(app, engine, world, "citizen-310101").get("/api/v1/me/reads").json()["items"]
    assert any(i["purpose"] == "pension claim 2025-17" for i in mine)


def test_statement_api_and_citizen_contact(app, engine, world):
    c = _api(app, engine, world, "citizen-310101")
    st = c.get("/api/v1/me/statements/pension").json()
    assert st["closing_balance"] == "9600.00" and len(st["items"]) == 13   # 12 + Aug 2025
    page = c.get("/api/v1/me/statements/pension", params={"limit": 5}).json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    r = c.put("/api/v1/me/contact", json={"phone": "13700000000", "notify_channels": []})
    assert r.status_code == 422 and r.json()["field"] == "notify_channels"
    r = c.put("/api/v1/me/contact", json={"phone": "13700000000", "notify_channels": ["app"]})
    assert r.status_code == 200 and r.json()["notify_channels"] == ["app"]


def test_employer_hires_and_ends_through_the_api(app, engine, world):
    from shebao.registry import service as reg
    from shebao.devtools.sample_world import REGISTRAR
    pid = reg.register_person(engine, REGISTRAR, citizen_id=_cid(40), name="新员工",
                              pension_region="310101")
    c = _api(app, engine, world, "employer-310101")
    eid = world.employers["310101"]
    hire = {"citizen_id": _cid(40), "start_date": "2025-03-01", "monthly_wage": "8800.00"}
    r = c.post(f"/api/v1/employers/{eid}/employees", json=hire)
    assert r.status_code == 422 and r.json()["field"] == "name"   # never employed: name needed
    r = c.post(f"/api/v1/employers/{eid}/employees", json={**hire, "name": "新员工"})
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    clerk = _api(app, engine, world, "collection_clerk-310101")
    r = clerk.post(f"/api/v1/employment-requests/{r.json()['request_id']}/approve")
    assert r.status_code == 200, r.text
    sid = r.json()["employment_id"]
    r = c.get(f"/api/v1/employers/{eid}/employees", params={"current": True})
    mine = [e for e in r.json()["items"] if e["employment_id"] == sid]
    assert mine[0]["person_id"] == pid and mine[0]["name"] == "新**"
    r = c.post(f"/api/v1/employments/{sid}/end", json={"end_date": "2025-02-01",
                                                       "leave_reason": "resignation"})
    assert r.status_code == 422                               # ends before it starts
    r = c.post(f"/api/v1/employments/{sid}/end", json={"end_date": "2025-09-30",
                                                       "leave_reason": "resignation"})
    assert r.status_code == 200 and r.json()["end_date"] == "2025-09-30"
    other = world.employers["310104"]
    r = c.post(f"/api/v1/employers/{other}/employees",
               json={"citizen_id": _cid(40), "start_date": "2025-10-01"})
    assert r.status_code == 403


def test_openapi_documents_problem_responses(app):
    doc = TestClient(app).get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/persons"]["get"]
    assert "application/problem+json" in op["responses"]["422"]["content"]
    assert {p["name"] for p in op["parameters"]} >= {"limit", "cursor"}
    lists = [p for p, ops in doc["paths"].items()
             if "get" in ops and "Page" in str(ops["get"]["responses"]["200"])]
    for path in lists:                                        # every list is cursor-paginated
        names = {p["name"] for p in doc["paths"][path]["get"].get("parameters", [])}
        assert {"limit", "cursor"} <= names, path


def test_lists_and_searches_that_show_a_person_appear_in_their_access_record(app, engine,
                                                                             world):
    cid, eid = world.citizen_ids["310101"], world.employers["310101"]
    clerk = _api(app, engine, world, "benefits_clerk-310101")
    assert clerk.get("/api/v1/persons", params={"q": cid},
                     headers={"X-Purpose": "list check 7"}).status_code == 200
    assert _api(app, engine, world, "employer-310101").get(
        f"/api/v1/employers/{eid}/employees").status_code == 200
    mine = _api(app, engine, world, "citizen-310101").get("/api/v1/me/reads").json()["items"]
    seen = {(i["action"], i["actor"]) for i in mine}
    assert ("registry.person.search", "benefits_clerk-310101") in seen
    assert ("registry.employees.list", "employer-310101") in seen
    assert any(i["purpose"] == "list check 7" for i in mine)
    other = _api(app, engine, world, "citizen-310104").get("/api/v1/me/reads").json()["items"]
    assert not any(i["purpose"] == "list check 7" for i in other)
