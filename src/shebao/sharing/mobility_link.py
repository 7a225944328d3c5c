"""Mobility's transfers between two installations, carried by the sharing platform.

Outbound, :data:`COURIER` is mobility's port (``mobility.remote.Courier``), wired in by the
channels: ``installation_for`` finds the partner of kind ``installation`` that serves a region
(its ``serves``), ``send`` writes the message into sharing's outbox (``partner_delivery``, in
the step's transaction) as a ``notify`` of event ``transfer`` whose reference id is the
message's own (the transfer's shared reference + the message): :func:`outbound.deliver_due`
signs it with our key and sends it with retries; the other installation's idempotency makes a
retry after a lost answer harmless, and an answer that rejects it marks it failed for a clerk.

Inbound, :func:`receive_event` (``handlers.notify`` for event ``transfer``, inside the
exchange's transaction, after the signature, the sender and the scope ``notify:transfer`` were
checked): a platform message from another installation is done by
``mobility.inbound.receive`` as the partner's actor; the exchange keeps it with its purpose and
legal basis, and the audit row names the partner.
"""
from __future__ import annotations

from sqlalchemy import insert, select

from shebao.core import regions
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.uow import now
from shebao.mobility import inbound, remote

from . import model
from .partners import Partner
from .tables import delivery, partner

EVENT = "transfer"


class SharingCourier:
    """``mobility.remote.Courier`` over the sharing API."""

    def installation_for(self, conn, region: str) -> str | None:
        rows = conn.execute(select(partner.c.code, partner.c.serves).where(
            partner.c.kind == "installation", partner.c.status == "active",
            partner.c.serves.is_not(None)).order_by(partner.c.code)).all()
        best: tuple[int, str] | None = None
        for code, serves in rows:
            for r in serves.split(","):
                if r and regions.within(region, r):
                    depth = len(regions.lineage(r))
                    if best is None or depth > best[0]:   # the most specific one serves it
                        best = (depth, code)
        return best[1] if best else None

    def send(self, conn, installation: str, message: dict) -> None:
        row = conn.execute(select(partner.c.id, partner.c.kind, partner.c.status).where(
            partner.c.code == installation)).first()
        if row is None or row.kind != "installation" or row.status != "active":
            raise InputError(f"no active installation {installation} among the partners",
                             field="installation")
        what = message["message"]
        payload = {"reference_id": message["reference_id"], "event_type": EVENT,
                   "events": [message], "purpose": remote.PURPOSE[what],
                   "legal_basis": remote.LEGAL_BASIS}
        t = now()
        conn.execute(insert(delivery).values(
            subscription_id=None, partner_id=row.id, event_type=EVENT,
            reference_id=message["reference_id"], payload=model.canonical(payload),
            status="pending", attempts=0, next_attempt_at=t, created_at=t))


COURIER = SharingCourier()


def is_platform_message(e: dict) -> bool:
    return "transfer_ref" in e and "message" in e


def receive_event(conn, p: Partner, e: dict) -> dict:
    """One platform transfer message from installation ``p``."""
    if p.kind != "installation":
        raise PermissionDenied(f"partner {p.code} is not an installation of the platform")
    return inbound.receive(conn, p.actor(), p.code, e)
