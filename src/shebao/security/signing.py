"""Ed25519 signing keys and compact JWS (RFC 7515, ``alg: EdDSA``, RFC 8037).

One door for every signature the platform makes for others to verify offline: the e-card's QR
credential (``cards``) and the messages exchanged with partner agencies (``sharing``).

Keys never live in the repository. A key is named by a *purpose* (``ecard``, ``sharing``) and
read from the environment:

- ``SHEBAO_<PURPOSE>_KEY_FILE``: a path to a PEM (PKCS#8) Ed25519 private key, or
- ``SHEBAO_<PURPOSE>_KEY``: the 32-byte private seed, base64url.

Without either, dev/demo mode (``SHEBAO_ENV=dev``, or ``mode="dev"``) makes an ephemeral key
per process (credentials die with the process); production refuses to start
(:class:`KeyMissing`). ``shebao keys new`` style generation: :func:`new_private_pem`.

The key id (``kid``) is the first 16 characters of the base64url SHA-256 of the raw public key,
so a verifier holding several public keys (rotation, several partners) picks the right one.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)


class KeyMissing(RuntimeError):
    """Production without a configured key: the message says what to set."""


class BadSignature(ValueError):
    """A token that is malformed, signed by an unknown key, or whose signature does not match."""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise BadSignature("not base64url") from exc


def _raw_public(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    return b64u(hashlib.sha256(public_raw).digest())[:16]


@dataclass(frozen=True)
class PublicKey:
    """A verifying key: ``x`` is the raw 32-byte public key, base64url (the JWK's ``x``)."""
    x: str

    @property
    def kid(self) -> str:
        return key_id(unb64u(self.x))

    def jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "alg": "EdDSA",
                "use": "sig"}

    def _key(self) -> Ed25519PublicKey:
        raw = unb64u(self.x)
        if len(raw) != 32:
            raise BadSignature("an Ed25519 public key has 32 bytes")
        return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SigningKey:
    purpose: str
    private: Ed25519PrivateKey
    ephemeral: bool = False

    @property
    def public(self) -> PublicKey:
        return PublicKey(b64u(_raw_public(self.private.public_key())))

    @property
    def kid(self) -> str:
        return self.public.kid

    def sign(self, payload: dict, *, typ: str = "JWT", extra_header: dict | None = None) -> str:
        """A compact JWS of ``payload`` (canonical JSON, UTF-8)."""
        header = {"alg": "EdDSA", "kid": self.kid, "typ": typ, **(extra_header or {})}
        h = b64u(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
        p = b64u(json.dumps(payload, separators=(",", ":"), sort_keys=True,
                            ensure_ascii=False, default=str).encode())
        sig = self.private.sign(f"{h}.{p}".encode("ascii"))
        return f"{h}.{p}.{b64u(sig)}"


def header_of(token: str) -> dict:
    """The (unverified) JWS header: to find the ``kid`` before choosing the key."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise BadSignature("a compact JWS has three parts")
    try:
        header = json.loads(unb64u(parts[0]))
    except ValueError as exc:
        raise BadSignature("the JWS header is not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        raise BadSignature("only alg EdDSA is accepted")
    return header


def verify(token: str, keys: list[PublicKey] | PublicKey) -> dict:
    """The payload of ``token`` if one of ``keys`` (matched by kid) signed it; else
    :class:`BadSignature`. Expiry and revocation are the caller's rules (they are data)."""
    header = header_of(token)
    keys = [keys] if isinstance(keys, PublicKey) else list(keys)
    match = [k for k in keys if k.kid == header.get("kid")]
    if not match:
        raise BadSignature("signed by an unknown key")
    h, p, s = token.split(".")
    try:
        match[0]._key().verify(unb64u(s), f"{h}.{p}".encode("ascii"))
    except InvalidSignature as exc:
        raise BadSignature("the signature does not match") from exc
    try:
        payload = json.loads(unb64u(p))
    except ValueError as exc:
        raise BadSignature("the JWS payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise BadSignature("the JWS payload is not an object")
    return payload


def new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def from_pem(purpose: str, pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"the {purpose} key is not an Ed25519 private key")
    return SigningKey(purpose, key)


def from_seed(purpose: str, seed: bytes) -> SigningKey:
    if len(seed) != 32:
        raise KeyMissing(f"the {purpose} key seed must have 32 bytes")
    return SigningKey(purpose, Ed25519PrivateKey.from_private_bytes(seed))


_ephemeral: dict[str, SigningKey] = {}
_lock = threading.Lock()


def load_key(purpose: str, mode: str | None = None) -> SigningKey:
    """The signing key of ``purpose`` from the environment (see the module docstring)."""
    name = f"SHEBAO_{purpose.upper()}_KEY"
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, "rb") as f:
            return from_pem(purpose, f.read())
    seed = os.environ.get(name)
    if seed:
        return from_seed(purpose, unb64u(seed.strip()))
    mode = (mode or os.environ.get("SHEBAO_ENV") or "production").strip().lower()
    if mode != "dev":
        raise KeyMissing(f"refusing to sign {purpose} credentials in production without a key: "
                         f"set {name}_FILE (a PEM Ed25519 private key, e.g. `openssl genpkey "
                         f"-algorithm ed25519`) or {name}, or run with SHEBAO_ENV=dev for an "
                         f"ephemeral key")
    with _lock:
        if purpose not in _ephemeral:
            _ephemeral[purpose] = SigningKey(purpose, Ed25519PrivateKey.generate(), True)
        return _ephemeral[purpose]
