"""Partner exchange on both databases: credentials, signed envelopes, search with scopes and
pagination, idempotent reference ids, inbound deaths and wage data, subscriptions."""
import datetime as dt
import json

import pytest
from sqlalchemy import select

from shebao.collection import declarations
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.registry import service as registry
from shebao.security import signing
from shebao.security.lockout import LoginRefused
from shebao.security.tables import audit_log
from shebao.sharing import outbound, partners, queries, service

ADMIN = Actor(id="admin", role="administrator")
US = signing.load_key("sharing-test-us", "dev")
THEM = signing.load_key("sharing-test-them", "dev")


def _partner(engine, scopes, code="tax-sh", region="310000", kind="tax"):
    pid, cid, secret = partners.register(engine, ADMIN, code=code, name="上海市税务局", kind=kind,
                                         region=region, scopes=scopes,
                                         public_key=THEM.public.x)
    tok, _ = partners.issue_token(engine, cid, secret)
    return partners.authenticate(engine, tok)


def _send(engine, p, action, message, key=THEM):
    env = service.envelope(key, action, p.code, "shebao", message)
    return service.receive(engine, p, US, env, us="shebao")


def _search(ref, cid, items=("identity", "status"), **kw):
    return {"reference_id": ref, "purpose": "pension eligibility check",
            "legal_basis": "社会保险法 第七十五条", "query_type": "id",
            "query": {"citizen_id": cid}, "items": list(items), **kw}


def test_credentials_are_hashed_and_tokens_checked(engine):
    pid, cid, secret = partners.register(engine, ADMIN, code="hz-inst", name="杭州", region="330100",
                                         kind="installation", scopes=["search", "item:status"])
    with engine.connect() as c:
        from shebao.sharing.tables import partner
        stored = c.execute(select(partner.c.secret_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and secret not in stored
    with pytest.raises(LoginRefused):
        partners.issue_token(engine, cid, secret + "x")
    tok, expires = partners.issue_token(engine, cid, secret)
    assert partners.authenticate(engine, tok).code == "hz-inst"
    partners.set_status(engine, ADMIN, "hz-inst", "suspended")
    with pytest.raises(LoginRefused):
        partners.authenticate(engine, tok)
    with pytest.raises(PermissionDenied):
        partners.register(engine, Actor(id="c", role="collection_clerk", scope="310000"),
                          code="x1", name="x", kind="tax", region="310000", scopes=[])


def test_search_by_id_signed_scoped_idempotent_and_audited(engine, world):
    p = _partner(engine, ["search", "item:identity", "item:status"])
    cid = world.citizen_ids["310101"]
    answer = _send(engine, p, "search", _search("r-1", cid))
    # our answer is signed with our key and names the person asked for
    assert signing.verify(answer["signature"], US.public)["message"] == answer["message"]
    rec = answer["message"]["records"]
    assert rec == [{"name": "张伟", "citizen_id": cid, "sex": rec[0]["sex"],
                    "birth_date": "1966-03-14", "status": "active", "death_date": None}]
    # the same reference id again: the stored answer, byte for byte; nothing read twice
    with engine.connect() as c:
        n_audit = len(c.execute(select(audit_log.c.id)).all())
    again = _send(engine, p, "search", _search("r-1", cid))
    assert again == answer
    with engine.connect() as c:
        assert len(c.execute(select(audit_log.c.id)).all()) == n_audit
        row = c.execute(select(audit_log).where(audit_log.c.action == "sharing.search")).one()
    assert row.actor == "partner:tax-sh" and row.purpose == "pension eligibility check"
    assert row.subject_id == str(world.persons["310101"])
    assert "社会保险法" in row.detail
    # the same reference id with other content is a conflict
    with pytest.raises(ConflictError):
        _send(engine, p, "search", _search("r-1", world.citizen_ids["310104"]))
    # an item outside the partner's scopes is refused, naming the scope
    with pytest.raises(PermissionDenied, match="item:enrolments"):
        _send(engine, p, "search", _search("r-2", cid, items=["enrolments"]))
    # no legal basis and no consent: refused
    with pytest.raises(InputError, match="legal_basis"):
        _send(engine, p, "search", {**_search("r-3", cid), "legal_basis": None})
    # a message signed by another key than the partner's is refused
    with pytest.raises(PermissionDenied, match="signature"):
        _send(engine, p, "search", _search("r-4", cid), key=US)
    assert len(queries.exchanges(engine, partner_code="tax-sh")) == 1


def test_region_scope_hides_persons_outside_it(engine, world):
    p = _partner(engine, ["search", "item:status"], code="xh-only", region="310104")
    answer = _send(engine, p, "search", _search("q1", world.citizen_ids["310101"],
                                                 items=["status"]))
    assert answer["message"]["records"] == []
    answer = _send(engine, p, "search", _search("q2", world.citizen_ids["310104"],
                                                 items=["status"]))
    assert answer["message"]["records"] == [{"status": "active", "death_date": None}]


def test_demographic_search_pages_with_a_cursor(engine, world):
    p = _partner(engine, ["search", "search:demographic", "item:identity"],
                 code="ps-sh", kind="public_security")
    born = dt.date(1980, 5, 6)
    ids = []
    for seq in range(3):
        from tests.service.benefits.conftest import citizen_id
        ids.append(registry.register_person(engine, ADMIN.__class__(
            id="reg", role="system"), citizen_id=citizen_id(born, 100 + seq, True), name="王芳",
            pension_region="310101"))
    msg = {"reference_id": "d-1", "purpose": "identity check", "consent": {"ref": "C-77"},
           "query_type": "demographic", "query": {"name": "王芳", "birth_date": "1980-05-06"},
           "items": ["identity"], "pagination": {"page_size": 2}}
    first = _send(engine, p, "search", msg)["message"]
    assert first["pagination"]["count"] == 2 and first["pagination"]["next_cursor"]
    second = _send(engine, p, "search", {**msg, "reference_id": "d-2", "pagination": {
        "page_size": 2, "cursor": first["pagination"]["next_cursor"]}})["message"]
    assert second["pagination"] == {"page_size": 2, "next_cursor": None, "count": 1}
    seen = [r["citizen_id"] for r in first["records"] + second["records"]]
    assert len(set(seen)) == 3
    with pytest.raises(InputError, match="page_size"):
        _send(engine, p, "search", {**msg, "reference_id": "d-3",
                                    "pagination": {"page_size": 1000}})


def test_death_notice_records_death_and_is_passed_to_subscribers(engine, world):
    civil = _partner(engine, ["notify:death"], code="civil-sh", kind="civil_affairs")
    hz = _partner(engine, ["subscribe:death"], code="hz-inst", kind="installation",
                  region="national")
    sub = _send(engine, hz, "subscribe", {"reference_id": "s-1", "event_type": "death",
                                          "region": "310000"})["message"]
    assert sub["status"] == "succ" and sub["subscription_id"]
    cid = world.citizen_ids["310104"]
    msg = {"reference_id": "death-1", "event_type": "death", "purpose": "death registration",
           "legal_basis": "社会保险经办条例 第二十六条",
           "events": [{"citizen_id": cid, "death_date": "2026-10-02"},
                      {"citizen_id": "310101190001010010", "death_date": "2026-10-02"},
                      {"citizen_id": cid, "death_date": "not a date"}]}
    res = _send(engine, civil, "notify", msg)["message"]["results"]
    assert [r["status"] for r in res] == ["applied", "unknown_person", "rejected"]
    with engine.connect() as c:
        from shebao.registry.queries import person_facts
        facts = person_facts(c, [world.persons["310104"]])[world.persons["310104"]]
    assert facts["status"] == "deceased" and facts["death_date"] == dt.date(2026, 10, 2)
    # one delivery waits for the subscriber, with our own reference id
    waiting = outbound.pending(engine)
    assert len(waiting) == 1 and waiting[0]["event_type"] == "death"
    assert json.loads(waiting[0]["payload"])["events"] == [{"citizen_id": cid,
                                                            "death_date": "2026-10-02"}]
    # the notice repeated (a retry after a lost answer): nothing done twice
    assert _send(engine, civil, "notify", msg)["message"]["results"] == res
    assert len(outbound.pending(engine)) == 1


def test_tax_wage_data_becomes_a_base_declaration(engine, world):
    from shebao.registry.queries import employer_id_of  # noqa: F401 - the owner's query
    tax = _partner(engine, ["notify:wage"])
    with engine.connect() as c:
        from shebao.registry.tables import employer
        uscc = c.execute(select(employer.c.uscc).where(
            employer.c.id == world.employers["310101"])).scalar_one()
    msg = {"reference_id": "w-2025", "event_type": "wage", "purpose": "annual wage data",
           "legal_basis": "社会保险费征缴 (税务征收) 数据共享",
           "events": [{"citizen_id": world.citizen_ids["310101"], "uscc": uscc, "year": 2025,
                       "wage_fen": 1_500_000}]}
    res = _send(engine, tax, "notify", msg)["message"]["results"]
    assert res[0]["status"] == "applied" and res[0]["base_fen"] == 1_500_000
    decl = declarations.declarations(engine, ADMIN.__class__(id="s", role="system"),
                                     world.persons["310101"])
    assert [(d["source"], d["wage"], d["current"]) for d in decl if d["year"] == 2025][0] == \
        ("partner:tax-sh", "15000.00", True)



def test_death_notice_stops_the_pension_from_the_month_after(engine, world):
    from shebao.benefits import determination as det
    from shebao.benefits import payroll
    clerk2 = world.users[("benefits_clerk-2-310104", "")].actor()
    det.approve_case(engine, clerk2, world.cases["310104"])
    runner = world.users[("benefits_clerk-310104", "")].actor()
    civil = _partner(engine, ["notify:death"], code="civil-sh", kind="civil_affairs")
    res = _send(engine, civil, "notify", {
        "reference_id": "death-9", "event_type": "death", "purpose": "death registration",
        "legal_basis": "社会保险经办条例 第二十六条",
        "events": [{"citizen_id": world.citizen_ids["pensioner"],
                    "death_date": "2026-11-20"}]})["message"]["results"]
    assert res[0]["status"] == "applied"
    with engine.connect() as c:
        audit_rows = c.execute(select(audit_log.c.action).where(
            audit_log.c.actor == "partner:civil-sh")).scalars().all()
    assert "registry.person.death" in audit_rows and "benefit.award.stop" in audit_rows
    # died in November: November is still paid, December is not
    assert payroll.run(engine, runner, "310104", dt.date(2026, 11, 1)).n_payments == 1
    assert payroll.run(engine, runner, "310104", dt.date(2026, 12, 1)).n_payments == 0


def test_birth_and_hukou_move_notices_change_the_registry(engine, world):
    from tests.service.benefits.conftest import citizen_id
    from shebao.registry.queries import person_id_of
    ps = _partner(engine, ["notify:birth", "notify:hukou_move"], code="ps-sh",
                  kind="public_security")
    baby = citizen_id(dt.date(2026, 9, 1), 20, False)
    res = _send(engine, ps, "notify", {
        "reference_id": "b-1", "event_type": "birth", "purpose": "hukou registration",
        "legal_basis": "户口登记条例 第七条",
        "events": [{"citizen_id": baby, "name": "张小满", "hukou_region": "310101"},
                   {"citizen_id": world.citizen_ids["310101"], "name": "张伟",
                    "hukou_region": "310101"}]})["message"]["results"]
    assert [r["status"] for r in res] == ["applied", "already_recorded"]
    with engine.connect() as c:
        pid = person_id_of(c, baby)
    assert registry.get_person(engine, ADMIN, pid, purpose="test")["hukou_region"] == "310101"
    moved = _send(engine, ps, "notify", {
        "reference_id": "h-1", "event_type": "hukou_move", "purpose": "hukou move",
        "legal_basis": "户口登记条例 第十条",
        "events": [{"citizen_id": baby, "hukou_region": "310104",
                    "moved_on": dt.date.today().isoformat()}]})
    assert moved["message"]["results"][0]["status"] == "applied"
    assert registry.get_person(engine, ADMIN, pid, purpose="test")["hukou_region"] == "310104"


def test_undeliverable_notice_backs_off_then_fails_for_a_clerk(engine, world):
    import socket
    with socket.socket() as s:       # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    partners.register(engine, ADMIN, code="gone", name="gone", kind="installation",
                                  region="national", scopes=["subscribe:death"],
                                  public_key=THEM.public.x, base_url=dead)
    civil = _partner(engine, ["notify:death"], code="civil-sh", kind="civil_affairs")
    sub_owner = partners.by_code(engine, "gone")
    from shebao.sharing import handlers
    with engine.begin() as conn:
        handlers.subscribe(conn, sub_owner, {"reference_id": "s", "event_type": "death",
                                             "region": "310000"})
    _send(engine, civil, "notify", {
        "reference_id": "d-x", "event_type": "death", "purpose": "p", "legal_basis": "l",
        "events": [{"citizen_id": world.citizen_ids["310101"], "death_date": "2026-10-02"}]})
    creds = lambda code: ("id", "secret")  # noqa: E731
    t = dt.datetime.now(dt.timezone.utc)
    first = outbound.deliver_due(engine, US, us="sh", credentials=creds, now=t)
    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    # not due again before the backoff (30 s), then 60 s, 120 s, … until the 8th attempt
    assert outbound.deliver_due(engine, US, us="sh", credentials=creds,
                                now=t + dt.timedelta(seconds=29)).retried == 0
    waited, total = 30, 0
    for attempt in range(2, 9):
        r = outbound.deliver_due(engine, US, us="sh", credentials=creds,
                                 now=t + dt.timedelta(seconds=waited + total))
        total += waited
        waited *= 2
        assert (r.retried, r.failed) == ((1, 0) if attempt < 8 else (0, 1))
    [d] = outbound.pending(engine)
    assert (d["status"], d["attempts"]) == ("failed", 8) and "unreachable" in d["last_error"]
    with engine.connect() as c:
        assert c.execute(select(audit_log.c.id).where(
            audit_log.c.action == "sharing.delivery.failed")).first() is not None
