"""Server-side rendering: Jinja2 templates with the request's language, CSRF token and
formatting helpers; htmx requests get just the fragment they asked for."""
from __future__ import annotations

from importlib import resources

import jinja2
from fastapi import Request
from jinja2_fragments import render_block
from starlette.responses import HTMLResponse

from shebao.core.ids import mask_id, mask_name, mask_phone

from . import i18n

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("shebao.channels.web") / "templates")),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
    # the templates are package files: read once per process, not stat'ed at every render
    auto_reload=False)
_env.filters.update(mask_id=mask_id, mask_name=mask_name, mask_phone=mask_phone)


def _can(user, permission: str) -> bool:
    from shebao.security import policy
    return user is not None and policy.has(user.actor(), permission)


_env.globals.update(can=_can, staff_nav=[], citizen_nav=[], employer_nav=[])


def context(request: Request, extra: dict | None = None) -> dict:
    lang = i18n.pick(request.cookies.get("lang"))
    tr = i18n.translations(lang)
    ctx = {"request": request, "_": tr.gettext, "lang": lang, "fmt": i18n.Fmt(lang),
           "csrf_token": request.scope.get("state", {}).get("csrf_token", ""),
           "user": None, "path": request.url.path, "errors": {}, "values": {}}
    ctx.update(extra or {})
    return ctx


def render(request: Request, name: str, extra: dict | None = None, *, status: int = 200,
           block: str | None = None, headers: dict | None = None) -> HTMLResponse:
    ctx = context(request, extra)
    if block is not None:
        html = render_block(_env, name, block, ctx)
    else:
        html = _env.get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status, headers=headers)


def render_error(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    from .deps import optional_user
    try:
        user = optional_user(request, None)
    except Exception:  # noqa: BLE001 - an error page must render even without a database
        user = None
    return render(request, "error.html", {"status": status, "title": title, "detail": detail,
                                          "user": user}, status=status)


def env() -> jinja2.Environment:
    return _env
