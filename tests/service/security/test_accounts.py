import datetime as dt

import pytest
from sqlalchemy import select, update

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.security import service as sec
from shebao.devtools.demo_users import seed_demo_users
from shebao.security.config import DEFAULT
from shebao.security.tables import audit_log, login_attempts, sessions, users

PW = "Long-enough-1"


def _user(engine, name="clerk", role="collection_clerk", scope="310101", **kw):
    return sec.create_user(engine, SYSTEM, username=name, password=PW, role=role, scope=scope,
                           **kw)


def test_password_stored_as_argon2id_and_creation_audited(engine):
    u = _user(engine)
    with engine.connect() as c:
        h = c.execute(select(users.c.password_hash).where(users.c.id == u.id)).scalar_one()
        a = c.execute(select(audit_log).where(audit_log.c.action == "user.create")).one()
    assert h.startswith("$argon2id$") and PW not in h
    assert a.subject_id == str(u.id) and a.actor == "system"


def test_bad_account_input_names_the_field(engine):
    with pytest.raises(InputError) as e:
        _user(engine, role="superuser")
    assert e.value.field == "role"
    with pytest.raises(InputError) as e:
        _user(engine, scope="31010")
    assert e.value.field == "scope"
    with pytest.raises(InputError) as e:
        sec.create_user(engine, SYSTEM, username="c", password="short", role="citizen",
                        person_id=1)
    assert e.value.field == "password"
    with pytest.raises(InputError) as e:
        sec.create_user(engine, SYSTEM, username="c", password=PW, role="citizen")
    assert e.value.field == "person_id"
    _user(engine)
    with pytest.raises(ConflictError):
        _user(engine)
    with engine.connect() as c:   # nothing half-saved: exactly the one good account
        assert c.execute(select(users.c.username)).scalars().all() == ["clerk"]


def test_only_administrators_create_accounts_and_only_inside_their_scope(engine):
    admin = Actor("adm", "administrator", "310100")
    sec.create_user(engine, admin, username="a1", password=PW, role="inspector", scope="310104")
    with pytest.raises(PermissionDenied):
        sec.create_user(engine, admin, username="a2", password=PW, role="inspector",
                        scope="320100")
    with pytest.raises(PermissionDenied):
        sec.create_user(engine, Actor("c", "collection_clerk", "310101"), username="a3",
                        password=PW, role="inspector", scope="310101")


def test_login_creates_a_session_that_logout_revokes(engine):
    u = _user(engine)
    token, user = sec.login(engine, "clerk", PW, ip="1.2.3.4")
    assert user.id == u.id and sec.session_user(engine, token).username == "clerk"
    with engine.connect() as c:   # only a digest of the token is stored
        stored = c.execute(select(sessions.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    sec.logout(engine, token)
    assert sec.session_user(engine, token) is None


def test_expired_session_is_refused(engine):
    _user(engine)
    token, _ = sec.login(engine, "clerk", PW)
    with engine.begin() as c:
        c.execute(update(sessions).values(expires_at=sec.now() - dt.timedelta(seconds=1)))
    assert sec.session_user(engine, token) is None


def test_api_and_web_tokens_are_not_interchangeable(engine):
    _user(engine)
    token, _ = sec.login(engine, "clerk", PW, kind="api")
    assert sec.session_user(engine, token, kind="api") is not None
    assert sec.session_user(engine, token, kind="web") is None


def test_lockout_after_five_failures_even_with_the_right_password(engine):
    _user(engine)
    for _ in range(5):
        with pytest.raises(sec.LoginRefused):
            sec.login(engine, "clerk", "wrong-password-1")
    with pytest.raises(sec.AccountLocked):
        sec.login(engine, "clerk", PW)
    with engine.connect() as c:
        actions = c.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions.count("auth.login_failed") == 5 and "auth.login_locked" in actions


def test_lock_expires(engine):
    _user(engine)
    for _ in range(5):
        with pytest.raises(sec.LoginRefused):
            sec.login(engine, "clerk", "wrong-password-1")
    later = sec.now() + DEFAULT.lock + dt.timedelta(seconds=1)
    token, _ = sec.login(engine, "clerk", PW, at=later)
    assert token


def test_success_resets_the_failure_count(engine):
    _user(engine)
    for _ in range(4):
        with pytest.raises(sec.LoginRefused):
            sec.login(engine, "clerk", "wrong-password-1")
    sec.login(engine, "clerk", PW)
    for _ in range(4):
        with pytest.raises(sec.LoginRefused):
            sec.login(engine, "clerk", "wrong-password-1")
    assert sec.login(engine, "clerk", PW)[0]


def test_rate_limit_per_address_covers_unknown_usernames(engine):
    for i in range(3):
        with pytest.raises(sec.LoginRefused):
            sec.login(engine, f"nobody{i}", "whatever-123", ip="9.9.9.9", rate_limit=3)
    with pytest.raises(sec.RateLimited):
        sec.login(engine, "nobody", "whatever-123", ip="9.9.9.9", rate_limit=3)
    # another address is not affected
    with pytest.raises(sec.LoginRefused):
        sec.login(engine, "nobody", "whatever-123", ip="8.8.8.8", rate_limit=3)
    with engine.connect() as c:
        assert c.execute(select(login_attempts.c.id)).all().__len__() == 5


def test_disabled_account_cannot_sign_in(engine):
    _user(engine)
    with engine.begin() as c:
        c.execute(update(users).values(active=False))
    with pytest.raises(sec.LoginRefused):
        sec.login(engine, "clerk", PW)


def test_password_change_revokes_sessions(engine):
    u = _user(engine)
    token, _ = sec.login(engine, "clerk", PW)
    sec.set_password(engine, u.actor(), u.id, "Another-pass-2")
    assert sec.session_user(engine, token) is None
    assert sec.login(engine, "clerk", "Another-pass-2")[0]


def test_demo_users_get_fresh_printed_passwords(engine):
    lines = []
    first = seed_demo_users(engine, region="310104", person_id=1, employer_id=2,
                            out=lines.append)
    again = seed_demo_users(engine, region="310104", person_id=1, employer_id=2, out=None)
    assert {d.role for d in first} == {"collection_clerk", "benefits_clerk", "inspector",
                                       "administrator", "citizen", "employer"}
    assert all(d.password in "\n".join(lines) for d in first)
    assert all(a.password != b.password for a, b in zip(first, again))
    maker = next(d for d in again if d.username == "maker")
    assert sec.login(engine, "maker", maker.password)[1].scope == "310104"
    with pytest.raises(sec.LoginRefused):
        sec.login(engine, "checker", next(d for d in first if d.username == "checker").password)
