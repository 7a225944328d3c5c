"""The web app factory: ``create_app(engine_url=None, ...)``.

One composition root: settings (secret, cookie flags), the database engine, CSRF middleware,
problem+json error handlers, the REST API under ``/api/v1`` and the server-rendered pages
(staff back office ``/staff``, citizen portal ``/me``, employer portal ``/employer``).
"""
from __future__ import annotations

import contextlib
import gc
import os

import anyio.to_thread

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from shebao.db.engine import make_engine
from shebao.security import audit, audit_appender

from . import problems, route_index
from .config import ConfigError, Settings, load_settings
from .csrf import CSRFMiddleware
from .limits import BodyLimitMiddleware
from .deps import SESSION_COOKIE
from .render import render_error

API_PREFIX = "/api/v1"

# uvicorn options for serving the app (``shebao serve``, the benches): no ``Server`` banner.
SERVER_OPTIONS = {"server_header": False}
HSTS = "max-age=31536000; includeSubDomains"


@contextlib.asynccontextmanager
async def _lifespan(app):
    # the request threads of this worker (SHEBAO_WEB_THREADS, ``shebao serve --threads``)
    if app.state.settings.web_threads:
        anyio.to_thread.current_default_thread_limiter().total_tokens = \
            app.state.settings.web_threads
    # what the worker built at start (modules, routes, tables, templates) lives as long as it
    # does: out of the collector's sight, so that a full collection scans only what requests
    # made since (under load it paused the worker for 70-170 ms every few seconds)
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _require_translations() -> None:
    """Production refuses to start with a page or notice text that has no Chinese translation
    (dev mode shows the English id instead, and the tests name what is missing)."""
    from shebao.notices import render as notice_texts

    from . import i18n, i18n_ids

    missing = sorted(i18n_ids.used_ids() - i18n.catalog_ids())
    missing += sorted(notice_texts.used_ids() - notice_texts.catalogue_ids())
    if missing:
        raise ConfigError(f"{len(missing)} text(s) without a zh_CN translation, e.g. "
                          f"{missing[:5]}; add them to a .po file under locale/zh_CN")


def create_app(engine_url: str | None = None, *, mode: str | None = None,
               secret_key: str | None = None, cookie_secure: bool | None = None,
               login_rate_limit: int | None = None, engine=None) -> FastAPI:
    """Build the app. Raises ``ConfigError`` in production mode without a secret key or with
    an untranslated text."""
    settings: Settings = load_settings(engine_url, mode=mode, secret_key=secret_key,
                                       cookie_secure=cookie_secure,
                                       login_rate_limit=login_rate_limit)
    app = FastAPI(title="shebao 社保 API", version="1", openapi_url=f"{API_PREFIX}/openapi.json",
                  lifespan=_lifespan,
                  docs_url=None, redoc_url=None,  # served below from vendored assets
                  description="Social insurance administration. Errors are "
                              "application/problem+json naming the field; lists are "
                              "cursor-paginated; money-moving POSTs take Idempotency-Key.")
    app.state.settings = settings
    if settings.mode == "production":
        _require_translations()
    app.state.engine = engine if engine is not None else make_engine(engine_url)
    # anchors the audit chains every SHEBAO_AUDIT_ANCHOR_EVERY seconds (off when unset: cron)
    app.state.audit_anchor = audit.start_periodic_anchor(app.state.engine)
    # reads' audit rows group-committed (PostgreSQL; off with SHEBAO_AUDIT_APPENDER=off)
    if os.environ.get("SHEBAO_AUDIT_APPENDER", "on").strip().lower() != "off":
        audit_appender.install(app.state.engine)
    # innermost first: the error page, CSRF/Origin, the body limit; the security headers
    # (outermost) cover every answer, refusals and 500s included
    app.add_middleware(problems.ServerErrorMiddleware, render_error=render_error)
    app.add_middleware(CSRFMiddleware, secret=settings.secret_key, session_cookie=SESSION_COOKIE,
                       secure=settings.cookie_secure)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes,
                       upload_limit=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.mode == "production")

    problems.install(app, render_error)
    static = resources.files("shebao.channels.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def api_docs():
        # Swagger UI from files in the package (static/swagger): the platform runs offline.
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url=app.openapi_url, title=app.title + " — API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon.png")

    from .api import routers as api_routers
    from .pages import routers as page_routers
    for r in api_routers():
        app.include_router(r, prefix=API_PREFIX)
    for r in page_routers():
        app.include_router(r)

    route_index.install(app)       # each request tries the routes of its first path segment

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)  # pages are include_in_schema=False
        _problems_in_schema(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
    return app


CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       b"script-src 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """The security headers on every answer (refusals and 500s included; outermost): HSTS
    over https or in production, nosniff, no framing, same-origin referrers, the CSP (not on
    the API docs) and ``Cache-Control: no-store`` (not on static files). A header the app set
    itself is kept. Plain ASGI: no task group or body stream per request."""

    def __init__(self, app, *, production: bool):
        self.app, self.production = app, production

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin")]
        if scope.get("scheme") == "https" or self.production:
            extra.append((b"strict-transport-security", HSTS.encode()))
        if not path.startswith(f"{API_PREFIX}/docs"):
            extra.append((b"content-security-policy", CSP))
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                have = {k.lower() for k, _ in headers}
                headers.extend(h for h in extra if h[0] not in have)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ERRORS = {"401": "Not authenticated", "403": "Forbidden (role or region scope)",
           "404": "Not found", "409": "Conflict", "422": "Invalid input (the field is named)",
           "413": "Request body too large", "423": "Account locked",
           "429": "Too many requests", "500": "Unexpected error (quote the error id)"}


def _problems_in_schema(schema: dict) -> None:
    """Every operation documents its problem+json answers (and no FastAPI default 422)."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    fp = comps["Problem"].pop("$defs", {})
    comps.update(fp)
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for code, title in _ERRORS.items():
                if code in ("423",) and not path.endswith(("/auth/token", "/me/password")):
                    continue
                op["responses"][code] = {"description": title, "content": ref}


def app_from_env() -> FastAPI:
    """The app of one worker of ``shebao serve --workers N`` (uvicorn's factory): everything
    from the environment (``SHEBAO_DATABASE_URL``, ``SHEBAO_ENV``, ``SHEBAO_SECRET_KEY``…)."""
    return create_app()
