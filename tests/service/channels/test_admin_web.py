"""Administrator account actions over HTTP (page and API), the forced password change."""
import re

from fastapi.testclient import TestClient

from tests.support.web import api_headers, web_client


def test_admin_resets_a_password_on_the_accounts_page_and_the_user_must_change_it(app, world,
                                                                               login):
    admin = login("administrator-310101")
    target = world.users[("inspector-310101", "")]
    r = admin.post(f"/staff/users/{target.id}/reset")
    assert r.status_code == 200
    temp = re.search(r'data-testid="temporary">.*?<code>([^<]+)</code>', r.text, re.S).group(1)
    c = web_client(app, "inspector-310101", temp)
    r = c.get("/staff")
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    r = c.post("/account/password", data={"current": temp, "new": "Quiet-harbor-2031",
                                          "repeat": "Quiet-harbor-2031"})
    assert r.status_code == 303
    assert web_client(app, "inspector-310101", "Quiet-harbor-2031").get("/staff").status_code \
        == 200


def test_admin_api_unlock_deactivate_reactivate_end_sessions(app, engine, world):
    api = TestClient(app)
    admin = api_headers(engine, world.users[("administrator-310101", "")])
    target = world.users[("inspector-310101", "")]
    victim = api_headers(engine, target)
    assert api.get("/api/v1/me", headers=victim).status_code == 200
    assert api.delete(f"/api/v1/users/{target.id}/sessions", headers=admin).status_code == 204
    assert api.get("/api/v1/me", headers=victim).status_code == 401
    for _ in range(6):
        api.post("/api/v1/auth/token", json={"username": "inspector-310101",
                                             "password": "wrong-password-1"})
    r = api.post("/api/v1/auth/token", json={"username": "inspector-310101",
                                             "password": world.passwords["inspector-310101"]})
    assert r.status_code == 423
    assert api.post(f"/api/v1/users/{target.id}/unlock", headers=admin).status_code == 204
    r = api.post("/api/v1/auth/token", json={"username": "inspector-310101",
                                             "password": world.passwords["inspector-310101"]})
    assert r.status_code == 200
    assert api.post(f"/api/v1/users/{target.id}/deactivate", headers=admin).status_code == 204
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer " + r.json()["token"]}
                   ).status_code == 401
    listed = {u["id"]: u for u in api.get("/api/v1/users?limit=200", headers=admin
                                          ).json()["items"]}
    assert listed[target.id]["active"] is False
    assert api.post(f"/api/v1/users/{target.id}/reactivate", headers=admin).status_code == 204
    reset = api.post(f"/api/v1/users/{target.id}/password-reset", headers=admin)
    assert reset.status_code == 200
    tok = api.post("/api/v1/auth/token", json={"username": "inspector-310101",
                                               "password": reset.json()["temporary_password"]}
                   ).json()["token"]
    h = {"Authorization": "Bearer " + tok}
    assert api.get("/api/v1/audit", headers=h).status_code == 403       # change it first
    assert api.post("/api/v1/me/password", headers=h, json={
        "current": reset.json()["temporary_password"], "new": "Quiet-harbor-2031"}
    ).status_code == 204
    forbidden = api.post(f"/api/v1/users/{target.id}/unlock",
                         headers=api_headers(engine, world.users[("inspector-310101", "")]))
    assert forbidden.status_code == 403
