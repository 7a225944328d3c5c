"""Delivery adapters: how a rendered notice leaves shebao.

Every adapter receives ``Message``s carrying an **idempotency key** that is the same on every
attempt of one notice (``notice:<id>``): a worker that crashes after the gateway accepted a
message but before the outbox was marked sends it again with the same key, and a
deduplicating gateway (our capture adapter, an SMS/WeChat gateway honouring
``Idempotency-Key``, a mail system deduplicating on ``Message-ID``) accepts it once.

- ``CaptureAdapter``: a local store (an SQLite file) for tests, demos and benches. It
  records every call (``calls``) and every accepted message once per key (``accepted``), so
  a test measures duplicates and losses where they would reach a person.
- ``SmtpAdapter``: e-mail through ``smtplib`` (``Message-ID`` from the key).
- ``HttpGatewayAdapter``: SMS and WeChat-style template messages as a JSON POST to a gateway
  URL with an ``Idempotency-Key`` header (pluggable: one class, one URL per channel).

``send(messages)`` returns one ``Outcome`` per message, in order; an adapter never raises
for one message's failure (it reports it), only for a failure of the whole batch.
"""
from __future__ import annotations

import json
import smtplib
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate


@dataclass(frozen=True)
class Message:
    notice_id: int
    key: str               # idempotency key, the same on every attempt of this notice
    channel: str           # email | sms | wechat
    address: str           # e-mail address, phone number, WeChat open id
    lang: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    duplicate: bool = False   # the gateway had already accepted this key


def idempotency_key(notice_id: int) -> str:
    return f"notice:{notice_id}"


class Adapter:
    name = "adapter"

    def send(self, messages: list[Message]) -> list[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CaptureAdapter(Adapter):
    """Messages captured in an SQLite file (shared by processes: a killed worker's messages
    stay). ``fail_addresses`` makes sends to those addresses fail (tests of retries)."""

    name = "capture"
    _SCHEMA = ("CREATE TABLE IF NOT EXISTS calls (key TEXT NOT NULL, channel TEXT, "
               "address TEXT, at REAL DEFAULT (julianday('now')));"
               "CREATE TABLE IF NOT EXISTS accepted (key TEXT PRIMARY KEY, notice_id INTEGER, "
               "channel TEXT, address TEXT, lang TEXT, subject TEXT, body TEXT);")

    def __init__(self, path: str, fail_addresses: frozenset[str] = frozenset(),
                 delay: float = 0.0):
        self.path = str(path)
        self.fail_addresses = frozenset(fail_addresses)
        self.delay = delay      # > 0: a slow gateway, one message at a time (crash tests)
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(self._SCHEMA)

    def send(self, messages: list[Message]) -> list[Outcome]:
        if not self.delay:
            return self._send(messages)
        out = []
        for m in messages:
            out.extend(self._send([m]))
            time.sleep(self.delay)
        return out

    def _send(self, messages: list[Message]) -> list[Outcome]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO calls (key, channel, address) VALUES (?, ?, ?)",
                           [(m.key, m.channel, m.address) for m in messages])
            seen = set()
            keys = [m.key for m in messages]
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                seen.update(r[0] for r in db.execute(
                    f"SELECT key FROM accepted WHERE key IN ({','.join('?' * len(part))})",
                    part))
            out, new = [], []
            for m in messages:
                if m.address in self.fail_addresses:
                    out.append(Outcome(False, "capture: address refused"))
                elif m.key in seen:
                    out.append(Outcome(True, duplicate=True))
                else:
                    seen.add(m.key)
                    new.append((m.key, m.notice_id, m.channel, m.address, m.lang, m.subject,
                                m.body))
                    out.append(Outcome(True))
            db.executemany("INSERT INTO accepted VALUES (?, ?, ?, ?, ?, ?, ?)", new)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return out

    # reading what was captured (tests, benches)
    def counts(self) -> dict:
        calls = self._db.execute("SELECT count(*), count(DISTINCT key) FROM calls").fetchone()
        acc = self._db.execute("SELECT count(*) FROM accepted").fetchone()[0]
        return {"calls": calls[0], "distinct_keys_called": calls[1], "accepted": acc}

    def accepted(self) -> list[dict]:
        cur = self._db.execute("SELECT key, notice_id, channel, address, lang, subject, body "
                               "FROM accepted ORDER BY notice_id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur]

    def close(self) -> None:
        self._db.close()


class SmtpAdapter(Adapter):
    """E-mail through an SMTP server (one connection per batch)."""

    name = "smtp"

    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 30.0):
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def _mail(self, m: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = m.address
        mail["Subject"] = m.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{m.key.replace(':', '.')}@{self.sender.split('@')[-1]}>"
        mail.set_content(m.body)           # (clears Content-* headers: set them after)
        mail["Content-Language"] = "zh-CN" if m.lang == "zh_CN" else "en"
        return mail

    def send(self, messages: list[Message]) -> list[Outcome]:
        out = []
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            for m in messages:
                try:
                    smtp.send_message(self._mail(m))
                    out.append(Outcome(True))
                except smtplib.SMTPRecipientsRefused as exc:
                    out.append(Outcome(False, f"smtp: recipient refused {exc.recipients!r}"[:300]))
                except smtplib.SMTPResponseException as exc:
                    out.append(Outcome(False, f"smtp: {exc.smtp_code} {exc.smtp_error!r}"[:300]))
        return out


class HttpGatewayAdapter(Adapter):
    """An SMS or WeChat-style gateway: ``POST url`` with JSON ``{to, channel, lang, subject,
    text, notice}`` and the header ``Idempotency-Key``; 2xx = accepted (409 = already
    accepted under this key, also success); anything else is a failed attempt."""

    def __init__(self, channel: str, url: str, *, token: str | None = None,
                 timeout: float = 10.0):
        self.name = f"http-{channel}"
        self.channel, self.url, self.token, self.timeout = channel, url, token, timeout

    def _post(self, m: Message) -> Outcome:
        payload = json.dumps({"to": m.address, "channel": m.channel, "lang": m.lang,
                              "subject": m.subject, "text": m.body,
                              "notice": m.notice_id}, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(self.url, data=payload, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": m.key,
            **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return Outcome(200 <= resp.status < 300)
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                return Outcome(True, duplicate=True)
            return Outcome(False, f"{self.name}: HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return Outcome(False, f"{self.name}: {type(exc).__name__}")

    def send(self, messages: list[Message]) -> list[Outcome]:
        return [self._post(m) for m in messages]


def configure(env: dict, *, capture: str | None = None) -> dict[str, Adapter]:
    """Channel → adapter from the environment (the worker's configuration):

    ``SHEBAO_NOTICES_CAPTURE=/path/file.sqlite``  every channel into the capture store
    ``SHEBAO_NOTICES_SMTP=host:port`` and ``SHEBAO_NOTICES_SMTP_FROM=addr``  e-mail
    ``SHEBAO_NOTICES_SMS_URL=…``, ``SHEBAO_NOTICES_WECHAT_URL=…`` (``…_TOKEN``)  gateways
    """
    capture = capture or env.get("SHEBAO_NOTICES_CAPTURE")
    if capture:
        cap = CaptureAdapter(capture)
        return {"email": cap, "sms": cap, "wechat": cap}
    out: dict[str, Adapter] = {}
    if env.get("SHEBAO_NOTICES_SMTP"):
        host, _, port = env["SHEBAO_NOTICES_SMTP"].rpartition(":")
        out["email"] = SmtpAdapter(host or "127.0.0.1", int(port or 25),
                                   env.get("SHEBAO_NOTICES_SMTP_FROM", "noreply@shebao.local"))
    for ch in ("sms", "wechat"):
        url = env.get(f"SHEBAO_NOTICES_{ch.upper()}_URL")
        if url:
            out[ch] = HttpGatewayAdapter(ch, url,
                                         token=env.get(f"SHEBAO_NOTICES_{ch.upper()}_TOKEN"))
    return out
