"""Request dependencies: the database, the signed-in user (cookie for pages, bearer token for
the API), the actor, and the purpose of a read (recorded in the audit log).

Only ``optional_user`` touches the database (a plain ``def``: FastAPI runs it in the thread
pool); the others are quick checks on values already at hand, ``async def`` so that they run
on the event loop instead of costing each request a trip through the thread pool."""
from __future__ import annotations

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeSerializer

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.security import policy
from shebao.security.service import User, session_user

from .problems import NotAuthenticated, PasswordChangeRequired

SESSION_COOKIE = "shebao_session"
bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/token")


async def engine(request: Request):
    return request.app.state.engine


def _signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, "session")


def sign_session(request: Request, token: str) -> str:
    return _signer(request).dumps(token)


def cookie_token(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        return _signer(request).loads(raw)
    except BadSignature:
        return None


def optional_user(request: Request,
                  creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User | None:
    eng = request.app.state.engine
    config = request.app.state.settings.auth
    if creds is not None and request.url.path.startswith("/api/"):
        return session_user(eng, creds.credentials, kind="api", config=config)
    token = cookie_token(request)
    return session_user(eng, token, kind="web", config=config) if token else None


# where an account with a temporary password may go: change it, or leave
PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/api/v1/me/password",
                         "/api/v1/auth/token")


async def current_user(request: Request, user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise NotAuthenticated()
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return user


async def current_actor(user: User = Depends(current_user)) -> Actor:
    return user.actor()


def needs(permission: str):
    """Dependency: the actor holds ``permission`` (role check; scope is checked per record)."""
    async def dep(actor: Actor = Depends(current_actor)) -> Actor:
        policy.require(actor, permission)
        return actor
    return dep


def roles(*allowed: str):
    async def dep(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in allowed:
            raise PermissionDenied(f"role {actor.role} may not use this")
        return actor
    return dep


async def purpose(x_purpose: str | None = Header(None, max_length=200,
                                          description="why personal data is read (audited)")
            ) -> str | None:
    return x_purpose.strip() if x_purpose and x_purpose.strip() else None
