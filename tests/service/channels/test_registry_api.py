"""Registry API: names and employment dates are checked by the registry's model (the same
rules as the forms and the import) and refused naming the field."""
from fastapi.testclient import TestClient

from shebao.core.ids import ric_check_char
from tests.support.web import api_headers


def _cid(seq):
    s = f"31010119860606{seq:03d}"
    return s + ric_check_char(s)


def test_names_with_control_bidi_or_invisible_characters_are_422_naming_the_field(
        app, engine, world):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[("collection_clerk", "310101")]))
    for n, name in enumerate(["\u200b", "a\u202egnp.exe", "\u0000abc", "\u2066张三\u2069"]):
        r = c.post("/api/v1/persons", json={"citizen_id": _cid(n), "name": name,
                                             "pension_region": "310101"})
        assert r.status_code == 422, (name, r.text)
        assert r.json()["field"] == "name", r.text
    ok = c.post("/api/v1/persons", json={"citizen_id": _cid(9), "name": "张三",
                                         "pension_region": "310101"})
    assert ok.status_code == 201, ok.text


def test_implausible_employment_starts_are_422_naming_the_field(app, engine, world):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[("collection_clerk", "310101")]))
    eid = world.employers["310101"]
    for start in ("1900-01-01", "2099-01-01", "9999-12-31"):
        r = c.post(f"/api/v1/employers/{eid}/employees",
                   json={"citizen_id": world.citizen_ids["310101"], "start_date": start})
        assert r.status_code == 422, (start, r.text)
        assert r.json()["field"] == "start_date", r.text
