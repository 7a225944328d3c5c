"""Lockout lanes: failed sign-ins counted atomically per account and per known address.

The policy is described in ``security/service.py`` (section "Lockout"); the settings are in
``security/config.py``. Each attempt is counted by one upsert (``_BUMP``) committed *before*
the password is checked, so parallel guesses each see their own count.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import DateTime, Integer, and_, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection

from shebao.core.errors import ShebaoError

from .config import AuthConfig
from .tables import login_attempts, login_throttle

ACCOUNT_LANE = ""


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


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back naive; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)



_TS = DateTime(timezone=True)

# One statement: count this attempt in its lane and return the lane's state. A lock that has
# run out, or a lane quiet for longer than one lock, starts counting afresh; a lane quiet for
# longer than the longest lock also forgets its earlier locks (the backoff level).
_BUMP = text("""
INSERT INTO login_throttle (username, ip, failures, locks, locked_until, updated_at)
VALUES (:u, :ip, 1, 0, NULL, :now)
ON CONFLICT (username, ip) DO UPDATE SET
  failures = CASE WHEN login_throttle.locked_until <= :now
                    OR (login_throttle.locked_until IS NULL AND login_throttle.updated_at <= :quiet)
                  THEN 1 ELSE login_throttle.failures + 1 END,
  locks = CASE WHEN login_throttle.updated_at <= :forget THEN 0 ELSE login_throttle.locks END,
  locked_until = CASE WHEN login_throttle.locked_until <= :now THEN NULL
                      ELSE login_throttle.locked_until END,
  updated_at = :now
RETURNING failures, locks, locked_until
""").bindparams(bindparam("now", type_=_TS), bindparam("quiet", type_=_TS),
                bindparam("forget", type_=_TS)).columns(failures=Integer, locks=Integer,
                                                       locked_until=_TS)


@dataclass(frozen=True)
class Lane:
    ip: str
    failures: int
    locks: int
    locked_until: dt.datetime | None

    def locked(self, at: dt.datetime, config: AuthConfig) -> bool:
        return (self.locked_until is not None and self.locked_until > at) \
            or self.failures > config.max_failed


def bump(conn: Connection, username: str, ip: str, at: dt.datetime, config: AuthConfig) -> Lane:
    r = conn.execute(_BUMP, {"u": username, "ip": ip, "now": at, "quiet": at - config.lock,
                             "forget": at - config.lock_max}).one()
    return Lane(ip, r.failures, r.locks, utc(r.locked_until))


def known_address(conn: Connection, username: str, ip: str, at: dt.datetime,
                   config: AuthConfig) -> bool:
    return conn.execute(select(login_attempts.c.id).where(and_(
        login_attempts.c.username == username, login_attempts.c.ip == ip,
        login_attempts.c.ok.is_(True), login_attempts.c.at > at - config.known_address))
        .limit(1)).first() is not None


def claim(engine, username: str, ip: str, at: dt.datetime,
          config: AuthConfig) -> tuple[Lane | None, int]:
    """Count the attempt in its lane (committed before the password is checked). Returns the
    lane to verify in, or None when every lane open to this address is locked, and then also
    how many attempts the locked account lane has counted in this lock window (1 = the first
    refusal: the only one worth an audit row, the rest are this count)."""
    with engine.begin() as conn:
        lane = bump(conn, username, ACCOUNT_LANE, at, config)
        if not lane.locked(at, config):
            return lane, 0
        if ip and known_address(conn, username, ip, at, config):
            own = bump(conn, username, ip, at, config)
            if not own.locked(at, config):
                return own, 0
    return None, lane.failures


def lock_until(engine, username: str, at: dt.datetime, config: AuthConfig) -> dt.datetime:
    with engine.connect() as conn:
        until = conn.execute(select(login_throttle.c.locked_until).where(and_(
            login_throttle.c.username == username, login_throttle.c.ip == ACCOUNT_LANE))
        ).scalar_one_or_none()
    return utc(until) if until and utc(until) > at else at + config.lock


def fail(conn: Connection, username: str, lane: Lane, at: dt.datetime,
          config: AuthConfig) -> dt.datetime | None:
    """A verified failure; the lane locks when it reached the limit. Returns the lock's end."""
    if lane.failures < config.max_failed:
        return None
    until = at + config.lock_for(lane.locks)
    conn.execute(update(login_throttle).where(and_(
        login_throttle.c.username == username, login_throttle.c.ip == lane.ip)).values(
        failures=0, locks=login_throttle.c.locks + 1, locked_until=until, updated_at=at))
    return until


def succeed(conn: Connection, username: str, lane: Lane, at: dt.datetime) -> None:
    conn.execute(update(login_throttle).where(and_(
        login_throttle.c.username == username, login_throttle.c.ip == lane.ip)).values(
        failures=0, locks=0, locked_until=None, updated_at=at))


def check_rate(engine, uname: str, ip: str, at: dt.datetime, config: AuthConfig) -> None:
    with engine.connect() as conn:
        recent = conn.execute(select(func.count()).select_from(login_attempts).where(
            and_(login_attempts.c.ip == ip, login_attempts.c.at > at - config.rate_window))
        ).scalar_one()
    if recent >= config.rate_limit_per_ip:
        with engine.begin() as conn:
            conn.execute(insert(login_attempts).values(username=uname, ip=ip, at=at, ok=False))
        raise RateLimited(int(config.rate_window.total_seconds()))
