"""Two installations of shebao talk over real HTTP: Shanghai (installation "sh", the sample
world on PostgreSQL) and Zhejiang (installation "zj", a fresh SQLite database), each a uvicorn
server with its own signing key, each registered at the other as a partner.

Zhejiang searches Shanghai's registry (signed, scoped, audited, idempotent), subscribes to its
deaths and sends it a transfer message; a civil-affairs bureau reports a death to Shanghai,
which stops the person there and passes the notice on to Zhejiang, where the same person is
recorded deceased too — every message signed and checked on both sides."""
from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from contextlib import contextmanager

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

import uvicorn  # noqa: E402
from sqlalchemy import select  # noqa: E402

from tests.support.world import _world_pg  # noqa: E402,F401
from shebao.channels.web import create_app  # noqa: E402
from shebao.core.actor import Actor  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402
from shebao.devtools.scratch_db import scratch_database  # noqa: E402
from shebao.registry import service as registry  # noqa: E402
from shebao.registry.queries import person_facts, person_id_of  # noqa: E402
from shebao.security import signing  # noqa: E402
from shebao.security.tables import audit_log  # noqa: E402
from shebao.sharing import outbound, partners, queries  # noqa: E402
from shebao.sharing.client import PartnerClient, PartnerError  # noqa: E402

ADMIN = Actor(id="admin", role="administrator")


def _key(purpose):
    return signing.from_pem(purpose, signing.new_private_pem())


@contextmanager
def _serve(engine, key, installation):
    app = create_app(mode="dev", engine=engine, login_rate_limit=100000)
    app.state.sharing_key, app.state.installation = key, installation
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def installations(_world_pg, tmp_path):
    admin, tmpl, world = _world_pg
    with scratch_database("postgresql", template=tmpl, admin=admin, prefix="shebao_sh") as sh_url, \
            scratch_database("sqlite", directory=tmp_path, prefix="zj") as zj_url:
        sh, zj = make_engine(sh_url), make_engine(zj_url)
        ksh, kzj = _key("sharing"), _key("sharing")
        with _serve(sh, ksh, "sh") as sh_http, _serve(zj, kzj, "zj") as zj_http:
            yield world, (sh, ksh, sh_http), (zj, kzj, zj_http)
        sh.dispose()
        zj.dispose()


def test_two_installations_exchange_signed_messages(installations):
    world, (sh, ksh, sh_http), (zj, kzj, zj_http) = installations
    # each registers the other: Zhejiang may search Shanghai's people and hear of its deaths,
    # Shanghai may notify Zhejiang of deaths
    _, zj_at_sh_id, zj_at_sh_secret = partners.register(
        sh, ADMIN, code="zj", name="浙江省社会保险经办机构", kind="installation", region="310000",
        scopes=["search", "item:identity", "item:status", "item:pension_region",
                "subscribe:death", "notify:transfer"],
        public_key=kzj.public.x, base_url=zj_http)
    _, sh_at_zj_id, sh_at_zj_secret = partners.register(
        zj, ADMIN, code="sh", name="上海市社会保险事业管理中心", kind="installation",
        region="national", scopes=["notify:death"], public_key=ksh.public.x, base_url=sh_http)
    kcivil = _key("civil")
    _, civil_id, civil_secret = partners.register(
        sh, ADMIN, code="civil-sh", name="上海市民政局", kind="civil_affairs", region="310000",
        scopes=["notify:death"], public_key=kcivil.public.x)

    # Zhejiang's client to Shanghai, built from Zhejiang's registry of partners
    to_sh = outbound.client_for(zj, "sh", kzj, us="zj",
                                credentials=lambda code: (zj_at_sh_id, zj_at_sh_secret))
    cid = world.citizen_ids["310104"]
    found = to_sh.search(reference_id="zj-search-1", purpose="pension transfer: contribution "
                         "history check", legal_basis="城镇企业职工基本养老保险关系转移接续暂行办法 第八条",
                         query_type="id", query={"citizen_id": cid},
                         items=["identity", "status", "pension_region"])
    assert found["records"] == [{"name": "李娜", "citizen_id": cid, "sex": "M",
                                 "birth_date": "1967-03-14", "status": "active",
                                 "death_date": None, "pension_region": "310104"}]
    # the same reference over HTTP again: the same answer, read once
    again = to_sh.search(reference_id="zj-search-1", purpose="pension transfer: contribution "
                         "history check", legal_basis="城镇企业职工基本养老保险关系转移接续暂行办法 第八条",
                         query_type="id", query={"citizen_id": cid},
                         items=["identity", "status", "pension_region"])
    assert again == found
    with sh.connect() as c:
        reads = c.execute(select(audit_log.c.actor, audit_log.c.purpose, audit_log.c.subject_id)
                          .where(audit_log.c.action == "sharing.search")).all()
    assert reads == [("partner:zj", "pension transfer: contribution history check",
                      str(world.persons["310104"]))]
    # a scope it does not hold is refused over HTTP with the scope named
    with pytest.raises(PartnerError) as refused:
        to_sh.search(reference_id="zj-search-2", purpose="x", legal_basis="y",
                     query_type="id", query={"citizen_id": cid}, items=["enrolments"])
    assert refused.value.status == 403 and "item:enrolments" in refused.value.detail
    # a wrong secret gets no token
    with pytest.raises(PartnerError) as bad:
        PartnerClient(sh_http, zj_at_sh_id, "wrong", kzj, sender="zj", receiver="sh").token()
    assert bad.value.status == 401

    # Zhejiang subscribes to Shanghai's deaths and sends a transfer message
    sub = to_sh.subscribe(reference_id="zj-sub-1", event_type="death", region="310000")
    assert sub["status"] == "succ"
    sent = to_sh.notify(reference_id="zj-transfer-7", event_type="transfer",
                        events=[{"citizen_id": cid, "kind": "pension", "to_region": "330100"}],
                        purpose="transfer contact letter", legal_basis="暂行办法 第八条")
    assert sent["results"] == [{"index": 0, "status": "recorded"}]
    assert [m["reference_id"] for m in queries.inbox(sh, "notify:transfer")] == ["zj-transfer-7"]

    # the same person is known in Zhejiang (e.g. a transfer in progress)
    zj_pid = registry.register_person(zj, Actor(id="reg", role="system"), citizen_id=cid,
                                      name="李娜", pension_region="330106")

    # civil affairs reports the death to Shanghai
    civil = PartnerClient(sh_http, civil_id, civil_secret, kcivil, sender="civil-sh",
                          receiver="sh", their_key=ksh.public)
    died = {"citizen_id": cid, "death_date": "2026-10-02"}
    res = civil.notify(reference_id="mz-2026-000123", event_type="death", events=[died],
                       purpose="death registration", legal_basis="社会保险经办条例 第二十六条")
    assert res["results"][0]["status"] == "applied"
    sh_pid = world.persons["310104"]
    with sh.connect() as c:
        assert person_facts(c, [sh_pid])[sh_pid]["status"] == "deceased"

    # Shanghai passes it on to its subscriber over HTTP, signed with its own key
    out = outbound.deliver_due(sh, ksh, us="sh",
                               credentials=lambda code: (sh_at_zj_id, sh_at_zj_secret))
    assert (out.sent, out.retried, out.failed) == (1, 0, 0)
    with zj.connect() as c:
        facts = person_facts(c, [zj_pid])[zj_pid]
        assert person_id_of(c, cid) == zj_pid
    assert facts["status"] == "deceased" and facts["death_date"] == dt.date(2026, 10, 2)
    # nothing left to send; both sides keep the exchange
    assert outbound.deliver_due(sh, ksh, us="sh",
                                credentials=lambda code: (sh_at_zj_id, sh_at_zj_secret)).sent == 0
    assert [e["kind"] for e in queries.exchanges(sh, partner_code="zj", direction="out")] == \
        ["notify:death"]
    zj_in = queries.exchanges(zj, partner_code="sh", direction="in")
    assert [e["kind"] for e in zj_in] == ["notify:death"]
    # Zhejiang's stored answer verifies with Zhejiang's public key (non-repudiation)
    stored = queries.answer_of(zj, "sh", zj_in[0]["reference_id"])
    assert signing.verify(stored["signature"], kzj.public)["message"]["results"][0]["status"] \
        == "applied"
