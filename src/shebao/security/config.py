"""Sign-in and session settings: one place, from the environment or arguments.

These are operational settings of the bureau, not law, so they live here and not under
``rules/parameters``. Every value has an environment variable; the web app reads them once
(``channels/web/config.py``) and passes the result to the security services.

=============================  ==================================  =========
variable                       meaning                             default
=============================  ==================================  =========
SHEBAO_LOGIN_MAX_FAILED        failures before a lane locks        5
SHEBAO_LOGIN_LOCK_SECONDS      first lock; doubles per repeat      900
SHEBAO_LOGIN_LOCK_MAX_SECONDS  longest lock (backoff cap)          86400
SHEBAO_LOGIN_RATE_LIMIT        attempts per client address/window  30
SHEBAO_LOGIN_RATE_WINDOW       that window, seconds                300
SHEBAO_KNOWN_ADDRESS_DAYS      an address that signed in within    90
                               this many days keeps its own lane
SHEBAO_SESSION_IDLE_MINUTES    idle timeout of any session         30
SHEBAO_SESSION_WEB_HOURS       absolute lifetime, web session      8
SHEBAO_SESSION_API_HOURS       absolute lifetime, API token        1
SHEBAO_HASH_CONCURRENCY        argon2 hashes computed at once      2
=============================  ==================================  =========
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.strip() else default


@dataclass(frozen=True)
class AuthConfig:
    max_failed: int = 5
    lock: dt.timedelta = dt.timedelta(minutes=15)
    lock_max: dt.timedelta = dt.timedelta(hours=24)
    rate_limit_per_ip: int = 30
    rate_window: dt.timedelta = dt.timedelta(minutes=5)
    known_address: dt.timedelta = dt.timedelta(days=90)
    idle: dt.timedelta = dt.timedelta(minutes=30)
    lifetime: dict = field(default_factory=lambda: {"web": dt.timedelta(hours=8),
                                                    "api": dt.timedelta(hours=1)})
    # last_seen_at is written at most this often, so a page view is not a write
    touch_every: dt.timedelta = dt.timedelta(minutes=1)

    def lock_for(self, locks_before: int) -> dt.timedelta:
        """The n-th consecutive lock of a lane lasts ``lock × 2^n``, at most ``lock_max``."""
        return min(self.lock * (2 ** min(locks_before, 20)), self.lock_max)

    def with_(self, **changes) -> "AuthConfig":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_auth_config(**overrides) -> AuthConfig:
    """The settings from the environment; keyword arguments that are not None win."""
    c = AuthConfig(
        max_failed=_int("SHEBAO_LOGIN_MAX_FAILED", 5),
        lock=dt.timedelta(seconds=_int("SHEBAO_LOGIN_LOCK_SECONDS", 900)),
        lock_max=dt.timedelta(seconds=_int("SHEBAO_LOGIN_LOCK_MAX_SECONDS", 86400)),
        rate_limit_per_ip=_int("SHEBAO_LOGIN_RATE_LIMIT", 30),
        rate_window=dt.timedelta(seconds=_int("SHEBAO_LOGIN_RATE_WINDOW", 300)),
        known_address=dt.timedelta(days=_int("SHEBAO_KNOWN_ADDRESS_DAYS", 90)),
        idle=dt.timedelta(minutes=_int("SHEBAO_SESSION_IDLE_MINUTES", 30)),
        lifetime={"web": dt.timedelta(hours=_int("SHEBAO_SESSION_WEB_HOURS", 8)),
                  "api": dt.timedelta(hours=_int("SHEBAO_SESSION_API_HOURS", 1))},
    )
    return c.with_(**overrides)


DEFAULT = AuthConfig()


def hash_concurrency() -> int:
    return max(1, _int("SHEBAO_HASH_CONCURRENCY", 2))
