"""Separation of duties: no administrator may hold both halves of a four-eyes decision.

An administrator who creates an account, or resets its password, knows (or knew) its password:
they *control* it. ``users.created_by`` and ``users.password_reset_by`` record that (the system
account, which seeds demo and bootstrap accounts, controls nothing).

Two rules:

1. **On granting control** (creating an account, resetting its password):
   :func:`check_grant` refuses when the administrator already controls another active account
   that, together with this one, could be the maker and the checker of one kind of decision
   (one role holds the maker's permission, the other the checker's, and the two region scopes
   overlap). Another administrator must create or reset that second account.
2. **On approval** (``maker_checker.approve/reject``): :func:`check_pair` refuses when the
   maker's and the checker's accounts share a controller, or one account controls the other —
   whatever happened to accounts or roles since.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied

from . import policy
from .tables import users

PENSION = "pension.determination"
PAYROLL = "payroll.release"
TRANSFER_OUT = "mobility.transfer_out"   # mobility (#15): funds leaving a region's fund
# supervision (#14): inspection decisions (recover, back-assess, fine, refer) and blacklist listings
SUPERVISION_DECISION = "supervision.decision"
SUPERVISION_BLACKLIST = "supervision.blacklist"
# benefits casework (#13): benefit decisions and the review of a decision on appeal
BENEFIT_DECISION = "benefit.decision"
BENEFIT_APPEAL = "benefit.appeal"
MEDICAL_MANUAL_CLAIM = "medical.manual_claim"   # medical (#16): a manual reimbursement
RESIDENT_AWARD = "residents.award"             # residents (#16): a resident pension award
# reports (#18): a fiscal subsidy posted to a fund, a fund budget, the year's final accounts
FUND_DECISION = "reports.fund_decision"

# kind of four-eyes decision → (permission of the maker, permission of the checker)
KINDS: dict[str, tuple[str, str]] = {
    PENSION: ("pension.compute", "pension.approve"),
    PAYROLL: ("payroll.prepare", "payroll.approve"),
    # mobility (#15)
    TRANSFER_OUT: ("mobility.transfer.work", "mobility.transfer.approve"),
    # supervision (#14)
    SUPERVISION_DECISION: ("supervision.case.work", "supervision.decision.approve"),
    SUPERVISION_BLACKLIST: ("supervision.case.work", "supervision.decision.approve"),
    # benefits casework (#13)
    BENEFIT_DECISION: ("benefit.case.work", "benefit.decision.approve"),
    BENEFIT_APPEAL: ("benefit.appeal.review", "benefit.appeal.approve"),
    # medical and residents (#16)
    MEDICAL_MANUAL_CLAIM: ("medical.claim.work", "medical.claim.approve"),
    RESIDENT_AWARD: ("residents.award", "residents.award.approve"),
    # reports (#18)
    FUND_DECISION: ("reports.manage", "reports.approve"),
}


def _holds(role: str, permission: str) -> bool:
    return role in policy.PERMISSIONS.get(permission, frozenset())


def _pair_kind(role_a: str, role_b: str) -> str | None:
    """A kind where one role can make and the other check, or None."""
    for kind, (make, check) in KINDS.items():
        if (_holds(role_a, make) and _holds(role_b, check)) or \
                (_holds(role_a, check) and _holds(role_b, make)):
            return kind
    return None


def _overlap(a: str, b: str) -> bool:
    return regions.within(a, b) or regions.within(b, a)


def check_grant(conn: Connection, actor: Actor, username: str, role: str, scope: str) -> None:
    """Refuse to let ``actor`` take control of account ``username`` (role, scope) when it already
    controls an account that would be the other half of a four-eyes decision (rule 1)."""
    if actor.role == "system" or not any(_holds(role, p) for pair in KINDS.values()
                                          for p in pair):
        return
    rows = conn.execute(select(users.c.username, users.c.role, users.c.scope).where(and_(
        users.c.active.is_(True), users.c.username != username,
        or_(users.c.created_by == actor.id, users.c.password_reset_by == actor.id)))).all()
    for r in rows:
        kind = _pair_kind(role, r.role)
        if kind and _overlap(scope, r.scope):
            raise PermissionDenied(
                f"separation of duties: {actor.id} already created or reset {r.username} "
                f"({r.role}, {r.scope}); with {username} they would control both the maker and "
                f"the checker of {kind}. Another administrator must do this")


def controllers(conn: Connection, username: str) -> set[str]:
    r = conn.execute(select(users.c.created_by, users.c.password_reset_by)
                     .where(users.c.username == username)).first()
    if r is None:
        return set()
    return {c for c in (r.created_by, r.password_reset_by) if c and c != "system"}


def check_pair(conn: Connection, maker: str, checker: str) -> None:
    """Refuse a check when the maker's and checker's accounts are controlled by the same
    administrator, or one controls the other (rule 2)."""
    a, b = controllers(conn, maker), controllers(conn, checker)
    shared = sorted(a & b)
    if shared:
        raise PermissionDenied(f"separation of duties: the accounts of maker {maker} and "
                               f"checker {checker} were both created or reset by {shared[0]}")
    if checker in a or maker in b:
        raise PermissionDenied(f"separation of duties: {checker if checker in a else maker} "
                               "created or reset the other account of this decision")
