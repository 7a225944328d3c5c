"""Web hardening (issue #11.5, #11.7): no 500 without headers and an error id, calculator bounds
over HTTP, CSRF bound to the session, Origin check, HSTS, body limit, no Server banner."""
import logging
import socket
import threading
import time

import urllib.request
import pytest
from fastapi.testclient import TestClient

from tests.support.web import api_headers, web_client
from shebao.channels.web import create_app
from shebao.channels.web.app import SERVER_OPTIONS


def _calc(app, engine, world, body, name):
    admin = world.users[("administrator-310101", "")]
    return TestClient(app).post(f"/api/v1/calc/{name}", json=body,
                                headers=api_headers(engine, admin))


@pytest.mark.parametrize("wage", ["1e20", "1e308", "12345678901234567890"])
def test_calculator_wage_out_of_range_is_a_422_naming_the_field(app, engine, world, wage):
    r = _calc(app, engine, world, {"region": "310000", "month": "2025-08", "wage": wage,
                                   "kind": "flexible"}, "contribution")
    assert r.status_code == 422 and r.json()["field"] == "wage"


def test_calculator_birth_date_out_of_range_is_a_422_naming_the_field(app, engine, world):
    r = _calc(app, engine, world, {"birth_date": "9999-12-31", "category": "male"},
              "retirement-age")
    assert r.status_code == 422 and r.json()["field"] == "birth_date"


def test_unexpected_error_is_a_500_with_headers_and_an_error_id(engine, caplog):
    app = create_app(mode="dev", engine=engine)

    def boom():
        raise RuntimeError("kaboom")
    app.add_api_route("/api/v1/test-boom", boom)            # only in this test's app
    app.add_api_route("/test-boom", boom, include_in_schema=False)
    c = TestClient(app)
    with caplog.at_level(logging.ERROR, logger="shebao.web"):
        r = c.get("/api/v1/test-boom")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    error_id = r.headers["x-error-id"]
    assert error_id in r.json()["detail"] and "kaboom" not in r.text
    assert r.headers["x-frame-options"] == "DENY" and "script-src" in \
        r.headers["content-security-policy"]
    assert any(error_id in rec.getMessage() for rec in caplog.records)
    page = c.get("/test-boom")
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    assert page.headers["x-error-id"] in page.text and page.headers["x-frame-options"] == "DENY"
    assert c.get("/login").status_code == 200                # the server goes on serving


def test_csrf_token_planted_from_another_session_is_refused(app, world, login):
    victim = login("citizen-310101")
    attacker = login("inspector-310101")
    planted = attacker.cookies.get("csrftoken")
    assert planted != victim.cookies.get("csrftoken")
    victim.cookies.set("csrftoken", planted)
    victim.headers["X-CSRF-Token"] = planted
    r = victim.post("/me/contact", data={"phone": "13800000000", "address": "x"})
    assert r.status_code == 403 and r.json()["field"] == "X-CSRF-Token"
    anon = web_client(app)                                   # an anonymous (login form) token
    victim.cookies.set("csrftoken", anon.cookies.get("csrftoken"))
    victim.headers["X-CSRF-Token"] = anon.cookies.get("csrftoken")
    assert victim.post("/logout").status_code == 403


def test_state_changing_request_from_another_origin_or_without_one_is_refused(app, login,
                                                                           engine, world):
    c = login("inspector-310101")
    c.headers["Origin"] = "https://evil.example"
    r = c.post("/logout")
    assert r.status_code == 403 and r.json()["field"] == "Origin"
    del c.headers["Origin"]
    assert c.post("/logout").status_code == 403              # neither Origin nor Referer
    c.headers["Referer"] = "http://testserver/staff"
    assert c.post("/logout").status_code == 303
    bearer = TestClient(app).post(                         # API token clients need neither
        "/api/v1/calc/retirement-age", json={"birth_date": "1970-01-01", "category": "male"},
        headers=api_headers(engine, world.users[("administrator-310101", "")]))
    assert bearer.status_code == 200
    evil = TestClient(app).post(
        "/api/v1/calc/retirement-age", json={"birth_date": "1970-01-01", "category": "male"},
        headers={**api_headers(engine, world.users[("administrator-310101", "")]),
                 "Origin": "https://evil.example"})
    assert evil.status_code == 403


def test_hsts_in_production_only(engine):
    prod = create_app(mode="production", secret_key="s" * 48, engine=engine)
    r = TestClient(prod, base_url="https://testserver").get("/login")
    assert r.headers["strict-transport-security"].startswith("max-age=")
    dev = create_app(mode="dev", engine=engine)
    assert "strict-transport-security" not in TestClient(dev).get("/login").headers


def test_request_body_over_the_limit_is_a_413(app, engine, world):
    headers = api_headers(engine, world.users[("administrator-310101", "")])
    big = b'{"birth_date": "' + b"1" * (2 << 20) + b'"}'
    c = TestClient(app)
    r = c.post("/api/v1/calc/retirement-age", content=big,
               headers={**headers, "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["field"] == "body"

    def chunks():                                            # no Content-Length: counted
        for _ in range(40):
            yield b"x" * 65536
    r = c.post("/api/v1/calc/retirement-age", content=chunks(),
               headers={**headers, "content-type": "application/json"})
    assert r.status_code == 413


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_banner_is_hidden(engine):
    import uvicorn
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(mode="dev", engine=engine),
                                           host="127.0.0.1", port=port, log_level="warning",
                                           **SERVER_OPTIONS))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:
            assert r.status == 200 and r.headers.get("server") is None
    finally:
        server.should_exit = True
        t.join(10)
