"""Read-only queries over security's tables for the channels (which never import
``security.tables``): plain functions, rows out. Scope filtering by region stays with the
caller's policy checks where it depends on the actor; these only select."""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from shebao.core import regions

from . import policy
from .lockout import utc
from .service import now
from .tables import approvals, audit_log, login_throttle, users

# the account columns a page or the API may show (never the password hash)
_ACCOUNT = (users.c.id, users.c.username, users.c.role, users.c.scope, users.c.display_name,
            users.c.active, users.c.must_change_password, users.c.created_by,
            users.c.password_reset_by, users.c.person_id, users.c.employer_id)


def audit_entries(engine, *, limit: int, before: int | None = None,
                  subject_type: str | None = None, subject_id: str | None = None,
                  actors: list[str] | None = None,
                  about: list[tuple[str, list[str]]] | None = None) -> list:
    """Audit rows, newest first. ``actors`` limits to those actors; ``about`` to rows whose
    subject is any of ``(subject_type, [ids])``."""
    q = select(audit_log)
    if actors is not None:
        q = q.where(audit_log.c.actor.in_(actors))
    if subject_type:
        q = q.where(audit_log.c.subject_type == subject_type)
    if subject_id:
        q = q.where(audit_log.c.subject_id == subject_id)
    if about:
        q = q.where(or_(*[and_(audit_log.c.subject_type == t, audit_log.c.subject_id.in_(ids))
                          for t, ids in about if ids]))
    if before is not None:
        q = q.where(audit_log.c.id < before)
    with engine.connect() as conn:
        return conn.execute(q.order_by(audit_log.c.id.desc()).limit(limit)).all()


def audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


def staff_usernames_within(engine, scope: str) -> list[str]:
    """Usernames of staff accounts whose scope lies inside ``scope``."""
    with engine.connect() as conn:
        return [r.username for r in conn.execute(select(users.c.username, users.c.scope,
                                                        users.c.role))
                if r.role in policy.STAFF_ROLES and regions.within(r.scope, scope)]


def approval_rows(engine, *, status: str | None = None, after: int | None = None,
                  newest_first: bool = False, limit: int | None = None) -> list:
    q = select(approvals)
    if status:
        q = q.where(approvals.c.status == status)
    if after is not None:
        q = q.where(approvals.c.id > after)
    q = q.order_by(approvals.c.id.desc() if newest_first else approvals.c.id)
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        return conn.execute(q).all()


def pending_regions(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(approvals.c.region).where(
            approvals.c.status == "pending")).scalars())


def accounts_within(engine, scope: str, *, after: int | None = None) -> list:
    """Accounts whose scope lies inside ``scope``, by id, with whether each is locked now."""
    q = select(*_ACCOUNT).order_by(users.c.id)
    if after is not None:
        q = q.where(users.c.id > after)
    t = now()
    with engine.connect() as conn:
        rows = [r for r in conn.execute(q) if regions.within(r.scope, scope)]
        locked = {r.username for r in conn.execute(select(
            login_throttle.c.username, login_throttle.c.locked_until).where(
            login_throttle.c.ip == "")) if r.locked_until and utc(r.locked_until) > t}
    return [dict(r._mapping, locked=r.username in locked) for r in rows]


# --- read by org and training (#18): one account by username, in the caller's connection ---
def account(bind, username: str) -> dict | None:
    """The showable columns of one account (``None`` when there is none)."""
    from shebao.db.uow import reading
    with reading(bind) as conn:
        r = conn.execute(select(*_ACCOUNT).where(users.c.username == username)).first()
    return dict(r._mapping) if r else None


def accounts_by_role(bind, roles) -> list[dict]:
    """Active accounts holding one of ``roles`` (username, role, scope, display name)."""
    from shebao.db.uow import reading
    with reading(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(users.c.username, users.c.role, users.c.scope, users.c.display_name).where(
                users.c.role.in_(list(roles)), users.c.active.is_(True))
            .order_by(users.c.username))]
