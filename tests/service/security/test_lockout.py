"""Lockout: atomic under parallel guesses, per account and per known address with backoff,
the same answer for locked and unknown accounts (issue #11.3, review B3)."""
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shebao.core.actor import SYSTEM, Actor
from shebao.security import service as sec
from shebao.security.config import DEFAULT, load_auth_config
from shebao.security.tables import audit_log, login_throttle

PW = "Long-enough-1"
CFG = DEFAULT.with_(rate_limit_per_ip=10_000)


def _clerk(engine, name="clerk"):
    return sec.create_user(engine, SYSTEM, username=name, password=PW,
                           role="collection_clerk", scope="310101")


def _outcome(engine, username, password, ip="6.6.6.6", at=None):
    try:
        sec.login(engine, username, password, ip=ip, config=CFG, at=at)
        return "ok"
    except sec.LoginRefused:
        return "refused"
    except sec.AccountLocked:
        return "locked"


def test_forty_parallel_guesses_verify_at_most_five_and_lock_the_account(engine):
    _clerk(engine)
    with ThreadPoolExecutor(40) as ex:
        results = list(ex.map(lambda i: _outcome(engine, "clerk", f"guess-{i}-xxxxxx"),
                              range(40)))
    assert results.count("refused") <= CFG.max_failed       # verified (and wrong)
    assert results.count("refused") + results.count("locked") == 40
    with engine.connect() as c:
        verified = c.execute(select(audit_log.c.id).where(
            audit_log.c.action == "auth.login_failed")).all()
    assert len(verified) <= CFG.max_failed
    assert _outcome(engine, "clerk", PW) == "locked"         # even the right password


def test_locked_and_unknown_accounts_answer_the_same(engine):
    _clerk(engine)
    answers = {}
    for name in ("clerk", "ghost"):
        for _ in range(CFG.max_failed):
            assert _outcome(engine, name, "wrong-password-1") == "refused"
        with pytest.raises(sec.AccountLocked) as e:
            sec.login(engine, name, "wrong-password-1", ip="6.6.6.6", config=CFG)
        answers[name] = (type(e.value), str(e.value).split(" until ")[0])
    assert answers["clerk"] == answers["ghost"]


def test_a_stranger_cannot_lock_the_owner_out_of_their_usual_address(engine):
    _clerk(engine)
    assert _outcome(engine, "clerk", PW, ip="10.0.0.1") == "ok"        # the owner's desk
    for _ in range(CFG.max_failed):
        _outcome(engine, "clerk", "wrong-password-1", ip="6.6.6.6")    # a stranger
    assert _outcome(engine, "clerk", PW, ip="6.6.6.6") == "locked"
    assert _outcome(engine, "clerk", PW, ip="10.0.0.9") == "locked"    # a new address too
    assert _outcome(engine, "clerk", PW, ip="10.0.0.1") == "ok"        # the owner still gets in
    # a stranger at the owner's address meets the same limit there
    for _ in range(CFG.max_failed):
        assert _outcome(engine, "clerk", "wrong-password-1", ip="10.0.0.1") == "refused"
    assert _outcome(engine, "clerk", PW, ip="10.0.0.1") == "locked"


def test_repeated_locks_back_off_exponentially_and_an_administrator_unlocks(engine):
    u = _clerk(engine)
    t0 = sec.now()
    for _ in range(CFG.max_failed):
        _outcome(engine, "clerk", "wrong-password-1", at=t0)
    t1 = t0 + CFG.lock + dt.timedelta(seconds=1)            # first lock over
    for _ in range(CFG.max_failed):
        assert _outcome(engine, "clerk", "wrong-password-1", at=t1) == "refused"
    with engine.connect() as c:
        until = sec.utc(c.execute(select(login_throttle.c.locked_until).where(
            login_throttle.c.ip == "")).scalar_one())
    assert until - t1 == 2 * CFG.lock                        # the second lock lasts twice as long
    assert _outcome(engine, "clerk", PW, at=t1 + CFG.lock + dt.timedelta(seconds=1)) == "locked"
    sec.unlock(engine, Actor("adm", "administrator", "310100"), u.id)
    assert _outcome(engine, "clerk", PW, at=t1) == "ok"
    with engine.connect() as c:
        assert c.execute(select(audit_log.c.actor).where(
            audit_log.c.action == "user.unlock")).scalar_one() == "adm"


def test_authenticate_is_the_public_door_without_a_session(engine):
    _clerk(engine)
    user = sec.authenticate(engine, "clerk", PW, client="cli:alice@host", config=CFG)
    assert user.username == "clerk"
    with pytest.raises(sec.LoginRefused):
        sec.authenticate(engine, "clerk", "wrong-password-1", client="cli:alice@host",
                         config=CFG)


def test_thresholds_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("SHEBAO_LOGIN_MAX_FAILED", "3")
    monkeypatch.setenv("SHEBAO_LOGIN_LOCK_SECONDS", "60")
    c = load_auth_config()
    assert c.max_failed == 3 and c.lock == dt.timedelta(seconds=60)
    assert c.lock_for(2) == dt.timedelta(seconds=240) and c.lock_for(40) == c.lock_max


def test_attempts_on_a_locked_account_do_not_flood_the_audit_log(engine):
    # Probe: every attempt on a locked account appended an audit row (audit flooding). The
    # locking failure and the first refusal per lock window are audited; later refusals are
    # only counted (login_throttle.failures of the account lane).
    user = _clerk(engine)
    for _ in range(CFG.max_failed):
        assert _outcome(engine, "clerk", "wrong-password-1") == "refused"

    def audit_rows():
        with engine.connect() as c:
            return [r.action for r in c.execute(select(audit_log.c.action).where(
                audit_log.c.subject_id == str(user.id)).order_by(audit_log.c.id))]
    before = audit_rows()
    assert "auth.login_locked" in before
    for i in range(50):
        assert _outcome(engine, "clerk", PW, ip=f"7.7.{i}.1") == "locked"
    added = audit_rows()[len(before):]
    assert added == ["auth.login_refused"]
    with engine.connect() as c:
        counted = c.execute(select(login_throttle.c.failures).where(
            login_throttle.c.username == "clerk", login_throttle.c.ip == "")).scalar_one()
    assert counted == 50
    sec.unlock(engine, SYSTEM, user.id)
    assert audit_rows()[-1] == "user.unlock"
