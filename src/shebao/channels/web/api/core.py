"""API: sign-in, the signed-in user, who read my data, notifications, calculators, audit
log, accounts, maker-checker queue."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from shebao.benefits import queries as benefits_queries
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.rules.calculators import calculate, registry
from shebao.security import policy, queries
from shebao.security import service as sec

from .. import pagination
from ..deps import bearer, current_actor, current_user, engine, needs
from ..pagination import Page
from .params import Cursor, Limit, PathId

router = APIRouter()


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    username: str
    role: str


class Me(BaseModel):
    username: str
    role: str
    scope: str
    display_name: str
    person_id: int | None
    employer_id: int | None


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    subject_type: str
    subject_id: str | None
    fields: list[str]
    purpose: str | None


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=1, max_length=200)     # the policy names the problem
    role: Literal["citizen", "employer", "collection_clerk", "benefits_clerk", "inspector",
                  "administrator"]
    scope: str = Field("national", max_length=16)
    display_name: str | None = Field(None, max_length=100)
    person_id: int | None = Field(None, ge=1, le=2 ** 62)
    employer_id: int | None = Field(None, ge=1, le=2 ** 62)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    scope: str
    display_name: str
    active: bool
    locked: bool = False
    must_change_password: bool = False
    created_by: str | None = None
    password_reset_by: str | None = None


class TemporaryPassword(BaseModel):
    temporary_password: str
    must_change_password: Literal[True] = True


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=1, max_length=200)


def _user_out(r: dict) -> UserOut:
    return UserOut(**{k: r[k] for k in UserOut.model_fields if k in r})


class ApprovalOut(BaseModel):
    id: int
    kind: str
    subject_type: str
    subject_id: str
    region: str
    status: str
    maker: str
    checker: str | None
    made_at: dt.datetime
    checked_at: dt.datetime | None
    reason: str | None


def _entry(r) -> AuditEntry:
    return AuditEntry(id=r.id, at=sec.utc(r.at), actor=r.actor, role=r.role, action=r.action,
                      subject_type=r.subject_type, subject_id=r.subject_id,
                      fields=[f for f in (r.fields or "").split(",") if f], purpose=r.purpose)


@router.post("/auth/token", response_model=TokenOut, tags=["auth"],
             summary="Sign in; returns a bearer token")
def token(request: Request, creds: Credentials, eng=Depends(engine)):
    ip = request.client.host if request.client else "unknown"
    config = request.app.state.settings.auth
    tok, user = sec.login(eng, creds.username, creds.password, ip=ip, kind="api", config=config)
    return TokenOut(token=tok, expires_in=int(config.lifetime["api"].total_seconds()),
                    username=user.username, role=user.role)


@router.delete("/auth/token", status_code=204, tags=["auth"], summary="Sign out (revoke token)")
def revoke(creds=Depends(bearer), user=Depends(current_user), eng=Depends(engine)):
    sec.logout(eng, creds.credentials if creds else None)
    return Response(status_code=204)


@router.get("/me", response_model=Me, tags=["me"])
def me(user=Depends(current_user)):
    return Me(username=user.username, role=user.role, scope=user.scope,
              display_name=user.display_name, person_id=user.person_id,
              employer_id=user.employer_id)


def reads_of_person(eng, person_id: int, limit: int, cursor) -> tuple[list, str | None]:
    """Audit rows about a person: their record, and their pension cases."""
    with eng.connect() as conn:
        cases = [str(c) for c in benefits_queries.case_ids_of_person(conn, person_id)]
    rows = queries.audit_entries(eng, limit=limit + 1, before=pagination.decode(cursor),
                                 about=[("person", [str(person_id)]), ("pension_case", cases)])
    return pagination.page(rows, limit, lambda r: r.id)


@router.get("/me/reads", response_model=Page[AuditEntry], tags=["me"],
            summary="Who has read or changed my data, and why (newest first)")
def my_reads(limit: Limit = 50, cursor: Cursor = None, actor: Actor = Depends(current_actor),
             eng=Depends(engine)):
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("only citizens have a personal access record")
    rows, nxt = reads_of_person(eng, actor.person_id, limit, cursor)
    return Page[AuditEntry](items=[_entry(r) for r in rows], next_cursor=nxt)


CalcName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,40}$")]


@router.post("/calc/{name}", tags=["calculators"],
             summary="Run a calculator (the same functions as `shebao calc`)",
             response_model=dict)
def calc(name: CalcName, request_body: Annotated[dict, Body()],
         actor: Actor = Depends(needs("calc.use"))):
    if name not in registry():
        raise InputError(f"unknown calculator {name!r}; known: {', '.join(sorted(registry()))}",
                         field="name")
    return calculate(name, request_body)


@router.get("/calc", tags=["calculators"], response_model=Page[str],
            summary="Names of the calculators")
def calc_names(limit: Limit = 50, cursor: Cursor = None,
               actor: Actor = Depends(needs("calc.use"))):
    after = pagination.decode(cursor, kind=str)
    names = [n for n in sorted(registry()) if after is None or n > after]
    names, nxt = pagination.page(names[:limit + 1], limit, lambda n: n)
    return Page[str](items=names, next_cursor=nxt)


@router.get("/audit", response_model=Page[AuditEntry], tags=["audit"],
            summary="The audit log, newest first (inspectors and administrators)")
def audit_list(limit: Limit = 50, cursor: Cursor = None,
               subject_type: Annotated[str | None, Query(max_length=32)] = None,
               subject_id: Annotated[str | None, Query(max_length=64)] = None,
               actor: Actor = Depends(needs("audit.read")), eng=Depends(engine)):
    """A national inspector or administrator reads the whole log; a regional one reads what
    the staff of their region did, or everything about a person or employer of their region
    (``subject_type`` + ``subject_id``)."""
    actors = None
    if actor.scope != "national":
        if subject_type or subject_id:
            _require_subject_in_scope(eng, actor, subject_type, subject_id)
        else:
            actors = staff_in_scope(eng, actor)
    rows = queries.audit_entries(eng, limit=limit + 1, before=pagination.decode(cursor),
                                 actors=actors, subject_type=subject_type,
                                 subject_id=subject_id)
    rows, nxt = pagination.page(rows, limit, lambda r: r.id)
    return Page[AuditEntry](items=[_entry(r) for r in rows], next_cursor=nxt)


def staff_in_scope(eng, actor: Actor) -> list[str]:
    return queries.staff_usernames_within(eng, actor.scope)


def _require_subject_in_scope(eng, actor: Actor, subject_type, subject_id) -> None:
    if subject_type not in ("person", "employer") or not (subject_id or "").isdigit() \
            or len(subject_id) > 18:
        raise PermissionDenied(f"scope {actor.scope}: name a person or employer of your region "
                               "(subject_type and subject_id)")
    from shebao.registry import access
    with eng.connect() as conn:
        if subject_type == "person":
            access.check_person(conn, actor, int(subject_id))
        else:
            access.check_employer(conn, actor, int(subject_id))


@router.get("/users", response_model=Page[UserOut], tags=["accounts"])
def users_list(limit: Limit = 50, cursor: Cursor = None,
               actor: Actor = Depends(needs("user.manage")), eng=Depends(engine)):
    rows = queries.accounts_within(eng, actor.scope, after=pagination.decode(cursor))
    rows = rows[:limit + 1]
    rows, nxt = pagination.page(rows, limit, lambda r: r["id"])
    return Page[UserOut](items=[_user_out(r) for r in rows], next_cursor=nxt)


@router.post("/users", response_model=UserOut, status_code=201, tags=["accounts"])
def users_create(body: UserIn, actor: Actor = Depends(needs("user.manage")),
                 eng=Depends(engine)):
    u = sec.create_user(eng, actor, username=body.username, password=body.password,
                        role=body.role, scope=body.scope, display_name=body.display_name,
                        person_id=body.person_id, employer_id=body.employer_id)
    return UserOut(id=u.id, username=u.username, role=u.role, scope=u.scope,
                   display_name=u.display_name, active=u.active, created_by=actor.id)




@router.post("/users/{user_id}/unlock", status_code=204, tags=["accounts"],
             summary="Clear the account's sign-in lockout (audited)")
def users_unlock(user_id: PathId, actor: Actor = Depends(needs("user.manage")),
                 eng=Depends(engine)):
    sec.unlock(eng, actor, user_id)
    return Response(status_code=204)


@router.post("/users/{user_id}/password-reset", response_model=TemporaryPassword,
             tags=["accounts"], summary="Set a temporary password, to be changed at the next "
                                        "sign-in; ends the account's sessions (audited)")
def users_reset(user_id: PathId, actor: Actor = Depends(needs("user.manage")),
                eng=Depends(engine)):
    return TemporaryPassword(temporary_password=sec.reset_password(eng, actor, user_id))


@router.post("/users/{user_id}/deactivate", status_code=204, tags=["accounts"],
             summary="Deactivate the account and end its sessions (audited)")
def users_deactivate(user_id: PathId, actor: Actor = Depends(needs("user.manage")),
                     eng=Depends(engine)):
    sec.set_active(eng, actor, user_id, False)
    return Response(status_code=204)


@router.post("/users/{user_id}/reactivate", status_code=204, tags=["accounts"],
             summary="Reactivate the account (audited)")
def users_reactivate(user_id: PathId, actor: Actor = Depends(needs("user.manage")),
                     eng=Depends(engine)):
    sec.set_active(eng, actor, user_id, True)
    return Response(status_code=204)


@router.delete("/users/{user_id}/sessions", status_code=204, tags=["accounts"],
               summary="End every session and API token of the account (audited)")
def users_end_sessions(user_id: PathId, actor: Actor = Depends(needs("user.manage")),
                       eng=Depends(engine)):
    sec.end_sessions(eng, actor, user_id)
    return Response(status_code=204)


@router.post("/me/password", status_code=204, tags=["me"],
             summary="Change my password (the current one is checked like a sign-in); every "
                     "session and token of the account ends")
def my_password(request: Request, body: PasswordChange, user=Depends(current_user),
                eng=Depends(engine)):
    ip = request.client.host if request.client else "unknown"
    sec.change_own_password(eng, user, body.current, body.new, ip=ip,
                            config=request.app.state.settings.auth)
    return Response(status_code=204)


@router.get("/approvals", response_model=Page[ApprovalOut], tags=["maker-checker"],
            summary="Maker-checker queue in my region scope")
def approvals_list(limit: Limit = 50, cursor: Cursor = None,
                   status: Literal["pending", "approved", "rejected"] = "pending",
                   actor: Actor = Depends(current_actor), eng=Depends(engine)):
    if not (policy.has(actor, "pension.read") and policy.is_staff(actor)) and not \
            policy.has(actor, "payroll.read"):
        raise PermissionDenied(f"role {actor.role} has no maker-checker queue")
    rows = [r for r in queries.approval_rows(eng, status=status,
                                             after=pagination.decode(cursor))
            if policy.in_region(actor, r.region)]
    rows, nxt = pagination.page(rows[:limit + 1], limit, lambda r: r.id)
    return Page[ApprovalOut](items=[ApprovalOut(
        id=r.id, kind=r.kind, subject_type=r.subject_type, subject_id=r.subject_id,
        region=r.region, status=r.status, maker=r.maker, checker=r.checker,
        made_at=sec.utc(r.made_at), checked_at=sec.utc(r.checked_at), reason=r.reason)
        for r in rows], next_cursor=nxt)
