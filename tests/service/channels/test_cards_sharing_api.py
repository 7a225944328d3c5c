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


def test_a_hospital_partner_verifies_an_ecard(app, engine, world):
    from shebao.cards import service as cards
    me = world.users[("citizen-310104", "")].actor()
    cid = cards.apply(engine, me, world.persons["310104"])
    cards.issue(engine, world.users[("collection_clerk-310104", "")].actor(), cid)
    cards.activate(engine, me, cid)
    token = _api(app, engine, world, "citizen-310104").post("/api/v1/me/ecard").json()["token"]
    admin = _api(app, engine, world, "administrator-national")
    hosp, lab = [admin.post("/api/v1/sharing/partners", json={
        "code": code, "name": "医院", "kind": "health", "region": "310000",
        "scopes": scopes}).json() for code, scopes in (("rj-hospital", ["ecard.verify"]),
                                                       ("lab", ["search"]))]
    c = TestClient(app)

    def bearer(p):
        t = c.post("/api/v1/sharing/token", json={"client_id": p["client_id"],
                                                  "client_secret": p["client_secret"]})
        return {"Authorization": f"Bearer {t.json()['access_token']}"}
    ok = c.post("/api/v1/sharing/ecard/verify", headers=bearer(hosp),
                json={"token": token, "purpose": "outpatient settlement"})
    assert ok.status_code == 200 and ok.json()["valid"] and ok.json()["holder"]["name"] == "李娜"
    no = c.post("/api/v1/sharing/ecard/verify", headers=bearer(lab),
                json={"token": token, "purpose": "x"})
    assert no.status_code == 403 and "ecard.verify" in no.json()["detail"]
    with engine.connect() as conn:
        row = conn.execute(select(audit_log.c.actor, audit_log.c.purpose).where(
            audit_log.c.action == "cards.ecard.verify")).one()
    assert row == ("partner:rj-hospital", "rj-hospital: outpatient settlement")


def test_sharing_page_lists_partners_and_exchanges(app, engine, world, login):
    from shebao.core.actor import Actor
    from shebao.sharing import partners
    partners.register(engine, Actor(id="a", role="administrator"), code="civil-sh",
                      name="上海市民政局", kind="civil_affairs", region="310000",
                      scopes=["notify:death"])
    page = login("administrator-national").get("/staff/sharing")
    assert page.status_code == 200 and "civil-sh" in page.text and "notify:death" in page.text
    assert "信息共享" in page.text
    assert login("collection_clerk-310101").get("/staff/sharing").status_code == 403
