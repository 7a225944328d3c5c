"""The store behind the API's ``Idempotency-Key`` (``channels/web/idempotency.py``): one row
per (principal, key) with the request's hash and, once done, the stored response."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shebao.core.errors import ConflictError

from .service import now
from .tables import idempotency_keys


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status_code: int | None
    response_body: str | None


def _where(principal: str, key: str):
    return and_(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)


def find(engine, principal: str, key: str) -> Stored | None:
    with engine.connect() as conn:
        r = conn.execute(select(idempotency_keys).where(_where(principal, key))).first()
    return Stored(r.request_hash, r.status_code, r.response_body) if r else None


def claim(engine, principal: str, key: str, method: str, path: str, request_hash: str) -> None:
    """Reserve the key for a request now running; ConflictError if another got it first."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(idempotency_keys).values(
                principal=principal, key=key, method=method, path=path,
                request_hash=request_hash, created_at=now()))
    except IntegrityError:
        raise ConflictError("this Idempotency-Key is being used by a concurrent request"
                            ) from None


def release(engine, principal: str, key: str) -> None:
    """Free the key: nothing was done, the client may retry."""
    with engine.begin() as conn:
        conn.execute(delete(idempotency_keys).where(_where(principal, key)))


def store(engine, principal: str, key: str, status_code: int, response_body: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(idempotency_keys).where(_where(principal, key)).values(
            status_code=status_code, response_body=response_body))
