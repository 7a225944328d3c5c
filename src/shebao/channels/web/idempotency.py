"""``Idempotency-Key`` on money-moving POSTs: the first response is stored with a hash of the
request; a replay with the same key and body returns it again (header ``Idempotent-Replayed``);
the same key with another body is a 409 naming the header."""
from __future__ import annotations

import hashlib
import json

from fastapi import Request
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse

from shebao.core.errors import ConflictError, InputError
from shebao.security.service import now
from shebao.security.tables import idempotency_keys


def _hash(method: str, path: str, payload) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise InputError("this request moves money: send an Idempotency-Key header "
                         "(a unique value per intended operation)", field="Idempotency-Key")
    key = key.strip()
    if len(key) > 200:
        raise InputError("at most 200 characters", field="Idempotency-Key")
    return key


def run(request: Request, principal: str, key: str | None, payload, fn, status: int = 200):
    """Run ``fn() -> (jsonable body)`` once per (principal, key)."""
    key = check_key(key)
    eng = request.app.state.engine
    h = _hash(request.method, request.url.path, payload)
    where = and_(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
    with eng.connect() as conn:
        row = conn.execute(select(idempotency_keys).where(where)).first()
    if row is None:
        try:
            with eng.begin() as conn:
                conn.execute(insert(idempotency_keys).values(
                    principal=principal, key=key, method=request.method,
                    path=request.url.path, request_hash=h, created_at=now()))
        except IntegrityError:
            raise ConflictError("this Idempotency-Key is being used by a concurrent request"
                                ) from None
    else:
        if row.request_hash != h:
            err = ConflictError("this Idempotency-Key was used for a different request")
            err.field = "Idempotency-Key"
            raise err
        if row.status_code is None:
            err = ConflictError("the first request with this Idempotency-Key is still running")
            err.field = "Idempotency-Key"
            raise err
        return JSONResponse(json.loads(row.response_body), status_code=row.status_code,
                            headers={"Idempotent-Replayed": "true"})
    try:
        body = fn()
    except BaseException:
        with eng.begin() as conn:  # free the key: nothing was done, the client may retry
            conn.execute(delete(idempotency_keys).where(where))
        raise
    encoded = json.loads(json.dumps(body, default=str))
    with eng.begin() as conn:
        conn.execute(update(idempotency_keys).where(where).values(
            status_code=status, response_body=json.dumps(encoded, ensure_ascii=False)))
    return JSONResponse(encoded, status_code=status)
