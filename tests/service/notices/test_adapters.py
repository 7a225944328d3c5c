"""The real adapters against real local servers: e-mail through smtplib to an aiosmtpd server,
SMS / WeChat-style messages as HTTP POSTs to a gateway that deduplicates on the
Idempotency-Key header; the worker's retries when a gateway refuses."""
import datetime as dt
import email
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from sqlalchemy import select

from shebao.notices import delivery
from shebao.notices.adapters import HttpGatewayAdapter, Message, SmtpAdapter, configure
from shebao.notices.policy import Policy
from shebao.notices.tables import notice
from shebao.rules import load_rules

from .conftest import put_notices, put_prefs

POLICY = Policy.from_rules(load_rules(), dt.date(2026, 12, 1))


class _Inbox:
    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def test_smtp_adapter_delivers_mail_with_the_key_as_message_id(engine):
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        put_prefs(engine, [11], channels="email", lang="zh_CN")
        put_prefs(engine, [12], channels="email", lang="en")
        ids = put_notices(engine, [11, 12], template="payment.made",
                          data={"benefit": "养老金", "amount_fen": 345678,
                                "paid_on": "2026-12-01"})
        smtp = SmtpAdapter("127.0.0.1", port, "noreply@shebao.example")
        rep = delivery.drain(engine, {"email": smtp}, POLICY)
    finally:
        ctl.stop()
    assert rep.sent == 2 and rep.by_channel == {"email": 2}
    got = {tuple(rcpt)[0]: m for rcpt, m in inbox.mails}
    zh = got["p11@example.cn"]
    assert str(email.header.make_header(email.header.decode_header(zh["Subject"]))) == "待遇已发放"
    assert "¥3,456.78" in zh.get_payload(decode=True).decode("utf-8")
    assert zh["Message-ID"] == f"<notice.{ids[0]}@shebao.example>"
    en = got["p12@example.cn"]
    assert en["Subject"] == "Payment made" and en["Content-Language"] == "en"


class _Gateway(BaseHTTPRequestHandler):
    seen: dict = {}
    refuse: set = set()

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        if body["to"] in self.refuse:
            code = 503
        elif key in self.seen:
            code = 409
        else:
            self.seen[key] = body
            code = 202
        self.send_response(code)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_http_gateways_for_sms_and_wechat_deduplicate_on_the_key_and_failures_retry(engine):
    _Gateway.seen, _Gateway.refuse = {}, {"13900000000"}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/send"
    try:
        adapters = configure({"SHEBAO_NOTICES_SMS_URL": url, "SHEBAO_NOTICES_WECHAT_URL": url})
        assert set(adapters) == {"sms", "wechat"}
        assert isinstance(adapters["sms"], HttpGatewayAdapter)
        put_prefs(engine, [21], channels="sms", phone="13800000021")
        put_prefs(engine, [22], channels="sms", phone="13900000000")      # refused
        ids = put_notices(engine, [21, 22], template="certification.due",
                          data={"due_on": "2027-03-31"})
        rep = delivery.drain(engine, adapters, POLICY)
        assert (rep.sent, rep.failed) == (1, 1)
        sent = _Gateway.seen[f"notice:{ids[0]}"]
        assert sent["to"] == "13800000021" and "2027年3月31日" in sent["text"]
        # the same key again (a resend after a crash) is accepted as already delivered
        again = adapters["sms"].send([Message(ids[0], f"notice:{ids[0]}", "sms",
                                              "13800000021", "zh_CN", "s", "b")])
        assert again[0].ok and again[0].duplicate and len(_Gateway.seen) == 1
        with engine.connect() as c:
            row = c.execute(select(notice).where(notice.c.id == ids[1])).one()
        assert (row.status, row.attempts, row.last_error) == ("pending", 1,
                                                              "http-sms: HTTP 503")
    finally:
        srv.shutdown()
        srv.server_close()
