"""Sign-in, sign-out, language switch and the start page (which sends each role home)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse

from shebao.security import service as sec
from shebao.security.service import AccountLocked, LoginRefused, RateLimited, User

from .. import csrf, i18n
from ..deps import SESSION_COOKIE, cookie_token, engine, optional_user, sign_session
from ..render import render
from shebao.core.errors import InputError

from ..deps import current_user
from .common import form, safe_next

router = APIRouter(include_in_schema=False)

HOME = {"citizen": "/me", "employer": "/employer"}


def home_of(user: User) -> str:
    return HOME.get(user.role, "/staff")


@router.get("/")
def start(user: User | None = Depends(optional_user)):
    return RedirectResponse(home_of(user) if user else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "", user: User | None = Depends(optional_user)):
    if user:
        return RedirectResponse(home_of(user), status_code=303)
    return render(request, "login.html", {"values": {"next": safe_next(next, "")}})


@router.post("/login")
async def login(request: Request, eng=Depends(engine)):
    f = await form(request)
    username, password = f.get("username", ""), f.get("password", "")
    values = {"username": username, "next": f.get("next", "")}
    errors = {}
    if not username:
        errors["username"] = i18n_msg(request, "Enter your username")
    if not password:
        errors["password"] = i18n_msg(request, "Enter your password")
    status = 422
    if not errors:
        ip = request.client.host if request.client else "unknown"
        try:
            token, user = sec.login(eng, username, password, ip=ip, kind="web",
                                    config=request.app.state.settings.auth)
        except LoginRefused:
            errors["password"] = i18n_msg(request, "Wrong username or password")
            status = 401
        except AccountLocked:
            errors["_form"] = i18n_msg(request, "This account is temporarily locked after repeated failed sign-ins")
            status = 423
        except RateLimited:
            errors["_form"] = i18n_msg(request, "Too many sign-in attempts; wait a few minutes")
            status = 429
        else:
            resp = RedirectResponse(safe_next(f.get("next"), home_of(user)), status_code=303)
            signed = sign_session(request, token)
            settings = request.app.state.settings
            # the CSRF token of the new session (the form's token was for the anonymous one)
            resp.headers.append("set-cookie", csrf.cookie_header(
                csrf.session_token(settings.secret_key, signed), settings.cookie_secure))
            resp.set_cookie(SESSION_COOKIE, signed, httponly=True,
                            secure=request.app.state.settings.cookie_secure, samesite="lax",
                            max_age=int(request.app.state.settings.auth.lifetime["web"]
                                        .total_seconds()), path="/")
            return resp
    return render(request, "login.html", {"errors": errors, "values": values}, status=status)


def i18n_msg(request: Request, msg: str) -> str:
    return i18n.translations(i18n.pick(request.cookies.get("lang"))).gettext(msg)


@router.post("/logout")
def logout(request: Request, eng=Depends(engine)):
    sec.logout(eng, cookie_token(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{code}")
def set_lang(code: str, next: str = "/"):
    resp = RedirectResponse(safe_next(next, "/"), status_code=303)
    if code in i18n.LANGS:
        resp.set_cookie("lang", code, max_age=365 * 86400, samesite="lax", path="/")
    return resp



@router.get("/account/password")
def password_form(request: Request, user: User = Depends(current_user)):
    return render(request, "password.html", {"user": user})


@router.post("/account/password")
async def password_change(request: Request, user: User = Depends(current_user),
                          eng=Depends(engine)):
    """Change one's own password: the current one is checked like a sign-in (lockout lanes,
    audited when wrong); every session ends."""
    f = await form(request)
    errors = {}
    status = 422
    if f.get("new", "") != f.get("repeat", ""):
        errors["repeat"] = i18n_msg(request, "The two new passwords differ")
    else:
        ip = request.client.host if request.client else "unknown"
        try:
            sec.change_own_password(eng, user, f.get("current", ""), f.get("new", ""), ip=ip,
                                    config=request.app.state.settings.auth)
        except AccountLocked:
            errors["_form"] = i18n_msg(
                request, "This account is temporarily locked after repeated failed sign-ins")
            status = 423
        except InputError as exc:
            errors[exc.field or "new"] = (i18n_msg(request, "Wrong password")
                                         if exc.field == "current" else exc.reason)
    if errors:
        return render(request, "password.html", {"user": user, "errors": errors},
                      status=status)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
