"""CSRF protection for every state-changing request: a token bound to the session, and an
Origin/Referer check.

- **Token.** A signed-in browser's token is ``HMAC(secret, session cookie)``: it is valid for
  that session only, so a token planted from another browser or session (a sibling subdomain,
  plain http) is refused. Before sign-in (the login form) the token is a signed random value
  sent back as a cookie (double submit). The token travels in the ``csrftoken`` cookie
  (readable by the page) and is rendered into ``hx-headers`` on ``<body>``, so htmx and boosted
  forms send it as ``X-CSRF-Token``.
- **Origin.** A POST/PUT/PATCH/DELETE whose ``Origin`` (or, without one, ``Referer``) names
  another host is refused. A request with neither header is refused too, except for API calls
  that carry no session cookie: they authenticate with ``Authorization: Bearer`` (which a
  browser cannot be tricked into sending) or not at all.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookies
import json
import secrets
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
COOKIE = "csrftoken"
HEADER = "x-csrf-token"


def session_token(secret: str, session_cookie_value: str) -> str:
    """The CSRF token of the session whose (signed) cookie value is given."""
    mac = hmac.new(secret.encode(), b"csrf|" + session_cookie_value.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _refuse(field: str, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": "CSRF check failed", "status": 403,
                       "field": field, "detail": detail,
                       "errors": [{"field": field, "message": detail}]}).encode()


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, session_cookie: str, secure: bool):
        self.app = app
        self.secret = secret
        self.serializer = URLSafeSerializer(secret, "csrf")
        self.session_cookie = session_cookie
        self.secure = secure

    def _anonymous(self, token: str | None) -> bool:
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
        session = request.cookies.get(self.session_cookie)
        if not session and request.method in SAFE_METHODS and scope["path"].startswith("/api/"):
            # an API read without a session cookie (a bearer token, or nothing): nothing to
            # check, and no page will need a token — no token to sign, no cookie to set
            await self.app(scope, receive, send)
            return
        cookie = request.cookies.get(COOKIE)
        if session:
            expected = session_token(self.secret, session)
            known = True
        else:
            known = self._anonymous(cookie)
            expected = cookie if known else self.serializer.dumps(secrets.token_urlsafe(32))
        scope.setdefault("state", {})["csrf_token"] = expected

        if request.method not in SAFE_METHODS:
            problem = self._origin_problem(request) or self._token_problem(request, known,
                                                                           expected)
            if problem:
                body = _refuse(*problem)
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and cookie != expected:
                headers = MutableHeaders(scope=message)
                if not any(v.startswith(f"{COOKIE}=") for k, v in headers.items()
                           if k == "set-cookie"):
                    headers.append("set-cookie", cookie_header(expected, self.secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _token_problem(self, request: Request, known: bool, expected: str):
        if self._exempt(request):
            return None
        submitted = request.headers.get(HEADER)
        if not known or not submitted or not secrets.compare_digest(submitted, expected):
            return ("X-CSRF-Token", "missing or wrong CSRF token; reload the page and try again")
        return None

    def _origin_problem(self, request: Request):
        source = request.headers.get("origin")
        if not source or source == "null":
            source = request.headers.get("referer")
        if not source:
            if self._exempt(request):
                return None
            return ("Origin", "a state-changing request must name its Origin (or Referer)")
        host = request.headers.get("host", "")
        if urlsplit(source).netloc.lower() != host.lower():
            return ("Origin", "request from another site refused")
        return None

    def _exempt(self, request: Request) -> bool:
        """API calls without a session cookie carry no ambient credential a forged request
        could ride on (they authenticate with ``Authorization: Bearer`` or not at all)."""
        return (request.url.path.startswith("/api/")
                and self.session_cookie not in request.cookies)


def cookie_header(token: str, secure: bool) -> str:
    c: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    c[COOKIE] = token
    c[COOKIE]["path"] = "/"
    c[COOKIE]["samesite"] = "Strict"
    if secure:
        c[COOKIE]["secure"] = True
    return c.output(header="").strip()
