"""Pure rules of the card lifecycle and of the e-card credential (no database).

Card statuses and the actions that move them::

    applied --issue--> issued --activate--> active
    issued|active --report_loss--> lost
    lost --(replacement issued)--> replaced        active|issued --(damaged, replaced)--> replaced

The e-card credential is a compact JWS (``security.signing``, EdDSA) whose payload names the
card and its holder for the verifier: ``{"typ": "shebao-ecard", "jti", "card_no", "name",
"cid" (masked citizen ID), "region", "iat", "exp"}``. Anyone holding the public key checks the
signature and the expiry offline (:func:`check_offline`); revocation (a lost card) is the
online answer, or the revocation list a verifier fetches.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shebao.core.errors import InvariantError
from shebao.security import signing

TYP = "shebao-ecard"
IN_FORCE = ("applied", "issued", "active")
TRANSITIONS = {
    "issue": ("applied",),
    "activate": ("issued",),
    "report_loss": ("issued", "active"),
    "link_bank": ("issued", "active"),
    "replace_damaged": ("issued", "active"),
}
CARD_NO_PREFIX = "A"


def require_status(action: str, card_id: int, status: str) -> None:
    allowed = TRANSITIONS[action]
    if status not in allowed:
        raise InvariantError(f"card {card_id} is {status}; {action.replace('_', ' ')} needs "
                             f"{' or '.join(allowed)}")


def card_number(card_id: int) -> str:
    """The 9-character card number printed on the card: a letter, seven digits of the card's
    serial and a check digit (weights 3/1 alternating, mod 10), so a mistyped number is
    caught at the counter."""
    if card_id < 1 or card_id >= 10 ** 7:
        raise InvariantError(f"card serial {card_id} does not fit the 7 digits of a card number")
    body = f"{card_id:07d}"
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(body))
    return f"{CARD_NO_PREFIX}{body}{(10 - total % 10) % 10}"


def card_number_valid(card_no: str) -> bool:
    if not isinstance(card_no, str) or len(card_no) != 9 or not card_no[1:].isdigit() \
            or card_no[0] != CARD_NO_PREFIX:
        return False
    serial = int(card_no[1:8])
    return serial >= 1 and card_number(serial) == card_no


def credential_payload(*, jti: str, card_no: str, name: str, masked_cid: str, region: str,
                       issued_at: dt.datetime, validity_seconds: int) -> dict:
    iat = int(issued_at.timestamp())
    return {"typ": TYP, "jti": jti, "card_no": card_no, "name": name, "cid": masked_cid,
            "region": region, "iat": iat, "exp": iat + int(validity_seconds)}


@dataclass(frozen=True)
class Check:
    """The outcome of checking a credential: ``valid`` or the reason it is not
    (``malformed``, ``signature``, ``expired``, ``not_yet_valid``, ``revoked``,
    ``card_not_active``), with the payload when the signature held."""
    valid: bool
    reason: str | None
    payload: dict | None = None


def check_offline(token: str, keys, now: dt.datetime,
                  revoked: frozenset[str] | set[str] = frozenset(),
                  leeway_seconds: int = 5) -> Check:
    """What a verifier without a connection can tell: signature (against ``keys``), type,
    validity window, and the revocation list it last fetched."""
    if not isinstance(token, str) or len(token) > 4000:
        return Check(False, "malformed")
    try:
        payload = signing.verify(token.strip(), keys)
    except signing.BadSignature as exc:
        return Check(False, "malformed" if "three parts" in str(exc) or "JSON" in str(exc)
                     else "signature")
    if payload.get("typ") != TYP or not isinstance(payload.get("exp"), int) \
            or not isinstance(payload.get("iat"), int) or not payload.get("jti"):
        return Check(False, "malformed")
    t = int(now.timestamp())
    if t > payload["exp"] + leeway_seconds:
        return Check(False, "expired", payload)
    if t + leeway_seconds < payload["iat"]:
        return Check(False, "not_yet_valid", payload)
    if payload["jti"] in revoked:
        return Check(False, "revoked", payload)
    return Check(True, None, payload)
