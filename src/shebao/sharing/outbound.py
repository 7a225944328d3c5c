"""Our events to subscribed partners: an outbox written in the event's transaction, sent by
:func:`deliver_due` (a worker or ``shebao sharing deliver``) with retries and backoff.

    publish(conn, event_type, region, data, exclude_partner=None) -> deliveries written
    deliver_due(db, key, us=, credentials=None, now=None, limit=100) -> DeliveryResult

Each delivery has its own ``reference_id``, kept across retries: the partner's idempotency
makes a retry after a lost answer harmless. A notice is tried ``sharing.delivery_max_attempts``
times, waiting ``sharing.delivery_backoff_seconds`` × 2^(attempt−1) between tries, then
``failed`` for a clerk.

Outbound credentials (our client id and secret *at the partner*) are never stored in the
database: ``SHEBAO_PARTNER_CREDENTIALS`` names a JSON file ``{"<partner code>": {"client_id":
…, "client_secret": …}}`` (mode 0600), or the caller passes ``credentials``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import insert, select, update

from shebao.core import regions
from shebao.core.actor import SYSTEM
from shebao.core.errors import InputError
from shebao.db.uow import now as clock, transaction
from shebao.rules.loader import load_rules
from shebao.security import audit, signing
from shebao.security.lockout import utc

from . import model
from .client import PartnerClient, PartnerError
from .partners import Partner, by_code, partners
from .tables import delivery, exchange, partner, subscription


def publish(conn, event_type: str, region: str | None, data: dict, *,
            exclude_partner: int | None = None) -> int:
    """One delivery per active subscription to ``event_type`` whose region holds ``region``."""
    subs = conn.execute(select(subscription.c.id, subscription.c.partner_id,
                               subscription.c.region).join(
        partner, partner.c.id == subscription.c.partner_id).where(
        subscription.c.event_type == event_type, subscription.c.status == "active",
        partner.c.status == "active")).all()
    t = clock()
    rows = []
    for s in subs:
        if s.partner_id == exclude_partner:
            continue
        if s.region != "national" and not (region and regions.within(region, s.region)):
            continue
        ref = f"ev-{uuid.uuid4().hex}"
        message = {"reference_id": ref, "event_type": event_type, "events": [data],
                   "purpose": f"{event_type} notice to a subscriber",
                   "legal_basis": f"subscription {s.id}"}
        rows.append(dict(subscription_id=s.id, partner_id=s.partner_id, event_type=event_type,
                         reference_id=ref, payload=model.canonical(message), status="pending",
                         attempts=0, next_attempt_at=t, created_at=t))
    if rows:
        conn.execute(insert(delivery), rows)
    return len(rows)


def credentials_from_env() -> Callable[[str], tuple[str, str]]:
    path = os.environ.get("SHEBAO_PARTNER_CREDENTIALS")
    table: dict = {}
    if path:
        with open(path, encoding="utf-8") as f:
            table = json.load(f)

    def of(code: str) -> tuple[str, str]:
        c = table.get(code)
        if not c:
            raise InputError(f"no outbound credentials for partner {code} "
                             f"(SHEBAO_PARTNER_CREDENTIALS)", field="partner")
        return c["client_id"], c["client_secret"]
    return of


def client_for(db, code: str, key: signing.SigningKey, *, us: str,
               credentials: Callable[[str], tuple[str, str]] | None = None) -> PartnerClient:
    """A client to partner ``code`` (its base URL and public key from the registry of
    partners, our credentials at it from ``credentials``): what mobility and the other
    platforms use to send a message to another installation."""
    p = by_code(db, code)
    if p is None or not p.base_url:
        raise InputError(f"partner {code} is unknown or has no base URL", field="partner")
    cid, secret = (credentials or credentials_from_env())(code)
    return PartnerClient(p.base_url, cid, secret, key, sender=us, receiver=code,
                         their_key=p.public_key)


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(db, key: signing.SigningKey, *, us: str,
                credentials: Callable[[str], tuple[str, str]] | None = None,
                now: dt.datetime | None = None, limit: int = 100) -> DeliveryResult:
    t = now or clock()
    rules = load_rules()
    max_attempts = int(rules.value("sharing.delivery_max_attempts", "national", t.date()))
    backoff = int(rules.value("sharing.delivery_backoff_seconds", "national", t.date()))
    creds = credentials or credentials_from_env()
    with transaction(db) as conn:
        due = conn.execute(select(delivery).where(
            delivery.c.status == "pending", delivery.c.next_attempt_at <= t)
            .order_by(delivery.c.id).limit(limit)).mappings().all()
    by_id = {p.id: p for p in partners(db)}
    out = DeliveryResult()
    clients: dict[int, PartnerClient] = {}
    for d in due:
        p: Partner = by_id[d["partner_id"]]
        message = json.loads(d["payload"])
        try:
            if p.id not in clients:
                clients[p.id] = client_for(db, p.code, key, us=us, credentials=creds)
            answer = clients[p.id].call("notify", message)
        except (PartnerError, InputError, OSError) as exc:
            attempts = d["attempts"] + 1
            failed = attempts >= max_attempts
            with transaction(db) as conn:
                conn.execute(update(delivery).where(delivery.c.id == d["id"]).values(
                    attempts=attempts, status="failed" if failed else "pending",
                    next_attempt_at=t + dt.timedelta(seconds=backoff * 2 ** (attempts - 1)),
                    last_error=str(exc)[:200]))
                if failed:
                    audit.record(conn, SYSTEM, "sharing.delivery.failed", "partner", p.id,
                                 purpose="notice to subscriber failed",
                                 detail={"reference_id": d["reference_id"],
                                         "error": str(exc)[:200]})
            out.failed += failed
            out.retried += not failed
            continue
        rejected = [r for r in (answer.get("results") or [])
                    if isinstance(r, dict) and r.get("status") == "rejected"]
        with transaction(db) as conn:
            # an event the partner rejected is final (a retry is refused the same way): failed,
            # with its reason, for a clerk
            conn.execute(update(delivery).where(delivery.c.id == d["id"]).values(
                attempts=d["attempts"] + 1, status="failed" if rejected else "sent",
                sent_at=clock(),
                last_error=str(rejected[0].get("reason"))[:200] if rejected else None))
            if rejected:
                audit.record(conn, SYSTEM, "sharing.delivery.rejected", "partner", p.id,
                             purpose=message.get("purpose"),
                             detail={"reference_id": d["reference_id"],
                                     "reason": str(rejected[0].get("reason"))[:200]})
            record_outbound(conn, p, f"notify:{d['event_type']}", d["reference_id"],
                                    message, answer, purpose=message.get("purpose"),
                                    legal_basis=message.get("legal_basis"))
            audit.record(conn, SYSTEM, "sharing.delivery.sent", "partner", p.id,
                         purpose=message.get("purpose"),
                         detail={"reference_id": d["reference_id"],
                                 "event_type": d["event_type"], "rejected": len(rejected)})
        out.sent += not rejected
        out.failed += bool(rejected)
    return out


def record_outbound(conn, p: Partner, kind: str, reference_id: str, message: dict,
                    answer: dict, *, purpose: str | None, legal_basis: str | None) -> None:
    """Keep a message we sent (and its answer) beside those we received — once per reference:
    a message sent again under its reference got the partner's stored answer."""
    if conn.execute(select(exchange.c.id).where(
            exchange.c.partner_id == p.id, exchange.c.direction == "out",
            exchange.c.reference_id == reference_id)).first() is not None:
        return
    conn.execute(insert(exchange).values(
        partner_id=p.id, direction="out", kind=kind, reference_id=reference_id,
        purpose=purpose, legal_basis=legal_basis, status="succ",
        request_hash=model.request_hash(message), request=model.canonical(message),
        response=model.canonical(answer), created_at=clock()))


def pending(db) -> list[dict]:
    with transaction(db) as conn:
        return [{**dict(r), "next_attempt_at": utc(r["next_attempt_at"])}
                for r in conn.execute(select(delivery).where(delivery.c.status != "sent")
                                      .order_by(delivery.c.id)).mappings()]
