"""The outbound partner client: what we (or another platform of ours: mobility sending a
transfer message to another installation) use to talk to a partner's ``/api/v1/sharing``.

    c = PartnerClient(base_url, client_id, client_secret, key, sender="sh", receiver="zj",
                      their_key=PublicKey(...))
    c.search(reference_id=, purpose=, legal_basis=, query_type="id", query={...}, items=[...])
    c.subscribe(reference_id=, event_type="death", region="330100")
    c.notify(reference_id=, event_type="transfer", events=[...], purpose=, legal_basis=)
    c.call(action, message) -> the answer's message (its signature checked with their_key)

Plain HTTP from the standard library (``urllib``): a bearer token from the client-credentials
grant (renewed when it expires or is refused), the DCI envelope signed with our key. Errors are
:class:`PartnerError` with the HTTP status and the partner's problem detail.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from shebao.security import signing

from . import model


class PartnerError(RuntimeError):
    def __init__(self, status: int | None, detail: str):
        self.status, self.detail = status, detail
        super().__init__(f"partner answered {status}: {detail}" if status else detail)


class PartnerClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str,
                 key: signing.SigningKey, *, sender: str, receiver: str,
                 their_key: signing.PublicKey | None = None, timeout: float = 10.0):
        self.base = base_url.rstrip("/") + "/api/v1/sharing"
        self.client_id, self.client_secret = client_id, client_secret
        self.key, self.sender, self.receiver = key, sender, receiver
        self.their_key, self.timeout = their_key, timeout
        self._token: str | None = None
        self._expires = 0.0

    def _post(self, path: str, body: dict, token: str | None = None) -> dict:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as exc:
            raw = exc.read().decode(errors="replace")
            try:
                detail = json.loads(raw).get("detail") or raw
            except ValueError:
                detail = raw
            raise PartnerError(exc.code, str(detail)[:300]) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise PartnerError(None, f"partner unreachable: {exc}") from None

    def token(self, *, renew: bool = False) -> str:
        if renew or self._token is None or time.monotonic() >= self._expires:
            out = self._post("/token", {"grant_type": "client_credentials",
                                        "client_id": self.client_id,
                                        "client_secret": self.client_secret})
            self._token = out["access_token"]
            self._expires = time.monotonic() + max(int(out.get("expires_in", 60)) - 30, 1)
        return self._token

    def envelope(self, action: str, message: dict) -> dict:
        head = model.header(action, self.sender, self.receiver)
        return {"header": head, "message": message,
                "signature": self.key.sign({"header": head, "message": message},
                                           typ="dci+jws")}

    def call(self, action: str, message: dict) -> dict:
        env = self.envelope(action, message)
        try:
            answer = self._post(f"/{action}", env, self.token())
        except PartnerError as exc:
            if exc.status != 401:
                raise
            answer = self._post(f"/{action}", env, self.token(renew=True))
        if self.their_key is not None:
            try:
                payload = signing.verify(answer.get("signature", ""), self.their_key)
            except signing.BadSignature as exc:
                raise PartnerError(None, f"the answer's signature does not verify: {exc}")
            if model.canonical(payload.get("message")) != model.canonical(answer.get("message")):
                raise PartnerError(None, "the answer differs from its signed message")
        return answer["message"]

    def search(self, *, reference_id: str, purpose: str, query_type: str, query: dict,
               items: list[str], legal_basis: str | None = None, consent_ref: str | None = None,
               page_size: int = 20, cursor: str | None = None) -> dict:
        msg = {"reference_id": reference_id, "purpose": purpose, "legal_basis": legal_basis,
               "query_type": query_type, "query": query, "items": items,
               "pagination": {"page_size": page_size, "cursor": cursor}}
        if consent_ref:
            msg["consent"] = {"ref": consent_ref}
        return self.call("search", msg)

    def subscribe(self, *, reference_id: str, event_type: str, region: str) -> dict:
        return self.call("subscribe", {"reference_id": reference_id, "event_type": event_type,
                                       "region": region})

    def notify(self, *, reference_id: str, event_type: str, events: list[dict], purpose: str,
               legal_basis: str) -> dict:
        return self.call("notify", {"reference_id": reference_id, "event_type": event_type,
                                    "events": events, "purpose": purpose,
                                    "legal_basis": legal_basis})
