"""Maker-checker (four eyes): a decision prepared by one staff member takes effect only after a
second, *different* staff member with the right role and region scope approves it.

The benefits package calls these inside its own transaction (pass its connection):

    from shebao.security import maker_checker as mc
    aid = mc.submit(conn, maker, mc.PENSION, "pension_case", case_id, region="310104",
                    detail={"monthly_total": "6510.17"})
    ...
    mc.approve(conn, checker, aid)            # PermissionDenied if checker == maker, wrong
                                              # role or out of scope; ConflictError if decided
    mc.reject(conn, checker, aid, reason="...")
    mc.require_approved(conn, mc.PENSION, "pension_case", case_id)   # before paying

Separation of duties (``duties.py``): a check is refused when the maker's and the checker's
accounts were created or last reset by the same administrator. Each call writes one audit row. The database refuses a row whose checker equals its maker
(check constraint ``ck_approvals_four_eyes``), so even a bug in a caller cannot self-approve.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied

from . import audit, duties, policy
from .duties import KINDS, PAYROLL, PENSION  # noqa: F401 - the kinds are part of this API
from .service import now, utc
from .tables import approvals


@dataclass(frozen=True)
class Approval:
    id: int
    kind: str
    subject_type: str
    subject_id: str
    region: str
    status: str
    maker: str
    maker_role: str
    made_at: object
    checker: str | None
    checker_role: str | None
    checked_at: object
    reason: str | None
    detail: dict | None


def _row(r) -> Approval:
    return Approval(r.id, r.kind, r.subject_type, r.subject_id, r.region, r.status, r.maker,
                    r.maker_role, utc(r.made_at), r.checker, r.checker_role, utc(r.checked_at),
                    r.reason, json.loads(r.detail) if r.detail else None)


def _kind(kind: str) -> tuple[str, str]:
    if kind not in KINDS:
        raise InputError(f"unknown approval kind {kind!r}", field="kind")
    return KINDS[kind]


def submit(conn: Connection, maker: Actor, kind: str, subject_type: str, subject_id,
           *, region: str, detail: dict | None = None) -> int:
    """Record that ``maker`` prepared a decision on the subject; returns the approval id.
    A subject has at most one pending approval of a kind (a resubmission is a conflict)."""
    maker_perm, _ = _kind(kind)
    if maker.role == "system":
        raise PermissionDenied("a maker-checker decision needs a named staff member as maker")
    policy.require(maker, maker_perm)
    policy.require_region(maker, region)
    sid = str(subject_id)
    pending = conn.execute(select(approvals.c.id).where(and_(
        approvals.c.kind == kind, approvals.c.subject_type == subject_type,
        approvals.c.subject_id == sid, approvals.c.status == "pending"))).first()
    if pending:
        raise ConflictError(f"{subject_type} {sid} already awaits a check (approval {pending.id})")
    aid = conn.execute(insert(approvals).values(
        kind=kind, subject_type=subject_type, subject_id=sid, region=region, status="pending",
        maker=maker.id, maker_role=maker.role, made_at=now(),
        detail=json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
        if detail is not None else None).returning(approvals.c.id)).scalar_one()
    audit.record(conn, maker, f"{kind}.submit", subject_type, sid,
                 detail={"approval": aid, **({"detail": detail} if detail else {})})
    return aid


def get(conn: Connection, approval_id: int) -> Approval:
    r = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
    if r is None:
        raise InputError(f"no approval {approval_id}", field="approval_id")
    return _row(r)


def _decide(conn: Connection, checker: Actor, approval_id: int, status: str,
            reason: str | None) -> Approval:
    a = get(conn, approval_id)
    _, checker_perm = _kind(a.kind)
    if checker.role == "system":
        raise PermissionDenied("a check needs a named staff member")
    policy.require(checker, checker_perm)
    policy.require_region(checker, a.region)
    if checker.id == a.maker:
        raise PermissionDenied("the checker must be a different staff member from the maker "
                               f"({a.maker})")
    duties.check_pair(conn, a.maker, checker.id)
    if a.status != "pending":
        raise ConflictError(f"approval {approval_id} is already {a.status}")
    if status == "rejected" and not (reason and reason.strip()):
        raise InputError("a rejection needs a reason", field="reason")
    res = conn.execute(update(approvals).where(and_(
        approvals.c.id == approval_id, approvals.c.status == "pending")).values(
        status=status, checker=checker.id, checker_role=checker.role, checked_at=now(),
        reason=(reason or None)))
    if res.rowcount != 1:  # a concurrent checker got there first
        raise ConflictError(f"approval {approval_id} was decided concurrently")
    audit.record(conn, checker, f"{a.kind}.{'approve' if status == 'approved' else 'reject'}",
                 a.subject_type, a.subject_id,
                 detail={"approval": approval_id, "maker": a.maker, "reason": reason})
    return get(conn, approval_id)


def approve(conn: Connection, checker: Actor, approval_id: int, *, reason: str | None = None
            ) -> Approval:
    return _decide(conn, checker, approval_id, "approved", reason)


def reject(conn: Connection, checker: Actor, approval_id: int, *, reason: str) -> Approval:
    return _decide(conn, checker, approval_id, "rejected", reason)


def latest(conn: Connection, kind: str, subject_type: str, subject_id) -> Approval | None:
    r = conn.execute(select(approvals).where(and_(
        approvals.c.kind == kind, approvals.c.subject_type == subject_type,
        approvals.c.subject_id == str(subject_id))).order_by(approvals.c.id.desc()).limit(1)
    ).first()
    return _row(r) if r else None


def require_approved(conn: Connection, kind: str, subject_type: str, subject_id) -> Approval:
    a = latest(conn, kind, subject_type, subject_id)
    if a is None or a.status != "approved":
        raise PermissionDenied(f"{subject_type} {subject_id} has no approved {kind} "
                               f"({'none submitted' if a is None else a.status})")
    return a


def pending(conn: Connection, actor: Actor, kind: str | None = None) -> list[Approval]:
    """Pending approvals in the actor's scope (for a checker's work queue)."""
    q = select(approvals).where(approvals.c.status == "pending").order_by(approvals.c.id)
    if kind:
        q = q.where(approvals.c.kind == kind)
    return [_row(r) for r in conn.execute(q) if policy.in_region(actor, r.region)]
