"""Request body size limit: refuse before reading it all (413).

``SHEBAO_MAX_BODY_BYTES`` (default 1 MiB) for JSON and forms; ``SHEBAO_MAX_UPLOAD_BYTES``
(default 64 MiB) for the bulk import upload (``/staff/import``). A declared
``Content-Length`` over the limit is answered at once; a body without one (chunked) is counted
as it arrives and refused as soon as it passes the limit.
"""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PATHS = ("/staff/import",)


class RequestTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit (FastAPI lets an
    HTTPException through its body parsing, so the answer stays a 413)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, upload_limit: int):
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(UPLOAD_PATHS) else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            body = json.dumps({"type": "about:blank", "title": "Request too large",
                               "status": 413, "field": "body",
                               "detail": f"the request body is larger than {limit} bytes"}
                              ).encode()
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counted, send)
