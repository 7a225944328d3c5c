"""Delivering the outbox: claim due notices, send them through the adapters, record the
outcome. At-least-once to the gateway, exactly once at a deduplicating gateway:

1. **claim** (one short transaction): the due pending notices (``next_attempt_at`` passed) are locked with ``FOR UPDATE SKIP LOCKED`` (concurrent workers take different rows
   without waiting), their ``attempts`` counted up and their ``next_attempt_at`` moved one
   *lease* ahead, then committed: no other worker takes them while this one works, and if this
   one dies they come due again when the lease runs out.
2. **send** (no transaction open): each notice is rendered in the recipient's language and
   handed to the adapter of the first preferred channel that has an address, with the
   idempotency key ``notice:<id>`` — the same on every attempt, so a crash between the
   gateway's acceptance and step 3 cannot make a second message at a gateway that
   deduplicates on it. Without a usable channel the notice goes to the portal inbox only.
   Inside the recipient's quiet hours a push channel waits: the notice is deferred to their end
   and the claim does not count as an attempt.
3. **record** (one transaction per batch): sent notices are marked ``sent`` only after the
   adapter confirmed them (``WHERE status = 'pending'``); failures wait
   ``base × 2^(attempts−1)`` (capped) and after ``max_attempts`` the notice is dead
   (``failed``); every failed, dead or deferred attempt gets a ``notice_attempt`` row (and the
   success that follows them; a first-attempt success is the notice row itself); one audit
   row per batch.

The broker path (``worker.py``) reuses 2–3 on the ids a relay claimed and published.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, insert, select, update

from shebao.core.actor import Actor
from shebao.db import dialect
from shebao.db.uow import now as clock, transaction
from shebao.security import audit

from .adapters import Adapter, Message, Outcome, idempotency_key
from .policy import Policy, parse_hhmm, quiet_until
from .render import render
from .tables import notice, notice_attempt, notice_preference

WORKER = Actor(id="notices.worker", role="system")
PUSH_CHANNELS = ("email", "sms", "wechat")
ADDRESS = {"email": "email", "sms": "phone", "wechat": "wechat"}
PORTAL = "portal"
_CHUNK = 1000


@dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    duplicates: int = 0       # the gateway already had the key (a resend after a crash)
    failed: int = 0           # will be retried
    dead: int = 0             # gave up after max_attempts
    deferred: int = 0         # quiet hours
    by_channel: dict = field(default_factory=dict)

    def add(self, other: "Report") -> None:
        for k in ("claimed", "sent", "duplicates", "failed", "dead", "deferred"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for k, v in other.by_channel.items():
            self.by_channel[k] = self.by_channel.get(k, 0) + v


def _due(at: dt.datetime):
    return and_(notice.c.status == "pending", notice.c.next_attempt_at <= at)


def claim(db, policy: Policy, *, limit: int | None = None, at: dt.datetime | None = None
          ) -> list[int]:
    """Lease up to ``limit`` due notices to the caller (committed at once); their ids."""
    at = at or clock()
    with transaction(db) as conn:
        sel = (select(notice.c.id).where(_due(at)).order_by(notice.c.id)
               .limit(limit or policy.batch_size))
        ids = [r[0] for r in conn.execute(dialect.for_update_skip_locked(conn, sel))]
        for i in range(0, len(ids), _CHUNK):
            conn.execute(update(notice).where(notice.c.id.in_(ids[i:i + _CHUNK]))
                         .values(attempts=notice.c.attempts + 1,
                                 next_attempt_at=at + policy.lease()))
    return ids


def _load(conn, ids: list[int]) -> list:
    cols = [notice.c.id, notice.c.recipient_type, notice.c.recipient_id, notice.c.region,
            notice.c.template, notice.c.data, notice.c.attempts, notice_preference.c.channels,
            notice_preference.c.lang, notice_preference.c.email, notice_preference.c.phone,
            notice_preference.c.wechat, notice_preference.c.quiet_start,
            notice_preference.c.quiet_end]
    j = notice.outerjoin(notice_preference, and_(
        notice_preference.c.recipient_type == notice.c.recipient_type,
        notice_preference.c.recipient_id == notice.c.recipient_id))
    rows = []
    for i in range(0, len(ids), _CHUNK):
        rows.extend(conn.execute(select(*cols).select_from(j).where(
            notice.c.id.in_(ids[i:i + _CHUNK]), notice.c.status == "pending")).all())
    return rows


def _route(row, adapters: dict[str, Adapter]) -> tuple[str, str | None]:
    """The first preferred channel with an address and an adapter; else the portal."""
    for ch in (row.channels or "").split(","):
        ch = ch.strip()
        if ch in PUSH_CHANNELS and ch in adapters:
            address = getattr(row, ADDRESS[ch])
            if address:
                return ch, address
    return PORTAL, None


def _data(text_) -> dict:
    try:
        d = json.loads(text_ or "{}")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def deliver_ids(db, ids: list[int], adapters: dict[str, Adapter], policy: Policy,
                *, at: dt.datetime | None = None) -> Report:
    """Send the claimed notices ``ids`` (those still pending) and record the outcomes."""
    rep = Report(claimed=len(ids))
    if not ids:
        return rep
    at = at or clock()
    with transaction(db) as conn:
        rows = _load(conn, ids)
    outgoing: dict[str, list[tuple]] = {}
    outcomes: list[tuple] = []      # (row, channel, Outcome | None, deferred_until)
    for row in rows:
        channel, address = _route(row, adapters)
        if channel == PORTAL:
            outcomes.append((row, PORTAL, Outcome(True), None))
            continue
        until = quiet_until(at, _hhmm(row.quiet_start), _hhmm(row.quiet_end), policy.timezone)
        if until is not None:
            outcomes.append((row, channel, None, until))
            continue
        r = render(row.template, _data(row.data), row.lang)
        msg = Message(row.id, idempotency_key(row.id), channel, address, r.lang, r.subject,
                      r.body)
        outgoing.setdefault(channel, []).append((row, msg))
    for channel, pairs in outgoing.items():
        try:
            res = adapters[channel].send([m for _, m in pairs])
        except Exception as exc:  # noqa: BLE001 - the whole batch failed: a failed attempt each
            res = [Outcome(False, f"{channel}: {type(exc).__name__}: {exc}"[:300])] * len(pairs)
        outcomes.extend((row, channel, o, None) for (row, _), o in zip(pairs, res))
    _record(db, outcomes, policy, at, rep)
    return rep


def _hhmm(v):
    try:
        return parse_hhmm(v, "quiet")
    except Exception:  # noqa: BLE001 - a stored bad value means no quiet hours, not a stall
        return None


def _record(db, outcomes, policy: Policy, at: dt.datetime, rep: Report) -> None:
    if not outcomes:
        return
    sent, retry, dead, deferred, attempts = [], [], [], [], []
    for row, channel, o, until in outcomes:
        if until is not None:
            deferred.append({"i": row.id, "t": until})
            attempts.append({"notice_id": row.id, "attempt": row.attempts, "channel": channel,
                             "at": at, "outcome": "deferred", "error": None})
            continue
        if o.ok:
            sent.append({"i": row.id, "ch": channel})
            rep.by_channel[channel] = rep.by_channel.get(channel, 0) + 1
            rep.duplicates += int(o.duplicate)
            outcome = "sent"
        elif policy.is_dead(row.attempts):
            dead.append({"i": row.id, "ch": channel, "e": o.error})
            outcome = "dead"
        else:
            retry.append({"i": row.id, "ch": channel, "e": o.error,
                          "t": at + policy.backoff(row.attempts)})
            outcome = "failed"
        if outcome != "sent" or row.attempts > 1:
            # a first-attempt success is told in full by the notice row itself
            attempts.append({"notice_id": row.id, "attempt": row.attempts, "channel": channel,
                             "at": at, "outcome": outcome, "error": o.error})
    pending = and_(notice.c.id == bindparam("i"), notice.c.status == "pending")
    with transaction(db) as conn:
        by_channel: dict[str, list[int]] = {}
        for s in sent:
            by_channel.setdefault(s["ch"], []).append(s["i"])
        for channel, ids in by_channel.items():        # set-based: one statement per chunk
            for i in range(0, len(ids), _CHUNK):
                n = conn.execute(update(notice).where(
                    notice.c.id.in_(ids[i:i + _CHUNK]), notice.c.status == "pending").values(
                    status="sent", channel=channel, delivered_at=at, last_error=None))
                rep.sent += n.rowcount
        if retry:
            conn.execute(update(notice).where(pending).values(
                channel=bindparam("ch"), last_error=bindparam("e"),
                next_attempt_at=bindparam("t")), retry)
        if dead:
            conn.execute(update(notice).where(pending).values(
                status="failed", channel=bindparam("ch"), last_error=bindparam("e")), dead)
        if deferred:
            conn.execute(update(notice).where(pending).values(
                attempts=notice.c.attempts - 1, next_attempt_at=bindparam("t")), deferred)
        if attempts:
            conn.execute(insert(notice_attempt), attempts)
        rep.failed += len(retry)
        rep.dead += len(dead)
        rep.deferred += len(deferred)
        audit.record(conn, WORKER, "notices.deliver", "notice_batch", None,
                     purpose="deliver notices",
                     detail={"sent": len(sent), "failed": len(retry), "dead": len(dead),
                             "deferred": len(deferred), "first": min(r.id for r, *_ in outcomes),
                             "last": max(r.id for r, *_ in outcomes)})


def deliver_due(db, adapters: dict[str, Adapter], policy: Policy, *,
                at: dt.datetime | None = None, limit: int | None = None) -> Report:
    """One polling step: claim a batch of due notices and deliver it."""
    ids = claim(db, policy, limit=limit, at=at)
    return deliver_ids(db, ids, adapters, policy, at=at)


def drain(db, adapters: dict[str, Adapter], policy: Policy, *,
          at: dt.datetime | None = None) -> Report:
    """Polling until nothing is due (tests, ``worker --once``)."""
    total = Report()
    while True:
        rep = deliver_due(db, adapters, policy, at=at)
        total.add(rep)
        if rep.claimed == 0:
            return total
