"""API of cards (/api/v1/me/card, /cards, e-card keys, verify, revocations) and of the sharing
platform (/api/v1/sharing: partners, token, signed search, exchanges), on both databases."""
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.web import api_headers
from shebao.cards import model
from shebao.security import signing
from shebao.security.tables import audit_log
from shebao.sharing import service


def _api(app, engine, world, username):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[(username, "")]))
    return c


def test_card_lifecycle_and_ecard_over_the_api(app, engine, world):
    me = _api(app, engine, world, "citizen-310101")
    clerk = _api(app, engine, world, "collection_clerk-310101")
    assert me.get("/api/v1/me/card").json() is None
    r = me.post("/api/v1/me/card/application")
    assert r.status_code == 201 and r.json()["status"] == "applied" and r.json()["case_id"]
    assert me.post("/api/v1/me/card/application").status_code == 409
    listed = clerk.get("/api/v1/cards", params={"status": "applied"}).json()["items"]
    assert [(c["id"], c["holder"]) for c in listed] == [(r.json()["id"], "张*")]
    # a clerk of another district neither sees nor issues it
    other = _api(app, engine, world, "collection_clerk-310104")
    assert other.get("/api/v1/cards", params={"status": "applied"}).json()["items"] == []
    assert other.post(f"/api/v1/cards/{r.json()['id']}/issue").status_code == 403
    issued = clerk.post(f"/api/v1/cards/{r.json()['id']}/issue").json()
    assert issued["status"] == "issued" and model.card_number_valid(issued["card_no"])
    assert me.post("/api/v1/me/card/activate").json()["status"] == "active"
    cred = me.post("/api/v1/me/ecard").json()
    # offline: the published key verifies it
    jwks = TestClient(app).get("/api/v1/cards/ecard/keys").json()["keys"]
    pub = signing.PublicKey(jwks[0]["x"])
    assert signing.verify(cred["token"], pub)["card_no"] == issued["card_no"]
    ok = clerk.post("/api/v1/cards/ecard/verify",
                    json={"token": cred["token"], "purpose": "counter"}).json()
    assert ok["valid"] and ok["holder"]["name"] == "张伟"
    assert me.post("/api/v1/cards/ecard/verify",
                   json={"token": cred["token"], "purpose": "x"}).status_code == 403
    assert me.post("/api/v1/me/card/loss").json()["status"] == "lost"
    revoked = TestClient(app).get("/api/v1/cards/ecard/revocations").json()
    assert [x["jti"] for x in revoked] == [cred["jti"]]
    later = TestClient(app).get("/api/v1/cards/ecard/revocations",
                                params={"since": revoked[0]["revoked_at"]}).json()
    assert later == []
    assert TestClient(app).get("/api/v1/cards/ecard/revocations",
                               params={"since": "0.5"}).status_code == 422
    gone = clerk.post("/api/v1/cards/ecard/verify",
                      json={"token": cred["token"], "purpose": "counter"}).json()
    assert (gone["valid"], gone["reason"]) == (False, "revoked")
    bad = me.post("/api/v1/me/card/bank", json={"bank_name": "x", "bank_account": "1" * 12})
    assert bad.status_code == 422        # a lost card links no bank account


def test_partner_registered_by_an_administrator_searches_with_a_signed_envelope(app, engine,
                                                                                world):
    admin = _api(app, engine, world, "administrator-national")
    theirs = signing.from_pem("p", signing.new_private_pem())
    reg = admin.post("/api/v1/sharing/partners", json={
        "code": "hz-inst", "name": "杭州", "kind": "installation", "region": "310000",
        "scopes": ["search", "item:status"], "public_key": theirs.public.x})
    assert reg.status_code == 201, reg.text
    body = reg.json()
    assert _api(app, engine, world, "collection_clerk-310101").post(
        "/api/v1/sharing/partners", json={"code": "x2",
                                          "name": "x", "kind": "tax", "region": "310000",
                                          "scopes": []}).status_code == 403
    c = TestClient(app)
    assert c.post("/api/v1/sharing/token", json={"client_id": body["client_id"],
                                                 "client_secret": "nope"}).status_code == 401
    tok = c.post("/api/v1/sharing/token", json={"client_id": body["client_id"],
                                                "client_secret": body["client_secret"]}).json()
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    env = service.envelope(theirs, "search", "hz-inst", "shebao", {
        "reference_id": "a-1", "purpose": "check", "legal_basis": "law",
        "query_type": "id", "query": {"citizen_id": world.citizen_ids["310101"]},
        "items": ["status"]})
    r = c.post("/api/v1/sharing/search", json=env, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["message"]["records"] == [{"status": "active", "death_date": None}]
    ours = TestClient(app).get("/api/v1/sharing/keys").json()["keys"][0]
    assert signing.verify(r.json()["signature"], signing.PublicKey(ours["x"]))
    # the plain copy of the message must be the signed one
    forged = {**env, "message": {**env["message"], "items": ["identity"]}}
    assert c.post("/api/v1/sharing/search", json=forged, headers=auth).status_code == 422
    with engine.connect() as conn:           # the refusal is audited, with the partner
        refused = conn.execute(select(audit_log.c.actor, audit_log.c.detail).where(
            audit_log.c.action == "sharing.search.refused")).all()
    assert len(refused) == 1 and refused[0].actor == "partner:hz-inst"
    assert "differs from the signed one" in refused[0].detail
    assert c.post("/api/v1/sharing/search", json=env).status_code == 401
    ex = _api(app, engine, world, "inspector-310101").get("/api/v1/sharing/exchanges").json()
    assert [(e["partner"], e["kind"], e["reference_id"]) for e in ex["items"]] == \
        [("hz-inst", "search", "a-1")]
    assert _api(app, engine, world, "citizen-310101").get(
        "/api/v1/sharing/exchanges").status_code == 403
