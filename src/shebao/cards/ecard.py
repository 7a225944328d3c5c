"""The e-card (电子社保卡): short-lived QR credentials signed with the platform's Ed25519 key.

    issue_credential(db, actor, key, now=None) -> {"token", "jti", "card_no", "expires_at"}
    verify(db, actor, keys, token, purpose=, now=None) -> {"valid", "reason", "holder"}
    revocations(bind, since=None, limit=) -> revoked credentials still within their validity
    public_keys(key) -> JWKS for offline verifiers

A citizen with an **active** card gets a credential valid ``cards.ecard_validity_seconds``; the
portal shows it as a QR code. A counter, a hospital or a partner verifies it: offline with the
public key (signature, expiry) and the revocation list, or online here (also the card's
status). Reporting the card lost revokes its credentials at once (:func:`revoke_card`).
Each issue and each verification is audited; a verification names the holder as the subject,
so it shows in the citizen's "who read my data".
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError, InvariantError, PermissionDenied
from shebao.core.ids import mask_id
from shebao.db.uow import now as clock, reading, transaction
from shebao.registry.queries import identities
from shebao.rules.loader import load_rules
from shebao.security import audit, policy, signing

from . import model
from .tables import card, ecard_credential


def public_keys(key: signing.SigningKey) -> dict:
    return {"keys": [key.public.jwk()]}


def issue_credential(db, actor: Actor, key: signing.SigningKey, *,
                     now: dt.datetime | None = None) -> dict:
    """A fresh credential for the citizen's active card."""
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("an e-card credential is issued to its holder only")
    t = now or clock()
    with transaction(db) as conn:
        c = conn.execute(select(card).where(card.c.person_id == actor.person_id,
                                            card.c.status.in_(model.IN_FORCE))).mappings().first()
        if c is None or c["status"] != "active":
            raise InvariantError("the e-card needs an active social security card"
                                 + (f" (yours is {c['status']})" if c else ""))
        who = identities(conn, [c["person_id"]])[c["person_id"]]
        validity = int(load_rules().value("cards.ecard_validity_seconds", c["region"], t.date()))
        jti = secrets.token_urlsafe(16)
        payload = model.credential_payload(jti=jti, card_no=c["card_no"], name=who["name"],
                                           masked_cid=mask_id(who["citizen_id"]),
                                           region=c["region"], issued_at=t,
                                           validity_seconds=validity)
        expires = dt.datetime.fromtimestamp(payload["exp"], dt.timezone.utc)
        conn.execute(insert(ecard_credential).values(
            jti=jti, card_id=c["id"], person_id=c["person_id"], issued_at=t, expires_at=expires))
        audit.record(conn, actor, "cards.ecard.issue", "card", c["id"], purpose="e-card shown",
                     detail={"jti": jti, "expires_at": expires})
        return {"token": key.sign(payload, typ=model.TYP), "jti": jti, "card_no": c["card_no"],
                "expires_at": expires}


def revoke_card(conn, card_id: int, reason: str) -> int:
    """Revoke every credential of a card not yet revoked (inside the caller's transaction)."""
    return conn.execute(update(ecard_credential).where(
        ecard_credential.c.card_id == card_id, ecard_credential.c.revoked_at.is_(None))
        .values(revoked_at=clock(), revoked_reason=reason)).rowcount


def _may_verify(actor: Actor) -> None:
    if actor.role == "system":
        return
    policy.require(actor, "card.verify")


def verify(db, actor: Actor, keys, token: str, *, purpose: str,
           now: dt.datetime | None = None) -> dict:
    """Check a credential online: the offline checks, then that it was issued here, is not
    revoked and its card is still active. Refusals say why, never whose card it was."""
    _may_verify(actor)
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 200:
        raise InputError("say why the e-card is checked (1 to 200 characters)", field="purpose")
    t = now or clock()
    check = model.check_offline(token, keys, t)
    with transaction(db) as conn:
        row = None
        if check.payload:
            row = conn.execute(select(ecard_credential, card.c.status.label("card_status"),
                                      card.c.card_no, card.c.region)
                               .join(card, card.c.id == ecard_credential.c.card_id)
                               .where(ecard_credential.c.jti == check.payload["jti"])
                               ).mappings().first()
        reason = check.reason
        if reason is None:
            if row is None or row["card_no"] != check.payload.get("card_no"):
                reason = "signature"      # signed by our key but not issued here: refuse alike
            elif row["revoked_at"] is not None:
                reason = "revoked"
            elif row["card_status"] != "active":
                reason = "card_not_active"
        valid = reason is None
        holder = None
        if valid:
            p = check.payload
            holder = {"name": p["name"], "citizen_id": p["cid"], "card_no": p["card_no"],
                      "region": p["region"],
                      "expires_at": dt.datetime.fromtimestamp(p["exp"], dt.timezone.utc)}
        audit.record(conn, actor, "cards.ecard.verify", "person" if row else "card",
                     row["person_id"] if row else None, purpose=purpose,
                     fields=["name", "citizen_id"] if valid else None,
                     detail={"valid": valid, "reason": reason,
                             "jti": check.payload.get("jti") if check.payload else None})
        return {"valid": valid, "reason": reason, "holder": holder}


def revocations(bind, *, since: dt.datetime | None = None, limit: int = 1000,
                now: dt.datetime | None = None) -> list[dict]:
    """Revoked credentials that have not expired yet (older ones fail on expiry anyway),
    oldest revocation first: what an offline verifier keeps."""
    t = now or clock()
    stmt = select(ecard_credential.c.jti, ecard_credential.c.revoked_at,
                  ecard_credential.c.revoked_reason, ecard_credential.c.expires_at).where(
        ecard_credential.c.revoked_at.is_not(None), ecard_credential.c.expires_at >= t)
    if since is not None:
        stmt = stmt.where(ecard_credential.c.revoked_at > since)
    with reading(bind) as conn:
        return [{"jti": r.jti, "revoked_at": r.revoked_at, "reason": r.revoked_reason,
                 "expires_at": r.expires_at}
                for r in conn.execute(stmt.order_by(ecard_credential.c.revoked_at,
                                                    ecard_credential.c.jti).limit(limit))]
