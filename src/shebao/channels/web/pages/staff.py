"""Staff back office: start page, audit log (with chain verification), accounts, the
maker-checker queue."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request

from shebao.core import regions
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.security import audit, policy, queries
from shebao.security import service as sec
from shebao.security.service import User

from .. import pagination
from ..deps import engine
from ..render import render
from .common import RecordId, form, staff_user, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff", "Start", 0, None), ("/staff/approvals", "Approvals", 80, None),
                 ("/staff/audit", "Audit log", 90, "audit.read"),
                 ("/staff/users", "Accounts", 95, "user.manage")]}


@router.get("/staff")
def home(request: Request, user: User = Depends(staff_user), eng=Depends(engine)):
    pend = [r for r in queries.pending_regions(eng) if policy.in_region(user.actor(), r)]
    return render(request, "staff/home.html", {"user": user, "pending": len(pend),
                                               "region_name": regions.name(user.scope)})


@router.get("/staff/approvals")
def approvals_page(request: Request, user: User = Depends(staff_user), eng=Depends(engine)):
    rows = [r for r in queries.approval_rows(eng, newest_first=True, limit=500)
            if policy.in_region(user.actor(), r.region)]
    return render(request, "staff/approvals.html", {"user": user, "rows": rows[:100]})


@router.get("/staff/audit")
def audit_page(request: Request, cursor: str | None = None, subject_type: str = "",
               subject_id: str = "", user: User = Depends(user_with("audit.read")),
               eng=Depends(engine)):
    from ..api.core import _require_subject_in_scope, staff_in_scope
    after = pagination.decode(cursor)
    actors = None
    if user.scope != "national":
        if subject_type or subject_id:
            _require_subject_in_scope(eng, user.actor(), subject_type, subject_id)
        else:
            actors = staff_in_scope(eng, user.actor())
    rows = queries.audit_entries(eng, limit=51, before=after, actors=actors,
                                 subject_type=subject_type[:32] or None,
                                 subject_id=subject_id[:64] or None)
    total = queries.audit_count(eng)
    rows, nxt = pagination.page(rows, 50, lambda r: r.id)
    next_url = (f"/staff/audit?cursor={nxt}&subject_type={subject_type}&subject_id={subject_id}"
                if nxt else None)
    return render(request, "staff/audit.html", {"user": user, "rows": rows, "total": total,
                                                "next_url": next_url, "verify": None,
                                                "values": {"subject_type": subject_type,
                                                           "subject_id": subject_id}})


@router.post("/staff/audit/verify")
def audit_verify(request: Request, user: User = Depends(user_with("audit.read")),
                 eng=Depends(engine)):
    with eng.connect() as conn:
        res = audit.verify(conn)
    with eng.begin() as conn:
        audit.record(conn, user.actor(), "audit.verify", "audit_log", None,
                     detail={"ok": res.ok, "rows": res.rows, "first_bad_id": res.first_bad_id})
    return render(request, "staff/audit_verify.html", {"user": user, "verify": res},
                  block="result" if request.headers.get("hx-request") and
                  request.headers.get("hx-target") == "verify-result" else None)


@router.get("/staff/users")
def users_page(request: Request, user: User = Depends(user_with("user.manage")),
               eng=Depends(engine)):
    return _users(request, user, eng, {}, {})


def _users(request, user, eng, errors, values, status=200, flash=None, temporary=None):
    rows = queries.accounts_within(eng, user.scope)
    return render(request, "staff/users.html", {"user": user, "rows": rows, "errors": errors,
                                                "values": values, "flash": flash,
                                                "temporary": temporary,
                                                "roles": policy.ACCOUNT_ROLES}, status=status)


Action = Literal["unlock", "reset", "deactivate", "reactivate", "end-sessions"]


@router.post("/staff/users/{user_id}/{action}")
def users_action(request: Request, user_id: RecordId, action: Action,
                 user: User = Depends(user_with("user.manage")), eng=Depends(engine)):
    """An administrator's action on an account (each audited): unlock, reset the password (a
    temporary one, shown once, to be changed at the next sign-in), deactivate, reactivate,
    end all its sessions."""
    actor = user.actor()
    temporary = None
    try:
        if action == "unlock":
            sec.unlock(eng, actor, user_id)
        elif action == "reset":
            temporary = sec.reset_password(eng, actor, user_id)
        elif action in ("deactivate", "reactivate"):
            sec.set_active(eng, actor, user_id, action == "reactivate")
        else:
            sec.end_sessions(eng, actor, user_id)
    except (InputError, PermissionDenied) as exc:
        return _users(request, user, eng, {"_form": str(getattr(exc, "reason", None) or exc)},
                      {}, status=422 if isinstance(exc, InputError) else 403)
    return _users(request, user, eng, {}, {}, flash=f"#{user_id} {action} ✓",
                  temporary=temporary)


@router.post("/staff/users")
async def users_create(request: Request, user: User = Depends(user_with("user.manage")),
                       eng=Depends(engine)):
    f = await form(request)
    values = {k: f.get(k, "") for k in ("username", "display_name", "role", "scope",
                                        "person_id", "employer_id")}
    errors = {}
    ids = {}
    for k in ("person_id", "employer_id"):
        if values[k]:
            if not values[k].isdigit() or len(values[k]) > 18:
                errors[k] = "must be a number"
            else:
                ids[k] = int(values[k])
    if not errors:
        try:
            sec.create_user(eng, user.actor(), username=values["username"],
                            password=f.get("password", ""), role=values["role"],
                            scope=values["scope"] or "national",
                            display_name=values["display_name"] or None, **ids)
        except InputError as exc:
            errors[exc.field or "_form"] = exc.reason
        except ConflictError as exc:
            errors["username"] = str(exc)
        except PermissionDenied as exc:
            errors["scope"] = str(exc)
        else:
            return _users(request, user, eng, {}, {}, flash=f"{values['username']} ✓")
    return _users(request, user, eng, errors, values, status=422)

