"""Password hashing: argon2id (argon2-cffi), parameters of RFC 9106's low-memory profile.

``SHEBAO_ARGON2_FAST=1`` lowers the cost (still argon2id) for test suites that create many
accounts; a hash made that way is upgraded by :func:`needs_rehash` at the next login.
"""
from __future__ import annotations

import os

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_DEFAULT = PasswordHasher(type=Type.ID)
_FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)

MIN_LENGTH = 10


def _hasher() -> PasswordHasher:
    return _FAST if os.environ.get("SHEBAO_ARGON2_FAST") == "1" else _DEFAULT


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _DEFAULT.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


# A valid hash of a random string: verifying against it when the user does not exist costs the
# same time as a real check, so response time does not reveal which usernames exist.
_DUMMY = None


def dummy_verify(password: str) -> None:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher().hash(os.urandom(16).hex())
    verify_password(_DUMMY, password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters"
    if len(password) > 200:
        return "must have at most 200 characters"
    if password.isdigit() or password.isalpha():
        return "must mix letters with digits or symbols"
    return None
