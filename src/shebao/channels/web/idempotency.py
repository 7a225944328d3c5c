"""``Idempotency-Key`` on money-moving POSTs: the first response is stored with a hash of the
request; a replay with the same key and body returns it again (header ``Idempotent-Replayed``);
the same key with another body is a 409 naming the header."""
from __future__ import annotations

import hashlib
import json

from fastapi import Request
from starlette.responses import JSONResponse

from shebao.core.errors import ConflictError, InputError
from shebao.security import idempotency as store


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
    row = store.find(eng, principal, key)
    if row is None:
        store.claim(eng, principal, key, request.method, request.url.path, h)
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
        store.release(eng, principal, key)
        raise
    encoded = json.loads(json.dumps(body, default=str))
    store.store(eng, principal, key, status, json.dumps(encoded, ensure_ascii=False))
    return JSONResponse(encoded, status_code=status)
