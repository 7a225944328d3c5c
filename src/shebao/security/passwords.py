"""Password hashing and the password policy.

Hashing: argon2id (argon2-cffi), parameters of RFC 9106's low-memory profile (64 MiB, t=3,
p=4). Each hash or verification holds 64 MiB for about 0.1 s, so at most
``SHEBAO_HASH_CONCURRENCY`` (default 2, ``security/config.py``) run at once: a storm of sign-ins
queues for the hasher instead of growing the server's memory by 64 MiB per request.
``SHEBAO_ARGON2_FAST=1`` lowers the cost (still argon2id) for test suites that create many
accounts; a hash made that way is upgraded by :func:`needs_rehash` at the next login.

Policy (:func:`password_problem`): at least 12 characters, not one of the ~12,000 most common
passwords (``data/common_passwords.txt``, shipped in the package, also after stripping the
digits and symbols people append), and not containing the username.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import hash_concurrency

_DEFAULT = PasswordHasher(type=Type.ID)
_FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)

MIN_LENGTH = 12
MAX_LENGTH = 200

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _hash_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(hash_concurrency())
        return _slots


def set_hash_concurrency(n: int | None) -> None:
    """Change the cap (the bench compares capped against uncapped; None = no cap)."""
    global _slots
    with _slots_lock:
        _slots = threading.BoundedSemaphore(n if n else 1_000_000)


def _hasher() -> PasswordHasher:
    return _FAST if os.environ.get("SHEBAO_ARGON2_FAST") == "1" else _DEFAULT


def hash_password(password: str) -> str:
    with _hash_slots():
        return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        with _hash_slots():
            return _DEFAULT.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


# A valid hash of a random string: verifying against it when the user does not exist (or the
# account is locked) costs the same time as a real check, so response time does not reveal
# which usernames exist.
_DUMMY = None


def dummy_verify(password: str) -> None:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher().hash(os.urandom(16).hex())
    verify_password(_DUMMY, password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (resources.files("shebao.security") / "data" / "common_passwords.txt").read_text(
        encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


_TRIM = "0123456789!@#$%^&*()-_=+.,;:?~ "


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why a new password is not acceptable, or None."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must have at most {MAX_LENGTH} characters"
    low = password.lower()
    common = common_passwords()
    base = low.strip(_TRIM)
    if low in common or (len(base) >= 4 and base in common) or len(set(low)) < 4:
        return "is one of the most common passwords; choose a less guessable one"
    if username and len(username) >= 3 and username.lower() in low:
        return "must not contain the username"
    return None
