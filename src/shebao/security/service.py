"""Accounts, logins and sessions — one audited action per function.

- ``create_user(engine, actor, username=, password=, role=, scope=, ...)``: an administrator (or
  the system, for the demo) creates an account; the password is stored as an argon2id hash.
- ``login(engine, username, password, ip=, kind="web"|"api")``: rate limit per client address,
  lockout per account after repeated failures, then a new session; returns ``(token, user)``.
- ``session_user(engine, token)``: the account behind a live session token, or None.
- ``logout(engine, token)``: revokes the session.

Session tokens are 256-bit random strings; only their SHA-256 is stored, so a copy of the
database does not yield usable sessions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from shebao.core import regions
from shebao.core.actor import Actor, SYSTEM
from shebao.core.errors import ConflictError, InputError, PermissionDenied, ShebaoError
from shebao.db.uow import now

from . import audit, passwords, policy
from .tables import login_attempts, sessions, users

MAX_FAILED_LOGINS = 5                      # consecutive failures before the account locks
LOCKOUT = dt.timedelta(minutes=15)
RATE_WINDOW = dt.timedelta(minutes=5)
RATE_LIMIT_PER_IP = 30                     # login attempts per client address per window
SESSION_TTL = {"web": dt.timedelta(hours=8), "api": dt.timedelta(hours=1)}


class LoginRefused(ShebaoError):
    """Wrong username or password, or the account is disabled. Deliberately vague."""


class AccountLocked(ShebaoError):
    def __init__(self, until: dt.datetime):
        self.until = until
        super().__init__(f"account locked until {until:%H:%M} UTC after repeated failures")


class RateLimited(ShebaoError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many login attempts from this address; retry in {retry_after}s")


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

    def actor(self) -> Actor:
        return Actor(id=self.username, role=self.role, scope=self.scope,
                     person_id=self.person_id, employer_id=self.employer_id)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back naive; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _user(row) -> User:
    return User(row.id, row.username, row.role, row.scope, row.person_id, row.employer_id,
                row.display_name, row.active)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _check_username(username) -> str:
    if not isinstance(username, str) or not username.strip():
        raise InputError("username is required", field="username")
    u = username.strip()
    if len(u) > 64 or not all(c.isalnum() or c in "._-@" for c in u):
        raise InputError("use at most 64 letters, digits and . _ - @", field="username")
    return u


def create_user(engine: Engine | Connection, actor: Actor, *, username: str, password: str,
                role: str, scope: str = regions.NATIONAL, display_name: str | None = None,
                person_id: int | None = None, employer_id: int | None = None) -> User:
    """Create an account. Staff accounts need a region scope; citizens a person, employers a firm."""
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
    problem = passwords.password_problem(password)
    if problem:
        raise InputError(f"password {problem}", field="password")
    pw_hash = passwords.hash_password(password)
    t = now()
    with _begin(engine) as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise ConflictError(f"username {username!r} is taken")
        uid = conn.execute(insert(users).values(
            username=username, password_hash=pw_hash, role=role, scope=scope,
            person_id=person_id, employer_id=employer_id,
            display_name=(display_name or username)[:100], active=True, failed_logins=0,
            locked_until=None, created_at=t, password_changed_at=t,
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


def _new_session(conn: Connection, user_id: int, kind: str, ip: str | None) -> str:
    token = secrets.token_urlsafe(32)
    t = now()
    conn.execute(insert(sessions).values(token_hash=_hash_token(token), user_id=user_id,
                                         kind=kind, created_at=t,
                                         expires_at=t + SESSION_TTL[kind], ip=ip))
    return token


def start_session(engine, user: User, *, kind: str = "web", ip: str | None = None) -> str:
    """A session for an already-authenticated user (tests, the demo seeding, API tokens)."""
    with engine.begin() as conn:
        token = _new_session(conn, user.id, kind, ip)
        audit.record(conn, user.actor(), "auth.session", "user", user.id, detail={"kind": kind})
    return token


def login(engine: Engine, username: str, password: str, *, ip: str = "unknown",
          kind: str = "web", rate_limit: int = RATE_LIMIT_PER_IP,
          max_failed: int = MAX_FAILED_LOGINS) -> tuple[str, User]:
    """Authenticate; returns (session token, user). Raises RateLimited, AccountLocked,
    LoginRefused. Every attempt is recorded (login_attempts) and audited."""
    if kind not in SESSION_TTL:
        raise InputError("kind must be web or api", field="kind")
    uname = (username or "").strip()[:64] if isinstance(username, str) else ""
    if not uname:
        raise InputError("username is required", field="username")
    if not isinstance(password, str) or not password:
        raise InputError("password is required", field="password")
    t = now()
    with engine.connect() as conn:
        recent = conn.execute(select(func.count()).select_from(login_attempts).where(
            and_(login_attempts.c.ip == ip, login_attempts.c.at > t - RATE_WINDOW))).scalar_one()
        row = conn.execute(select(users).where(users.c.username == uname)).first()
    if recent >= rate_limit:
        with engine.begin() as conn:
            conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=t, ok=False))
        raise RateLimited(int(RATE_WINDOW.total_seconds()))
    if row is not None and row.locked_until is not None and utc(row.locked_until) > t:
        with engine.begin() as conn:
            conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=t, ok=False))
            audit.record(conn, _anon(row), "auth.login_locked", "user", row.id,
                         detail={"ip": ip})
        raise AccountLocked(utc(row.locked_until))
    ok = passwords.verify_password(row.password_hash, password) if row is not None else (
        passwords.dummy_verify(password) or False)
    ok = ok and row is not None and row.active
    with engine.begin() as conn:
        conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=t, ok=ok))
        if not ok:
            if row is not None:
                failed = row.failed_logins + 1
                values = {"failed_logins": failed}
                if failed >= max_failed:
                    values = {"failed_logins": 0, "locked_until": t + LOCKOUT}
                conn.execute(update(users).where(users.c.id == row.id).values(**values))
                audit.record(conn, _anon(row), "auth.login_failed", "user", row.id,
                             detail={"ip": ip, "locked": failed >= max_failed})
        else:
            values = {"failed_logins": 0, "locked_until": None}
            if passwords.needs_rehash(row.password_hash):
                values["password_hash"] = passwords.hash_password(password)
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
            token = _new_session(conn, row.id, kind, ip)
            audit.record(conn, _user(row).actor(), "auth.login", "user", row.id,
                         detail={"ip": ip, "kind": kind})
    if not ok:
        raise LoginRefused("wrong username or password")
    return token, _user(row)


def _anon(row) -> Actor:
    """The actor of a failed login: not authenticated, named by the account it tried."""
    return Actor(id=f"login:{row.username}"[:64], role=row.role if row.role else "system",
                 scope=row.scope)


def session_user(engine, token: str | None, *, kind: str | None = None) -> User | None:
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(users, sessions.c.expires_at, sessions.c.revoked_at, sessions.c.kind)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == _hash_token(token))).first()
    if row is None or row.revoked_at is not None or utc(row.expires_at) <= now():
        return None
    if kind is not None and row.kind != kind:
        return None
    if not row.active:
        return None
    return _user(row)


def logout(engine, token: str | None) -> None:
    user = session_user(engine, token)
    if user is None:
        return
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.token_hash == _hash_token(token))
                     .values(revoked_at=now()))
        audit.record(conn, user.actor(), "auth.logout", "user", user.id)


def set_password(engine, actor: Actor, user_id: int, new_password: str) -> None:
    """The user themself, or an administrator covering the account's scope."""
    problem = passwords.password_problem(new_password)
    if problem:
        raise InputError(f"password {problem}", field="password")
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise InputError("no such user", field="user_id")
        if actor.id != row.username and actor.role != "system":
            policy.require(actor, "user.manage")
            if not regions.within(row.scope, actor.scope):
                raise PermissionDenied(f"{actor.id} may not manage {row.username}")
        conn.execute(update(users).where(users.c.id == user_id).values(
            password_hash=passwords.hash_password(new_password), password_changed_at=now(),
            failed_logins=0, locked_until=None))
        conn.execute(update(sessions).where(and_(sessions.c.user_id == user_id,
                                                 sessions.c.revoked_at.is_(None)))
                     .values(revoked_at=now()))
        audit.record(conn, actor, "user.password", "user", user_id, fields=["password"])


def list_users(engine, actor: Actor) -> list[User]:
    policy.require(actor, "user.manage")
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.id)).all()
    return [_user(r) for r in rows if regions.within(r.scope, actor.scope)]


__all__ = ["User", "create_user", "login", "logout", "session_user", "start_session",
           "set_password", "get_user", "get_user_by_username", "list_users", "LoginRefused",
           "AccountLocked", "RateLimited", "SYSTEM"]
