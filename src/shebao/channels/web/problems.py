"""Errors as ``application/problem+json`` (RFC 9457) naming the field, for the API; pages get
the same facts rendered in HTML (forms render their own field errors next to the field)."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shebao.core.errors import (ConflictError, InputError, InvariantError, PermissionDenied,
                                RuleError, ShebaoError)
from shebao.security.service import AccountLocked, LoginRefused, RateLimited

PROBLEM = "application/problem+json"
log = logging.getLogger("shebao.web")


class FieldProblem(BaseModel):
    field: str | None = None
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; ``field`` names the offending input when there is one."""
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    field: str | None = None
    errors: list[FieldProblem] = []


class NotAuthenticated(Exception):
    """No (valid) session: the API answers 401, pages redirect to the login form."""


class PasswordChangeRequired(Exception):
    """Signed in with a temporary password: pages redirect to the password form, the API
    answers 403 until ``POST /api/v1/me/password``."""


def problem(status: int, title: str, detail: str | None = None, field: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail, "field": field,
                            "errors": errors or ([{"field": field, "message": detail or title}]
                                                 if field else [])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _loc_field(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[-1]) if loc else None)


def _status_title(exc: ShebaoError) -> tuple[int, str]:
    if isinstance(exc, InputError):
        return 422, "Invalid input"
    if isinstance(exc, PermissionDenied):
        return 403, "Forbidden"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, InvariantError):
        return 422, "Rule of the domain broken"
    if isinstance(exc, RuleError):
        return 422, "No rule for this case"
    if isinstance(exc, RateLimited):
        return 429, "Too many requests"
    if isinstance(exc, AccountLocked):
        return 423, "Account locked"
    if isinstance(exc, LoginRefused):
        return 401, "Login refused"
    return 400, "Bad request"


def install(app, render_error) -> None:
    """Register the handlers. ``render_error(request, status, title, detail)`` renders pages."""

    @app.exception_handler(ShebaoError)
    async def shebao_error(request: Request, exc: ShebaoError) -> Response:
        status, title = _status_title(exc)
        field = getattr(exc, "field", None)
        detail = getattr(exc, "reason", None) or str(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if _is_api(request):
            return problem(status, title, detail, field, headers=headers)
        return render_error(request, status, title, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": _loc_field(e.get("loc", ())), "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "message": "invalid input"}
        if _is_api(request):
            return problem(422, "Invalid input", f"{first['field']}: {first['message']}",
                           first["field"], errors)
        return render_error(request, 422, "Invalid input",
                            "; ".join(f"{e['field']}: {e['message']}" for e in errors))

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return problem(401, "Not authenticated", "sign in: POST /api/v1/auth/token, then "
                           "send Authorization: Bearer <token>",
                           headers={"WWW-Authenticate": "Bearer"})
        nxt = request.url.path
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": f"/login?next={nxt}"})
        return RedirectResponse(f"/login?next={nxt}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, exc: PasswordChangeRequired
                                       ) -> Response:
        if _is_api(request):
            return problem(403, "Password change required", "this account has a temporary "
                           "password: POST /api/v1/me/password first", "password")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/account/password"})
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed",
                 413: "Request too large"}.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400 and _is_api(request):   # unparseable body: name it
            return problem(422, "Invalid input", f"body: {exc.detail}", "body")
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        if _is_api(request):
            return problem(exc.status_code, title, detail, headers=headers)
        return render_error(request, exc.status_code, title, detail or title)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the path supports (the router names only the first route it matched)."""
    import re
    from starlette.routing import Match
    methods: set[str] = set()
    if _is_api(request):
        for template, ops in request.app.openapi().get("paths", {}).items():
            if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)),
                            request.url.path):
                methods |= {m.upper() for m in ops}
    else:
        for route in request.app.router.routes:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match != Match.NONE and getattr(route, "methods", None):
                methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class ServerErrorMiddleware:
    """Any unexpected exception becomes a 500 the client can quote: problem+json for the API,
    the HTML error page for pages, each with an error id that is also in the log (with the
    traceback). Installed inside the security-headers middleware, so the answer carries the
    same headers as any other; the exception is not re-raised, so the server keeps the
    connection and goes on serving."""

    def __init__(self, app: ASGIApp, *, render_error):
        self.app, self.render_error = app, render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:  # noqa: BLE001 - the last line of defence
            error_id = secrets.token_hex(6)
            log.exception("error %s: %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            response = server_error(Request(scope), error_id, self.render_error)
            await response(scope, receive, send)


def server_error(request: Request, error_id: str, render_error) -> Response:
    detail = f"an unexpected error occurred; quote error id {error_id} when reporting it"
    headers = {"X-Error-Id": error_id}
    if _is_api(request):
        return problem(500, "Internal server error", detail, headers=headers)
    try:
        response = render_error(request, 500, "Internal server error", detail)
    except Exception:  # noqa: BLE001 - the error page itself failed: plain text still answers
        log.exception("error %s: the error page could not be rendered", error_id)
        response = PlainTextResponse(detail, status_code=500)
    response.headers.update(headers)
    return response
