"""CSRF protection for every state-changing request (double-submit token, signed).

Each browser gets a ``csrftoken`` cookie (signed random value, readable by the page); the page
renders the same token into ``hx-headers`` on ``<body>`` so htmx (and boosted forms) send it
as ``X-CSRF-Token``. A POST/PUT/PATCH/DELETE without a matching header is refused with 403 —
except API calls that authenticate with a bearer token and carry no session cookie (a browser
cannot be tricked into sending an ``Authorization`` header).
"""
from __future__ import annotations

import http.cookies
import json
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
COOKIE = "csrftoken"
HEADER = "x-csrf-token"


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, session_cookie: str, secure: bool):
        self.app = app
        self.serializer = URLSafeSerializer(secret, "csrf")
        self.session_cookie = session_cookie
        self.secure = secure

    def _valid(self, token: str | None) -> bool:
        if not token:
            return False
        try:
            self.serializer.loads(token)
            return True
        except BadSignature:
            return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(COOKIE)
        fresh = not self._valid(cookie)
        token = self.serializer.dumps(secrets.token_urlsafe(32)) if fresh else cookie
        scope.setdefault("state", {})["csrf_token"] = token

        if request.method not in SAFE_METHODS and not self._exempt(request):
            submitted = request.headers.get(HEADER)
            if fresh or not submitted or not secrets.compare_digest(submitted, cookie):
                body = json.dumps({"type": "about:blank", "title": "CSRF check failed",
                                   "status": 403, "field": "X-CSRF-Token",
                                   "detail": "missing or wrong CSRF token; reload the page "
                                             "and try again"}).encode()
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh:
                headers = MutableHeaders(scope=message)
                c: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
                c[COOKIE] = token
                c[COOKIE]["path"] = "/"
                c[COOKIE]["samesite"] = "Strict"
                if self.secure:
                    c[COOKIE]["secure"] = True
                headers.append("set-cookie", c.output(header="").strip())
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _exempt(self, request: Request) -> bool:
        """API calls without a session cookie carry no ambient credential a forged request
        could ride on (they authenticate with ``Authorization: Bearer`` or not at all)."""
        return (request.url.path.startswith("/api/")
                and self.session_cookie not in request.cookies)
