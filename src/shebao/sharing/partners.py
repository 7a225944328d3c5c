"""Partner agencies: registration, client credentials, bearer tokens.

    register(db, actor, code=, name=, kind=, region=, scopes=, public_key=, base_url=,
             serves=())  -> (partner id, client_id, client_secret)   the secret is shown once,
                            stored hashed; ``serves``: the regions another installation serves
    rotate_secret(db, actor, code) -> new client_secret
    set_status(db, actor, code, "active" | "suspended")
    issue_token(db, client_id, client_secret) -> (token, expires_at)   client-credentials grant
    authenticate(db, token) -> Partner

Secrets are argon2id hashes (``security.passwords``); tokens are random and stored as their
SHA-256 digest only, valid ``sharing.token_minutes``. A suspended partner's tokens stop working.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.db.uow import now, reading, transaction
from shebao.rules.loader import load_rules
from shebao.security import audit, passwords, policy, signing
from shebao.security.lockout import LoginRefused

from . import model
from .tables import partner, partner_token


class BadCredentials(LoginRefused):
    """Unknown client, wrong secret, expired token or suspended partner (one answer for all)."""


@dataclass(frozen=True)
class Partner:
    id: int
    code: str
    name: str
    kind: str
    region: str
    scopes: frozenset[str]
    public_key: signing.PublicKey | None
    base_url: str | None
    status: str
    serves: tuple[str, ...] = ()    # another installation: the regions it serves

    def actor(self) -> Actor:
        """Who acts in our services on the partner's behalf (after sharing's own scope
        checks): the partner's id in every audit row."""
        return Actor(id=f"partner:{self.code}", role="system",
                     scope=self.region if self.region != "national" else regions.NATIONAL)


def _partner(row) -> Partner:
    return Partner(row.id, row.code, row.name, row.kind, row.region,
                   model.parse_scopes(row.scopes),
                   signing.PublicKey(row.public_key) if row.public_key else None,
                   row.base_url, row.status,
                   tuple(r for r in (row.serves or "").split(",") if r))


def _check_region(region: str) -> str:
    if region == "national":
        return region
    try:
        regions.parent(region)
    except ValueError:
        raise InputError("a GB/T 2260 region code or national", field="region")
    return region


def _check_serves(kind: str, serves) -> str | None:
    """The regions another installation serves (kind ``installation`` only)."""
    codes = sorted({str(r).strip() for r in (serves or ()) if str(r).strip()})
    if codes and kind != "installation":
        raise InputError("only another installation serves regions", field="serves")
    for r in codes:
        try:
            regions.parent(r)
        except ValueError:
            raise InputError(f"serves: {r!r} is not a GB/T 2260 region code", field="serves")
    text = ",".join(codes)
    if len(text) > 200:
        raise InputError("serves: at most 200 characters of region codes", field="serves")
    return text or None


def _check_key(public_key: str | None) -> str | None:
    if not public_key:
        return None
    try:
        raw = signing.unb64u(public_key.strip())
    except signing.BadSignature:
        raw = b""
    if len(raw) != 32:
        raise InputError("the partner's Ed25519 public key: 32 bytes, base64url (a JWK's x)",
                         field="public_key")
    return public_key.strip()


def _check_url(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")) or len(url) > 200:
        raise InputError("an http(s) URL of at most 200 characters", field="base_url")
    return url


def register(db, actor: Actor, *, code: str, name: str, kind: str, region: str,
             scopes, public_key: str | None = None, base_url: str | None = None,
             serves=()) -> tuple[int, str, str]:
    policy.require(actor, "sharing.manage")
    serves_text = _check_serves(kind, serves)
    if not isinstance(code, str) or not model.CODE.match(code):
        raise InputError("code: 2 to 40 lower-case letters, digits, - or _", field="code")
    if not name or len(name) > 120:
        raise InputError("a name of 1 to 120 characters", field="name")
    if kind not in model.KINDS:
        raise InputError(f"kind: one of {', '.join(model.KINDS)}", field="kind")
    scope_text = model.check_scopes(scopes)
    client_id = f"{code}-{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(32)
    with transaction(db) as conn:
        if conn.execute(select(partner.c.id).where(partner.c.code == code)).first():
            raise ConflictError(f"a partner {code} is registered already")
        pid = conn.execute(insert(partner).values(
            code=code, name=name.strip(), kind=kind, region=_check_region(region),
            client_id=client_id, secret_hash=passwords.hash_password(secret),
            public_key=_check_key(public_key), scopes=scope_text, base_url=_check_url(base_url),
            serves=serves_text, status="active", created_by=actor.id, created_at=now())
            .returning(partner.c.id)).scalar_one()
        audit.record(conn, actor, "sharing.partner.register", "partner", pid,
                     purpose="partner registered",
                     detail={"code": code, "kind": kind, "region": region, "scopes": scope_text,
                             "serves": serves_text})
    return pid, client_id, secret


def rotate_secret(db, actor: Actor, code: str) -> str:
    policy.require(actor, "sharing.manage")
    secret = secrets.token_urlsafe(32)
    with transaction(db) as conn:
        pid = conn.execute(select(partner.c.id).where(partner.c.code == code)).scalar()
        if pid is None:
            raise InputError(f"no partner {code}", field="code")
        conn.execute(update(partner).where(partner.c.id == pid).values(
            secret_hash=passwords.hash_password(secret)))
        conn.execute(delete(partner_token).where(partner_token.c.partner_id == pid))
        audit.record(conn, actor, "sharing.partner.rotate_secret", "partner", pid,
                     purpose="secret rotated")
    return secret


def set_status(db, actor: Actor, code: str, status: str) -> None:
    policy.require(actor, "sharing.manage")
    if status not in ("active", "suspended"):
        raise InputError("status: active or suspended", field="status")
    with transaction(db) as conn:
        pid = conn.execute(select(partner.c.id).where(partner.c.code == code)).scalar()
        if pid is None:
            raise InputError(f"no partner {code}", field="code")
        conn.execute(update(partner).where(partner.c.id == pid).values(status=status))
        if status == "suspended":
            conn.execute(delete(partner_token).where(partner_token.c.partner_id == pid))
        audit.record(conn, actor, f"sharing.partner.{status}", "partner", pid,
                     purpose=f"partner {status}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db, client_id: str, client_secret: str) -> tuple[str, dt.datetime]:
    """The client-credentials grant: a bearer token for a partner's valid id and secret."""
    if not isinstance(client_id, str) or not isinstance(client_secret, str) \
            or len(client_id) > 64 or len(client_secret) > 200:
        raise BadCredentials("unknown client or wrong secret")
    with reading(db) as conn:
        row = conn.execute(select(partner).where(partner.c.client_id == client_id)).first()
    if row is None or row.status != "active":
        passwords.dummy_verify(client_secret)
        raise BadCredentials("unknown client or wrong secret")
    if not passwords.verify_password(row.secret_hash, client_secret):
        raise BadCredentials("unknown client or wrong secret")
    t = now()
    minutes = int(load_rules().value("sharing.token_minutes", "national", t.date()))
    token = secrets.token_urlsafe(32)
    expires = t + dt.timedelta(minutes=minutes)
    with transaction(db) as conn:
        conn.execute(delete(partner_token).where(partner_token.c.partner_id == row.id,
                                                 partner_token.c.expires_at < t))
        conn.execute(insert(partner_token).values(digest=_digest(token), partner_id=row.id,
                                                  issued_at=t, expires_at=expires))
        audit.record(conn, _partner(row).actor(), "sharing.token", "partner", row.id,
                     purpose="client credentials grant")
    return token, expires


def authenticate(db, token: str | None) -> Partner:
    if not token or len(token) > 200:
        raise BadCredentials("a partner bearer token is required")
    with reading(db) as conn:
        row = conn.execute(select(partner).join(
            partner_token, partner_token.c.partner_id == partner.c.id).where(
            partner_token.c.digest == _digest(token),
            partner_token.c.expires_at > now())).first()
    if row is None or row.status != "active":
        raise BadCredentials("the token is unknown or has expired")
    return _partner(row)


def by_code(db, code: str) -> Partner | None:
    with reading(db) as conn:
        row = conn.execute(select(partner).where(partner.c.code == code)).first()
    return _partner(row) if row else None


def partners(db) -> list[Partner]:
    with reading(db) as conn:
        return [_partner(r) for r in conn.execute(select(partner).order_by(partner.c.code))]
