"""Card lifecycle and the e-card on both databases: application (a case), issue, activation,
the signed QR credential verified at a counter, loss report revoking it, replacement."""
import datetime as dt

import pytest
from sqlalchemy import select

from shebao.cards import ecard, model, queries
from shebao.cards import service as cards
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.notices import outbox
from shebao.security import signing
from shebao.security.tables import audit_log

KEY = signing.load_key("ecard-service-test", "dev")


def _citizen(world, d="310101"):
    return world.users[(f"citizen-{d}", "")].actor()


def _clerk(world, d="310101"):
    return world.users[(f"collection_clerk-{d}", "")].actor()


def _active_card(engine, world, d="310101"):
    cid = cards.apply(engine, _citizen(world, d), world.persons[d])
    cards.issue(engine, _clerk(world, d), cid)
    cards.activate(engine, _citizen(world, d), cid)
    return cid


def test_application_opens_a_case_and_issue_decides_it(engine, world):
    me, pid = _citizen(world), world.persons["310101"]
    cid = cards.apply(engine, me, pid)
    card = queries.card_row(engine, cid)
    assert (card["status"], card["card_no"], card["generation"]) == ("applied", None, 3)
    case = case_queries.get(engine, card["case_id"])
    assert (case.item, case.status, case.person_id, case.channel) == \
        ("cards.application", "received", pid, "online")
    with pytest.raises(ConflictError):
        cards.apply(engine, me, pid)
    with pytest.raises(PermissionDenied):       # someone else's card
        cards.apply(engine, _citizen(world, "310104"), pid)
    with pytest.raises(PermissionDenied):       # a clerk of another district
        cards.issue(engine, _clerk(world, "310104"), cid)
    with pytest.raises(PermissionDenied):       # the citizen cannot issue
        cards.issue(engine, me, cid)
    card_no = cards.issue(engine, _clerk(world), cid)
    assert model.card_number_valid(card_no) and queries.card_row(engine, cid)["status"] == "issued"
    case = case_queries.get(engine, card["case_id"])
    assert (case.status, case.outcome) == ("decided", "granted")
    templates = [n.template for n in outbox.for_recipient(engine, "person", pid)]
    assert "case.received" in templates and "card.issued" in templates
    with pytest.raises(InvariantError, match="applied"):
        cards.issue(engine, _clerk(world), cid)


def test_ecard_verified_at_the_counter_then_revoked_by_the_loss_report(engine, world):
    cid = _active_card(engine, world)
    me, pid = _citizen(world), world.persons["310101"]
    cred = ecard.issue_credential(engine, me, KEY)
    counter = world.users[("benefits_clerk-310104", "")].actor()   # any counter verifies
    ok = ecard.verify(engine, counter, [KEY.public], cred["token"], purpose="窗口身份核验")
    assert ok["valid"] and ok["holder"]["name"] == "张伟"
    assert ok["holder"]["citizen_id"] == "310101********011X"
    assert ok["holder"]["card_no"] == queries.card_row(engine, cid)["card_no"]
    with engine.connect() as c:
        row = c.execute(select(audit_log).where(audit_log.c.action == "cards.ecard.verify")
                        ).one()
    assert (row.subject_type, row.subject_id, row.purpose) == ("person", str(pid), "窗口身份核验")
    # expired: two minutes and the leeway later
    late = ecard.verify(engine, counter, [KEY.public], cred["token"], purpose="check",
                        now=cred["expires_at"] + dt.timedelta(seconds=6))
    assert (late["valid"], late["reason"], late["holder"]) == (False, "expired", None)
    # a token signed by another key is refused whatever it says
    other = signing.SigningKey("x", signing.from_pem("x", signing.new_private_pem()).private)
    assert ecard.verify(engine, counter, [KEY.public],
                        other.sign({"typ": model.TYP}), purpose="check")["reason"] == "signature"
    # loss report: frozen at once, the credential revoked, listed for offline verifiers
    assert cards.report_loss(engine, me, cid) == 1
    revoked = ecard.verify(engine, counter, [KEY.public], cred["token"], purpose="check")
    assert (revoked["valid"], revoked["reason"]) == (False, "revoked")
    assert [r["jti"] for r in ecard.revocations(engine)] == [cred["jti"]]
    assert model.check_offline(cred["token"], [KEY.public], dt.datetime.now(dt.timezone.utc),
                               revoked={r["jti"] for r in ecard.revocations(engine)}
                               ).reason == "revoked"
    with pytest.raises(InvariantError, match="active"):
        ecard.issue_credential(engine, me, KEY)
    with pytest.raises(PermissionDenied):       # a citizen does not verify cards
        ecard.verify(engine, me, [KEY.public], cred["token"], purpose="x")


def test_replacement_after_loss_and_bank_link(engine, world):
    me, pid = _citizen(world), world.persons["310101"]
    old = _active_card(engine, world)
    with pytest.raises(ConflictError, match="report it lost"):
        cards.apply_replacement(engine, me, pid, reason="lost")
    with pytest.raises(InputError, match="12 to 30 digits"):
        cards.link_bank(engine, me, old, bank_name="中国银行", bank_account="12ab")
    cards.link_bank(engine, me, old, bank_name="中国银行", bank_account="6217 0000 1234 5678")
    assert queries.card_row(engine, old)["bank_account"] == "621700******5678"
    cards.report_loss(engine, me, old)
    new = cards.apply_replacement(engine, me, pid, reason="lost")
    row = queries.card_row(engine, new)
    assert (row["status"], row["replaces_id"]) == ("applied", old)
    assert case_queries.get(engine, row["case_id"]).item == "cards.replacement"
    cards.issue(engine, _clerk(world), new)
    assert queries.card_row(engine, old)["status"] == "replaced"
    assert queries.card_of_person(engine, pid)["id"] == new


def test_damaged_card_is_replaced_at_once_and_its_ecards_die(engine, world):
    me, pid = _citizen(world), world.persons["310101"]
    old = _active_card(engine, world)
    cred = ecard.issue_credential(engine, me, KEY)
    new = cards.apply_replacement(engine, _clerk(world), pid, reason="damaged",
                                  channel="counter")
    assert queries.card_row(engine, old)["status"] == "replaced"
    assert queries.card_row(engine, new)["status"] == "applied"
    res = ecard.verify(engine, _clerk(world), [KEY.public], cred["token"], purpose="check")
    assert res["reason"] == "revoked"
