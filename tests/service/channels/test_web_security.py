"""Cookies, CSRF, sign-in throttling, sign-out, headers, production refusal — over HTTP."""
import pytest
from sqlalchemy import select

from tests.support.web import web_client
from shebao.channels.web import create_app
from shebao.channels.web.config import ConfigError
from shebao.security.tables import audit_log


def test_session_cookie_flags(app, world):
    c = web_client(app)
    r = c.post("/login", data={"username": "citizen-310101",
                               "password": world.passwords["citizen-310101"]})
    assert r.status_code == 303 and r.headers["location"] == "/me"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("shebao_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


def test_secure_flag_in_production(engine, world):
    app = create_app(mode="production", secret_key="s" * 48, engine=engine)
    c = web_client(app, base_url="https://testserver")
    r = c.post("/login", data={"username": "citizen-310101",
                               "password": world.passwords["citizen-310101"]})
    cookies = r.headers.get_list("set-cookie")
    assert any(h.startswith("shebao_session=") and "Secure" in h for h in cookies)


def test_production_app_refuses_to_start_without_secret(engine, monkeypatch):
    monkeypatch.delenv("SHEBAO_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app(mode="production", engine=engine)


def test_production_app_refuses_to_start_with_an_untranslated_text(engine, monkeypatch):
    from shebao.channels.web import i18n_ids

    monkeypatch.setenv("SHEBAO_SECRET_KEY", "k" * 40)
    create_app(mode="production", engine=engine)  # every text translated: it starts
    monkeypatch.setattr(i18n_ids, "EXTRA", [*i18n_ids.EXTRA, "A label nobody translated"])
    with pytest.raises(ConfigError, match="A label nobody translated"):
        create_app(mode="production", engine=engine)
    create_app(mode="dev", engine=engine)  # dev mode shows the id and starts


def test_state_changing_form_without_csrf_token_is_refused(app, login, engine):
    c = login("administrator-310101")
    del c.headers["X-CSRF-Token"]
    r = c.post("/staff/users", data={"username": "x1", "password": "Long-enough-1",
                                     "role": "inspector", "scope": "310101"})
    assert r.status_code == 403 and r.json()["field"] == "X-CSRF-Token"
    c.headers["X-CSRF-Token"] = "forged" + c.cookies.get("csrftoken")[6:]
    assert c.post("/staff/users", data={"username": "x1"}).status_code == 403
    with engine.connect() as conn:
        assert not conn.execute(select(audit_log).where(
            audit_log.c.action == "user.create", audit_log.c.detail.like('%"x1"%'))).first()


def test_login_form_itself_needs_the_csrf_token(app, world):
    c = web_client(app)
    del c.headers["X-CSRF-Token"]
    r = c.post("/login", data={"username": "citizen-310101",
                               "password": world.passwords["citizen-310101"]})
    assert r.status_code == 403


def test_bearer_api_calls_need_no_csrf_but_cookie_calls_do(app, world, engine):
    from tests.support.web import api_headers
    from fastapi.testclient import TestClient
    admin = world.users[("administrator-310101", "")]
    api = TestClient(app)
    r = api.post("/api/v1/users", headers=api_headers(engine, admin),
                 json={"username": "viaapi", "password": "Long-enough-1", "role": "inspector",
                       "scope": "310101"})
    assert r.status_code == 201
    # a browser with a session cookie cannot use the API without the CSRF header
    c = web_client(app, "administrator-310101", world.passwords["administrator-310101"])
    del c.headers["X-CSRF-Token"]
    r = c.post("/api/v1/users", json={"username": "viacookie", "password": "Long-enough-1",
                                      "role": "inspector", "scope": "310101"})
    assert r.status_code == 403


def test_wrong_password_message_next_to_the_field_then_lockout(app, world):
    c = web_client(app)
    for i in range(5):
        r = c.post("/login", data={"username": "citizen-310101", "password": "wrong-pass-1"})
        assert r.status_code == 401
        assert 'data-field="password"' in r.text and "用户名或密码错误" in r.text
    r = c.post("/login", data={"username": "citizen-310101",
                               "password": world.passwords["citizen-310101"]})
    assert r.status_code == 423 and "锁定" in r.text


def test_empty_login_names_both_fields(app):
    r = web_client(app).post("/login", data={"username": "", "password": ""})
    assert r.status_code == 422
    assert 'data-field="username"' in r.text and 'data-field="password"' in r.text


def test_login_rate_limit_per_address(engine, world):
    app = create_app(mode="dev", engine=engine, login_rate_limit=3)
    c = web_client(app)
    for _ in range(3):
        c.post("/login", data={"username": "nobody", "password": "whatever-1"})
    r = c.post("/login", data={"username": "citizen-310101",
                               "password": world.passwords["citizen-310101"]})
    assert r.status_code == 429


def test_logout_revokes_the_session(login):
    c = login("citizen-310101")
    assert c.get("/me").status_code == 200
    stolen = c.cookies.get("shebao_session")
    assert c.post("/logout").status_code == 303
    c.cookies.set("shebao_session", stolen)
    r = c.get("/me")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_tampered_session_cookie_is_ignored(login):
    c = login("citizen-310101")
    good = c.cookies.get("shebao_session")
    c.cookies.delete("shebao_session")
    c.cookies.set("shebao_session", good[:-3] + ("abc" if good[-3:] != "abc" else "xyz"))
    assert c.get("/me").status_code == 303


def test_open_redirect_after_login_is_refused(app, world):
    c = web_client(app)
    r = c.post("/login", data={"username": "citizen-310101", "next": "//evil.example/",
                               "password": world.passwords["citizen-310101"]})
    assert r.headers["location"] == "/me"


def test_security_headers(app, world, engine):
    from fastapi.testclient import TestClient
    from tests.support.web import api_headers
    r = web_client(app).get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers      # dev, plain http
    api = TestClient(app)
    assert "csrftoken=" in api.get("/login").headers["set-cookie"]   # a page: the form's token
    # an API read: the same headers on the answer and on a refusal, and no CSRF cookie
    # (nothing of a bearer call needs one); static files are cacheable, the docs have no CSP
    api = TestClient(app)
    clerk = world.users[("collection_clerk-310101", "")]
    for r in (api.get("/api/v1/persons?q=1", headers=api_headers(engine, clerk)),
              api.get("/api/v1/persons/1")):
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "set-cookie" not in r.headers
    assert api.get("/api/v1/persons/1").status_code == 401
    assert "cache-control" not in api.get("/static/swagger/favicon.png").headers
    assert "content-security-policy" not in api.get("/api/v1/docs").headers
    prod = TestClient(create_app(mode="production", secret_key="s" * 48, engine=engine),
                      base_url="https://testserver")
    assert prod.get("/login").headers["strict-transport-security"].startswith("max-age=")


def test_request_threads_per_worker(engine, monkeypatch):
    import anyio.to_thread
    from fastapi.testclient import TestClient

    async def tokens():
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    monkeypatch.setenv("SHEBAO_WEB_THREADS", "3")
    with TestClient(create_app(mode="dev", engine=engine)) as client:
        assert client.portal.call(tokens) == 3
    monkeypatch.setenv("SHEBAO_WEB_THREADS", "0")
    with pytest.raises(ConfigError, match="SHEBAO_WEB_THREADS"):
        create_app(mode="dev", engine=engine)


def test_wrong_portal_is_refused(login):
    assert login("citizen-310101").get("/staff").status_code == 403
    assert login("employer-310101").get("/me").status_code == 403
    assert login("collection_clerk-310101").get("/employer").status_code == 403


def test_own_password_change_checks_the_current_one_and_ends_sessions(app, world, login):
    c = login("inspector-310101")
    other = login("inspector-310101")                  # a second session of the same account
    r = c.post("/account/password", data={"current": "nope", "new": "New-pass-2026",
                                          "repeat": "New-pass-2026"})
    assert r.status_code == 422 and 'data-field="current"' in r.text
    r = c.post("/account/password", data={"current": world.passwords["inspector-310101"],
                                          "new": "short", "repeat": "short"})
    assert r.status_code == 422 and 'data-field="new"' in r.text
    r = c.post("/account/password", data={"current": world.passwords["inspector-310101"],
                                          "new": "New-pass-2026", "repeat": "New-pass-2026"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert other.get("/staff").status_code == 303             # the other session ended too
    assert web_client(app, "inspector-310101", "New-pass-2026").get("/staff").status_code == 200
