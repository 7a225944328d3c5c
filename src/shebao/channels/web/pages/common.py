"""Helpers shared by the page modules: the signed-in user for pages, form reading, redirects."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.responses import RedirectResponse, Response

from shebao.core.errors import PermissionDenied
from shebao.security import policy
from shebao.security.service import User

from ..deps import current_user


# a record id in a page URL: beyond BIGINT is a 422, never a database error
RecordId = Annotated[int, Path(ge=1, le=2 ** 62)]


def redirect(request: Request, url: str) -> Response:
    """After a successful POST: a 303 (htmx follows it and swaps in the new page)."""
    return RedirectResponse(url, status_code=303)


async def staff_user(user: User = Depends(current_user)) -> User:
    if user.role not in policy.STAFF_ROLES:
        raise PermissionDenied("the back office is for staff")
    return user


async def citizen_user(user: User = Depends(current_user)) -> User:
    if user.role != "citizen":
        raise PermissionDenied("the citizen portal is for citizens")
    return user


async def employer_user(user: User = Depends(current_user)) -> User:
    if user.role != "employer":
        raise PermissionDenied("the employer portal is for employers")
    return user


def user_with(permission: str):
    """A staff member holding ``permission`` (back-office pages are for staff only)."""
    async def dep(user: User = Depends(staff_user)) -> User:
        policy.require(user.actor(), permission)
        return user
    return dep


async def form(request: Request) -> dict:
    data = await request.form()
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in data.multi_items()}


def safe_next(url: str | None, default: str) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default
