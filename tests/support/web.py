"""Clients for the web tests: a browser-like TestClient signed in through the login form, and
bearer-token headers for the API."""
from __future__ import annotations

from shebao.security import service as sec


def web_client(app, username: str | None = None, password: str | None = None, *,
               base_url: str = "http://testserver"):
    """A TestClient that signed in through the login form (CSRF header set for later POSTs)."""
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False, base_url=base_url)
    c.headers["Origin"] = base_url            # as a browser sends on every form POST
    c.get("/login")
    c.headers["X-CSRF-Token"] = c.cookies.get("csrftoken")
    if username:
        r = c.post("/login", data={"username": username, "password": password})
        assert r.status_code == 303, r.text
        c.headers["X-CSRF-Token"] = c.cookies.get("csrftoken")   # bound to the new session
    return c


def api_headers(engine, user: sec.User) -> dict:
    return {"Authorization": "Bearer " + sec.start_session(engine, user, kind="api")}
