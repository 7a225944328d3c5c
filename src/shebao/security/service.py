"""Accounts, logins and sessions — one audited action per function.

- ``create_user(engine, actor, username=, password=, role=, scope=, ...)``: an administrator (or
  the system, for the demo) creates an account; the password is stored as an argon2id hash.
- ``authenticate(engine, username, password, client=)``: check a username and password with the
  whole lockout machinery and return the ``User``, without starting a session. This is the one
  public door for any channel that authenticates a person (the CLI included).
- ``login(engine, username, password, ip=, kind="web"|"api")``: ``authenticate`` plus a new
  session; returns ``(token, user)``.
- ``session_user(engine, token)``: the account behind a live session token, or None.
- ``logout(engine, token)``: revokes the session.
- Administrator actions (permission ``user.manage``, inside the administrator's scope, each
  audited): ``unlock``, ``reset_password`` (a temporary password that must be changed at the
  next sign-in), ``set_active`` (deactivate / reactivate), ``end_sessions``.

Lockout (settings in ``security/config.py``). Failed sign-ins are counted per *lane* in the
``login_throttle`` table, one atomic upsert per attempt (``failures = failures + 1 …
RETURNING``) *before* the password is checked, so N parallel guesses get N distinct counts and
at most ``max_failed`` of them are ever verified. The lanes:

- the account's own lane (keyed by the username as typed, whether or not it exists): after
  ``max_failed`` failures it locks for ``lock``, doubling with every further lock up to
  ``lock_max`` (exponential backoff), until a success or an administrator's ``unlock``;
- an address lane per (username, client address), used only while the account lane is locked
  and only from an address where this account signed in successfully within
  ``known_address``: the owner at their usual desk still gets in while a stranger elsewhere
  has locked the account, and a stranger *at* that address meets the same limit and backoff.

A locked lane and an unknown username answer the same way (``AccountLocked``, same message,
after the same dummy argon2 check): the answers do not tell which accounts exist. On top, each
client address may try ``rate_limit_per_ip`` sign-ins per ``rate_window`` (``RateLimited``).
Audit: each verified failure, the one that locks, and the first refusal of a lock window
(``auth.login_refused``); later refusals are only counted in the lane, so guessing against a
locked account cannot flood the audit chain.

Sessions: 256-bit random tokens, only their SHA-256 stored. A session ends at its absolute
lifetime (``lifetime[kind]``) or after ``idle`` without use; ``last_seen_at`` is written at
most once per ``touch_every`` so a page view is not a database write.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine

from shebao.core import regions
from shebao.core.actor import Actor, SYSTEM
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.uow import now, single_read

from . import audit, duties, lockout, passwords, policy
from .config import DEFAULT, AuthConfig
from .lockout import AccountLocked, LoginRefused, RateLimited, utc
from .tables import login_attempts, login_throttle, sessions, users

# kept for callers that read the defaults (the web app shows the lifetime as cookie max-age)
SESSION_TTL = DEFAULT.lifetime


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    scope: str
    person_id: int | None
    employer_id: int | None
    display_name: str
    active: bool
    must_change_password: bool = False

    def actor(self) -> Actor:
        return Actor(id=self.username, role=self.role, scope=self.scope,
                     person_id=self.person_id, employer_id=self.employer_id)


def _user(row) -> User:
    return User(row.id, row.username, row.role, row.scope, row.person_id, row.employer_id,
                row.display_name, row.active, bool(row.must_change_password))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _check_username(username) -> str:
    if not isinstance(username, str) or not username.strip():
        raise InputError("username is required", field="username")
    u = username.strip()
    if len(u) > 64 or not all(c.isalnum() or c in "._-@" for c in u):
        raise InputError("use at most 64 letters, digits and . _ - @", field="username")
    return u


def _check_password(password: str, username: str | None) -> None:
    problem = passwords.password_problem(password, username)
    if problem:
        raise InputError(f"password {problem}", field="password")


def create_user(engine: Engine | Connection, actor: Actor, *, username: str, password: str,
                role: str, scope: str = regions.NATIONAL, display_name: str | None = None,
                person_id: int | None = None, employer_id: int | None = None) -> User:
    """Create an account. Staff accounts need a region scope; citizens a person, employers a firm.
    The creator is recorded (``created_by``); separation of duties (``duties.py``) refuses an
    account that would let its creator control both halves of a four-eyes decision."""
    if actor.role != "system":
        policy.require(actor, "user.manage")
    username = _check_username(username)
    if role not in policy.ACCOUNT_ROLES:
        raise InputError(f"unknown role {role!r}; one of {', '.join(policy.ACCOUNT_ROLES)}",
                         field="role")
    if not isinstance(scope, str) or not regions.is_region_code(scope):
        raise InputError("not a GB/T 2260 region code (six digits) or 'national'", field="scope")
    if actor.role != "system" and not regions.within(scope, actor.scope):
        raise PermissionDenied(f"{actor.id} may not create accounts outside {actor.scope}")
    if role == "citizen" and person_id is None:
        raise InputError("a citizen account needs the person it belongs to", field="person_id")
    if role == "employer" and employer_id is None:
        raise InputError("an employer account needs its employer", field="employer_id")
    _check_password(password, username)
    pw_hash = passwords.hash_password(password)
    t = now()
    with _begin(engine) as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise ConflictError(f"username {username!r} is taken")
        duties.check_grant(conn, actor, username, role, scope)
        uid = conn.execute(insert(users).values(
            username=username, password_hash=pw_hash, role=role, scope=scope,
            person_id=person_id, employer_id=employer_id,
            display_name=(display_name or username)[:100], active=True,
            created_at=t, password_changed_at=t, must_change_password=False,
            created_by=actor.id,
        ).returning(users.c.id)).scalar_one()
        audit.record(conn, actor, "user.create", "user", uid, fields=["username", "role", "scope"],
                     detail={"username": username, "role": role, "scope": scope})
        row = conn.execute(select(users).where(users.c.id == uid)).one()
    return _user(row)


class _begin:
    """``with _begin(engine_or_conn) as conn``: a new transaction, or the caller's connection."""

    def __init__(self, target):
        self.target, self.ctx = target, None

    def __enter__(self) -> Connection:
        if isinstance(self.target, Connection):
            return self.target
        self.ctx = self.target.begin()
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            return self.ctx.__exit__(*exc)
        return False


def get_user(engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def get_user_by_username(engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    return _user(row) if row else None


def _new_session(conn: Connection, user_id: int, kind: str, ip: str | None,
                 at: dt.datetime, config: AuthConfig) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(insert(sessions).values(token_hash=_hash_token(token), user_id=user_id,
                                         kind=kind, created_at=at, last_seen_at=at,
                                         expires_at=at + config.lifetime[kind], ip=ip))
    return token


def start_session(engine, user: User, *, kind: str = "web", ip: str | None = None,
                  config: AuthConfig = DEFAULT, at: dt.datetime | None = None) -> str:
    """A session for an already-authenticated user (tests, the demo seeding, API tokens)."""
    at = at or now()
    with engine.begin() as conn:
        token = _new_session(conn, user.id, kind, ip, at, config)
        audit.record(conn, user.actor(), "auth.session", "user", user.id, detail={"kind": kind})
    return token


def _config(config: AuthConfig | None, rate_limit: int | None, max_failed: int | None
            ) -> AuthConfig:
    return (config or DEFAULT).with_(rate_limit_per_ip=rate_limit, max_failed=max_failed)


def _credentials(username, password) -> str:
    uname = (username or "").strip()[:64] if isinstance(username, str) else ""
    if not uname:
        raise InputError("username is required", field="username")
    if not isinstance(password, str) or not password:
        raise InputError("password is required", field="password")
    return uname


def _authenticate(engine, uname: str, password: str, ip: str, at: dt.datetime,
                  config: AuthConfig, on_success=None):
    """The checks shared by ``authenticate`` and ``login``; ``on_success(conn, row)`` runs in
    the transaction that records the successful attempt."""
    lockout.check_rate(engine, uname, ip, at, config)
    lane, refused = lockout.claim(engine, uname, ip, at, config)
    if lane is None:
        passwords.dummy_verify(password)          # same cost as a real check
        with engine.begin() as conn:
            conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=at, ok=False))
            if refused == 1:                      # later refusals are counted, not audited
                row = conn.execute(select(users.c.id, users.c.username, users.c.role,
                                          users.c.scope).where(users.c.username == uname)).first()
                if row is not None:
                    audit.record(conn, _anon(row), "auth.login_refused", "user", row.id,
                                 detail={"ip": ip, "reason": "locked"})
        raise AccountLocked(lockout.lock_until(engine, uname, at, config))
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == uname)).first()
    if row is not None:
        ok = passwords.verify_password(row.password_hash, password)
    else:
        passwords.dummy_verify(password)
        ok = False
    ok = ok and row is not None and row.active
    result = None
    with engine.begin() as conn:
        conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=at, ok=ok))
        if not ok:
            until = lockout.fail(conn, uname, lane, at, config)
            if row is not None:
                audit.record(conn, _anon(row), "auth.login_failed", "user", row.id,
                             detail={"ip": ip, "locked": until is not None})
                if until is not None:
                    audit.record(conn, _anon(row), "auth.login_locked", "user", row.id,
                                 detail={"ip": ip, "lane": "account" if not lane.ip else "address",
                                         "until": until.isoformat()})
        else:
            lockout.succeed(conn, uname, lane, at)
            if passwords.needs_rehash(row.password_hash):
                conn.execute(update(users).where(users.c.id == row.id).values(
                    password_hash=passwords.hash_password(password)))
            if on_success is not None:
                result = on_success(conn, row)
    if not ok:
        raise LoginRefused("wrong username or password")
    return row, result


def authenticate(engine: Engine, username: str, password: str, *, client: str = "unknown",
                 config: AuthConfig | None = None, at: dt.datetime | None = None) -> User:
    """Check a username and password; returns the ``User`` (no session is started).

    The public door for every channel that authenticates a person, the CLI included
    (``client`` names where the attempt comes from, e.g. ``"cli:<os user>@<host>"`` or an IP
    address; it is the address lane of the lockout). The same per-address rate limit,
    account lockout with backoff and audit as a web sign-in apply. Raises ``RateLimited``,
    ``AccountLocked`` or ``LoginRefused`` (deliberately vague)."""
    config = config or DEFAULT
    at = at or now()
    uname = _credentials(username, password)

    def audited(conn, row):
        audit.record(conn, _user(row).actor(), "auth.authenticate", "user", row.id,
                     detail={"client": client})

    row, _ = _authenticate(engine, uname, password, client, at, config, audited)
    return _user(row)


def login(engine: Engine, username: str, password: str, *, ip: str = "unknown",
          kind: str = "web", rate_limit: int | None = None, max_failed: int | None = None,
          config: AuthConfig | None = None, at: dt.datetime | None = None
          ) -> tuple[str, User]:
    """Authenticate and start a session; returns (session token, user). Raises RateLimited,
    AccountLocked, LoginRefused. Every attempt is recorded (login_attempts) and audited."""
    config = _config(config, rate_limit, max_failed)
    if kind not in config.lifetime:
        raise InputError("kind must be web or api", field="kind")
    at = at or now()
    uname = _credentials(username, password)

    def session(conn, row):
        token = _new_session(conn, row.id, kind, ip, at, config)
        audit.record(conn, _user(row).actor(), "auth.login", "user", row.id,
                     detail={"ip": ip, "kind": kind})
        return token

    row, token = _authenticate(engine, uname, password, ip, at, config, session)
    return token, _user(row)


def _anon(row) -> Actor:
    """The actor of a failed login: not authenticated, named by the account it tried."""
    return Actor(id=f"login:{row.username}"[:64], role=row.role if row.role else "system",
                 scope=row.scope)


# every request asks this: the statement is built once (and its compiled form kept with it)
_SESSION_USER = (select(users, sessions.c.id.label("session_id"), sessions.c.expires_at,
                        sessions.c.revoked_at, sessions.c.kind,
                        sessions.c.created_at.label("s_at"), sessions.c.last_seen_at)
                 .join(sessions, sessions.c.user_id == users.c.id)
                 .where(sessions.c.token_hash == bindparam("token_hash")))


def session_user(engine, token: str | None, *, kind: str | None = None,
                 config: AuthConfig | None = None, at: dt.datetime | None = None
                 ) -> User | None:
    """The account behind a live session: not revoked, within its absolute lifetime, used
    within the idle timeout, the account active. Marks the session as seen (at most once per
    ``touch_every``)."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    config = config or DEFAULT
    at = at or now()
    with single_read(engine) as conn:     # one statement: no BEGIN/ROLLBACK around it
        row = conn.execute(_SESSION_USER, {"token_hash": _hash_token(token)}).first()
    if row is None or row.revoked_at is not None or utc(row.expires_at) <= at:
        return None
    if kind is not None and row.kind != kind:
        return None
    if not row.active:
        return None
    seen = utc(row.last_seen_at) or utc(row.s_at)
    if at - seen > config.idle:
        return None
    if at - seen >= config.touch_every:
        with engine.begin() as conn:
            conn.execute(update(sessions).where(and_(
                sessions.c.id == row.session_id, sessions.c.revoked_at.is_(None)))
                .values(last_seen_at=at))
    return _user(row)


def logout(engine, token: str | None) -> None:
    user = session_user(engine, token)
    if user is None:
        return
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.token_hash == _hash_token(token))
                     .values(revoked_at=now()))
        audit.record(conn, user.actor(), "auth.logout", "user", user.id)


def _revoke_all(conn: Connection, user_id: int, at: dt.datetime) -> int:
    return conn.execute(update(sessions).where(and_(sessions.c.user_id == user_id,
                                                    sessions.c.revoked_at.is_(None)))
                        .values(revoked_at=at)).rowcount


def _managed(conn: Connection, actor: Actor, user_id: int):
    """The account row, after checking the actor may manage it (or is the system)."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise InputError("no such user", field="user_id")
    if actor.role != "system":
        policy.require(actor, "user.manage")
        if not regions.within(row.scope, actor.scope):
            raise PermissionDenied(f"{actor.id} may not manage {row.username}")
    return row


def set_password(engine, actor: Actor, user_id: int, new_password: str) -> None:
    """The user themself, or an administrator covering the account's scope. Ends every
    session of the account."""
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise InputError("no such user", field="user_id")
        own = actor.id == row.username
        if not own:
            row = _managed(conn, actor, user_id)
        _check_password(new_password, row.username)
        t = now()
        values = {"password_hash": passwords.hash_password(new_password),
                  "password_changed_at": t, "must_change_password": False}
        if not own and actor.role != "system":
            duties.check_grant(conn, actor, row.username, row.role, row.scope)
            values["password_reset_by"] = actor.id
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
        _revoke_all(conn, user_id, t)
        audit.record(conn, actor, "user.password", "user", user_id, fields=["password"])


def change_own_password(engine, user: User, current: str, new: str, *, ip: str = "unknown",
                        config: AuthConfig | None = None, at: dt.datetime | None = None) -> None:
    """A signed-in user changes their password. The current password is checked like a sign-in
    (same lanes, so a stolen session gives no more guesses than the login form; a wrong one is
    audited as ``user.password_failed``); the new one must pass the policy and differ."""
    config = config or DEFAULT
    at = at or now()
    if not isinstance(current, str) or not current:
        raise InputError("enter your current password", field="current")
    lane, _ = lockout.claim(engine, user.username, ip, at, config)
    if lane is None:
        passwords.dummy_verify(current)
        raise AccountLocked(lockout.lock_until(engine, user.username, at, config))
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)
                              ).scalar_one()
    if not passwords.verify_password(stored, current):
        with engine.begin() as conn:
            until = lockout.fail(conn, user.username, lane, at, config)
            audit.record(conn, user.actor(), "user.password_failed", "user", user.id,
                         detail={"ip": ip, "locked": until is not None})
        raise InputError("wrong password", field="current")
    with engine.begin() as conn:
        lockout.succeed(conn, user.username, lane, at)
    if new == current:
        raise InputError("the new password must differ from the current one", field="new")
    try:
        set_password(engine, user.actor(), user.id, new)
    except InputError as exc:
        exc.field = "new"
        raise


# --- administrator actions ------------------------------------------------------------------

def unlock(engine, actor: Actor, user_id: int) -> None:
    """Clear every lockout lane of the account (and its backoff)."""
    with engine.begin() as conn:
        row = _managed(conn, actor, user_id)
        n = conn.execute(update(login_throttle).where(login_throttle.c.username == row.username)
                         .values(failures=0, locks=0, locked_until=None, updated_at=now())
                         ).rowcount
        audit.record(conn, actor, "user.unlock", "user", user_id, detail={"lanes": n})


def reset_password(engine, actor: Actor, user_id: int) -> str:
    """Give the account a random temporary password (returned once, shown to the
    administrator to hand over) that must be changed at the next sign-in; ends its sessions
    and clears its lockout. The administrator is recorded as ``password_reset_by``."""
    temp = "T-" + secrets.token_urlsafe(12)
    with engine.begin() as conn:
        row = _managed(conn, actor, user_id)
        if actor.role != "system":
            duties.check_grant(conn, actor, row.username, row.role, row.scope)
        t = now()
        conn.execute(update(users).where(users.c.id == user_id).values(
            password_hash=passwords.hash_password(temp), password_changed_at=t,
            must_change_password=True, password_reset_by=actor.id))
        ended = _revoke_all(conn, user_id, t)
        conn.execute(update(login_throttle).where(login_throttle.c.username == row.username)
                     .values(failures=0, locks=0, locked_until=None, updated_at=t))
        audit.record(conn, actor, "user.password_reset", "user", user_id, fields=["password"],
                     detail={"sessions_ended": ended})
    return temp


def set_active(engine, actor: Actor, user_id: int, active: bool) -> None:
    """Deactivate (ends every session; sign-in refused) or reactivate an account. An
    administrator cannot deactivate their own account."""
    with engine.begin() as conn:
        row = _managed(conn, actor, user_id)
        if not active and row.username == actor.id:
            raise InputError("you cannot deactivate your own account", field="user_id")
        conn.execute(update(users).where(users.c.id == user_id).values(active=bool(active)))
        ended = _revoke_all(conn, user_id, now()) if not active else 0
        audit.record(conn, actor, "user.deactivate" if not active else "user.reactivate",
                     "user", user_id, fields=["active"], detail={"sessions_ended": ended})


def end_sessions(engine, actor: Actor, user_id: int) -> int:
    """End every live session and API token of the account; returns how many."""
    with engine.begin() as conn:
        _managed(conn, actor, user_id)
        n = _revoke_all(conn, user_id, now())
        audit.record(conn, actor, "user.sessions_end", "user", user_id,
                     detail={"sessions_ended": n})
    return n


def list_users(engine, actor: Actor) -> list[User]:
    policy.require(actor, "user.manage")
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.id)).all()
    return [_user(r) for r in rows if regions.within(r.scope, actor.scope)]


__all__ = ["User", "create_user", "authenticate", "login", "logout", "session_user",
           "start_session", "set_password", "change_own_password", "unlock", "reset_password",
           "set_active", "end_sessions", "get_user", "get_user_by_username", "list_users",
           "LoginRefused", "AccountLocked", "RateLimited", "SYSTEM"]
