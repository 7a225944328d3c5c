"""Alerts of the monitoring rules: the inspector's list, one alert, dismissal.

Lists filter the actor's region subtree in SQL and page by id (newest first); the evidence
names persons by id only (and accounts masked), so a list needs no further masking. Every read
of an alert and every dismissal is audited.
"""
from __future__ import annotations

import json

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.db.uow import reading, transaction
from shebao.security import audit, policy

from .monitor import scope_like
from .tables import monitor_alert, monitor_run

STATUSES = ("open", "dismissed", "case", "closed")


def as_dict(r) -> dict:
    d = dict(r._mapping if hasattr(r, "_mapping") else r)
    d["evidence"] = json.loads(d["evidence"])
    for k in ("first_seen_at", "last_seen_at"):
        d[k] = str(d[k])
    return d


def list_alerts(db, actor: Actor, *, status: str | None = "open", rule: str | None = None,
                limit: int = 50, after: int | None = None) -> list[dict]:
    policy.require(actor, "supervision.alert.read")
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}", field="status")
    conds = [monitor_alert.c.region.like(scope_like(actor.scope))]
    if status:
        conds.append(monitor_alert.c.status == status)
    if rule:
        conds.append(monitor_alert.c.rule == rule)
    if after is not None:
        conds.append(monitor_alert.c.id < after)
    with transaction(db) as conn:
        rows = conn.execute(select(monitor_alert).where(and_(*conds)).order_by(
            monitor_alert.c.id.desc()).limit(limit)).all()
        out = [as_dict(r) for r in rows if policy.in_region(actor, r.region)]
        audit.record(conn, actor, "supervision.alert.list", "monitor_alert", None,
                     detail={"ids": [a["id"] for a in out], "status": status, "rule": rule})
    return out


def get_alert(db, actor: Actor, alert_id: int, *, audited: bool = True) -> dict:
    policy.require(actor, "supervision.alert.read")
    with transaction(db) as conn:
        r = conn.execute(select(monitor_alert).where(monitor_alert.c.id == alert_id)).first()
        if r is None:
            raise InputError(f"no alert {alert_id}", field="alert_id")
        policy.require_region(actor, r.region)
        if audited:
            audit.record(conn, actor, "supervision.alert.read", "monitor_alert", alert_id)
    return as_dict(r)


def dismiss(db, actor: Actor, alert_id: int, reason: str) -> dict:
    """An open alert judged a false positive: dismissed with the reason; a later run that finds
    the same subject again updates it but does not reopen it."""
    policy.require(actor, "supervision.case.work")
    if not reason or not reason.strip():
        raise InputError("a dismissal needs a reason", field="reason")
    with transaction(db) as conn:
        r = conn.execute(select(monitor_alert).where(monitor_alert.c.id == alert_id)).first()
        if r is None:
            raise InputError(f"no alert {alert_id}", field="alert_id")
        policy.require_region(actor, r.region)
        if r.status != "open":
            raise ConflictError(f"alert {alert_id} is {r.status}, not open")
        conn.execute(update(monitor_alert).where(monitor_alert.c.id == alert_id).values(
            status="dismissed", closed_by=actor.id, close_reason=reason.strip()[:200]))
        audit.record(conn, actor, "supervision.alert.dismiss", "monitor_alert", alert_id,
                     detail={"reason": reason.strip()[:200]})
    return {"id": alert_id, "status": "dismissed"}


def mark_case(conn, alert_id: int, case_id: int) -> None:
    """Inside an inspection's transaction: the alert now has a case."""
    conn.execute(update(monitor_alert).where(monitor_alert.c.id == alert_id).values(
        status="case", case_id=case_id))


def runs(db, limit: int = 20) -> list[dict]:
    with reading(db) as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(monitor_run).order_by(monitor_run.c.id.desc()).limit(limit))]


def summary(db, actor: Actor) -> list[dict]:
    """Open alerts per rule in the actor's scope (counts only: no personal data)."""
    policy.require(actor, "supervision.alert.read")
    from sqlalchemy import func
    with reading(db) as conn:
        return [{"rule": r.rule, "status": r.status, "n": int(r.n), "max_score": int(r.m)}
                for r in conn.execute(select(
                    monitor_alert.c.rule, monitor_alert.c.status,
                    func.count().label("n"), func.max(monitor_alert.c.score).label("m")).where(
                    monitor_alert.c.region.like(scope_like(actor.scope))).group_by(
                    monitor_alert.c.rule, monitor_alert.c.status).order_by(monitor_alert.c.rule))]
