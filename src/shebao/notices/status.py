"""Delivery status, for staff (counts per status and channel in their region subtree, the
notices that failed and why) and for the recipient (the attempts on one of their notices).
Plain data out; staff reads are scope-checked and audited."""
from __future__ import annotations

from sqlalchemy import func, select

from shebao.core.actor import Actor
from shebao.db.uow import reading, transaction
from shebao.security import audit, policy

from .tables import notice, notice_attempt


def _prefix(region: str) -> str:
    if region == "national":
        return "%"
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


def summary(bind, actor: Actor, region: str | None = None) -> dict:
    """Counts per status × channel for ``region`` (default: the actor's scope)."""
    policy.require(actor, "notices.read")
    region = region or actor.scope
    policy.require_region(actor, region)
    with reading(bind) as conn:
        rows = conn.execute(
            select(notice.c.status, notice.c.channel, func.count())
            .where(notice.c.region.like(_prefix(region)))
            .group_by(notice.c.status, notice.c.channel)).all()
    by_status: dict[str, int] = {}
    for st, _, n in rows:
        by_status[st] = by_status.get(st, 0) + n
    return {"region": region, "by_status": by_status,
            "rows": [{"status": s, "channel": c or "", "count": n} for s, c, n in rows]}


def problems(bind, actor: Actor, region: str | None = None, limit: int = 50) -> list[dict]:
    """The failed (dead) notices and those retrying, newest first: no message content, only
    the template, recipient reference, attempts and the gateway's error. Audited."""
    policy.require(actor, "notices.read")
    region = region or actor.scope
    policy.require_region(actor, region)
    with transaction(bind) as conn:
        rows = conn.execute(
            select(notice.c.id, notice.c.region, notice.c.recipient_type,
                   notice.c.recipient_id, notice.c.template, notice.c.status,
                   notice.c.attempts, notice.c.channel, notice.c.next_attempt_at,
                   notice.c.last_error)
            .where(notice.c.region.like(_prefix(region)), notice.c.last_error.is_not(None),
                   notice.c.status.in_(("pending", "failed")))
            .order_by(notice.c.id.desc()).limit(limit)).mappings().all()
        audit.record(conn, actor, "notices.problems.read", "region", region,
                     purpose="delivery status", detail={"rows": len(rows)})
    return [dict(r) for r in rows]


def attempts(bind, notice_ids: list[int]) -> dict[int, list[dict]]:
    """Attempts per notice (the caller has checked the notices are the reader's)."""
    out: dict[int, list[dict]] = {i: [] for i in notice_ids}
    if not notice_ids:
        return out
    with reading(bind) as conn:
        for r in conn.execute(select(notice_attempt).where(
                notice_attempt.c.notice_id.in_(notice_ids))
                .order_by(notice_attempt.c.id)).mappings():
            out[r["notice_id"]].append(dict(r))
    return out
