"""Settings of the web app, from arguments or the environment.

- ``SHEBAO_ENV``: ``production`` (default) or ``dev``.
- ``SHEBAO_SECRET_KEY``: signs session and CSRF cookies. Production refuses to start without
  one (at least 32 characters); dev mode generates an ephemeral key per process (sessions end
  when the server stops). There is no default key anywhere in the repository.
- ``SHEBAO_COOKIE_SECURE``: ``1``/``0``; default on in production, off in dev (local http).
- Sign-in, lockout and session settings: ``security/config.py`` (``Settings.auth``).
- ``SHEBAO_MAX_BODY_BYTES`` / ``SHEBAO_MAX_UPLOAD_BYTES``: request body limits (``limits.py``).
- ``SHEBAO_WEB_THREADS``: threads that run the requests' database work in one worker process
  (``shebao serve --threads``; default anyio's 40). That work is Python holding one GIL: under
  load a few threads per worker answer sooner than many contending for it.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from shebao.security.config import AuthConfig, load_auth_config


class ConfigError(RuntimeError):
    """The app refuses to start: the message says what to set."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    mode: str
    secret_key: str
    cookie_secure: bool
    login_rate_limit: int
    ephemeral_secret: bool = False
    auth: AuthConfig = field(default_factory=AuthConfig)
    max_body_bytes: int = 1 << 20          # JSON and forms
    max_upload_bytes: int = 64 << 20       # /staff/import
    web_threads: int | None = None         # None: anyio's default


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_settings(database_url: str | None = None, *, mode: str | None = None,
                  secret_key: str | None = None, cookie_secure: bool | None = None,
                  login_rate_limit: int | None = None) -> Settings:
    mode = (mode or os.environ.get("SHEBAO_ENV") or "production").strip().lower()
    if mode not in ("production", "dev"):
        raise ConfigError(f"SHEBAO_ENV must be production or dev, not {mode!r}")
    key = secret_key or os.environ.get("SHEBAO_SECRET_KEY") or ""
    ephemeral = False
    if not key:
        if mode == "production":
            raise ConfigError("refusing to start in production mode without SHEBAO_SECRET_KEY "
                              "(set a random value of at least 32 characters, e.g. "
                              "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                              "or run with SHEBAO_ENV=dev for a local, ephemeral key")
        key, ephemeral = secrets.token_urlsafe(48), True
    if mode == "production" and len(key) < 32:
        raise ConfigError("SHEBAO_SECRET_KEY must have at least 32 characters in production")
    if cookie_secure is None:
        cookie_secure = _flag(os.environ.get("SHEBAO_COOKIE_SECURE"))
    if cookie_secure is None:
        cookie_secure = mode == "production"
    auth = load_auth_config(rate_limit_per_ip=login_rate_limit)
    threads = (os.environ.get("SHEBAO_WEB_THREADS") or "").strip()
    if threads and (not threads.isdigit() or not 1 <= int(threads) <= 1000):
        raise ConfigError(f"SHEBAO_WEB_THREADS must be a whole number from 1 to 1000, "
                          f"not {threads!r}")
    return Settings(database_url, mode, key, bool(cookie_secure), auth.rate_limit_per_ip,
                    ephemeral, auth,
                    max_body_bytes=int(os.environ.get("SHEBAO_MAX_BODY_BYTES") or 1 << 20),
                    max_upload_bytes=int(os.environ.get("SHEBAO_MAX_UPLOAD_BYTES") or 64 << 20),
                    web_threads=int(threads) if threads else None)
