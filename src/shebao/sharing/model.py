"""Pure rules of the partner exchange (DCI / G2P Connect style), no database.

A message, in and out, is the DCI envelope::

    {"header":    {"version": "1.0", "message_id", "message_ts", "action", "sender_id",
                   "receiver_id"},
     "message":   {... the action's body, always with "reference_id" ...},
     "signature": "<compact JWS (EdDSA) whose payload is {"header", "message"}>"}

Actions: ``search`` (by ID or demographics, with purpose and legal basis or consent),
``subscribe`` / ``unsubscribe`` (our events), ``notify`` (events the partner reports to us:
deaths, births, hukou moves, tax wage data, transfer messages). Answers are ``on-search``,
``on-subscribe``, ``on-notify`` envelopes signed with our key.

Scopes (a partner's ``scopes``): ``search``, ``search:demographic``, ``item:<item>`` per data
item it may receive, ``notify:<event>`` per event it may report, ``subscribe:<event>`` per event
of ours it may receive, ``ecard.verify``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid

from shebao.core.errors import InputError, PermissionDenied

VERSION = "1.0"
KINDS = ("tax", "public_security", "civil_affairs", "health", "bank", "installation", "other")
ITEMS = {
    "identity": ("name", "citizen_id", "sex", "birth_date"),
    "status": ("status", "death_date"),
    "pension_region": ("pension_region",),
    "enrolments": ("enrolments",),
}
INBOUND_EVENTS = ("death", "birth", "hukou_move", "wage", "transfer")
OUTBOUND_EVENTS = ("death", "hukou_move")
ACTIONS = ("search", "subscribe", "unsubscribe", "notify")
MAX_EVENTS = 500
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


def parse_scopes(text: str | None) -> frozenset[str]:
    return frozenset(s.strip() for s in (text or "").split(",") if s.strip())


def valid_scope(scope: str) -> bool:
    if scope in ("search", "search:demographic", "ecard.verify"):
        return True
    kind, _, what = scope.partition(":")
    return ((kind == "item" and what in ITEMS) or (kind == "notify" and what in INBOUND_EVENTS)
            or (kind == "subscribe" and what in OUTBOUND_EVENTS))


def check_scopes(scopes) -> str:
    out = sorted({s.strip() for s in scopes if s and s.strip()})
    bad = [s for s in out if not valid_scope(s)]
    if bad:
        raise InputError(f"unknown scope(s): {', '.join(bad)}", field="scopes")
    return ",".join(out)


def require_scope(scopes: frozenset[str], scope: str) -> None:
    if scope not in scopes:
        raise PermissionDenied(f"the partner does not hold the scope {scope}")


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_hash(message: dict) -> str:
    return hashlib.sha256(canonical(message).encode()).hexdigest()


def header(action: str, sender: str, receiver: str) -> dict:
    return {"version": VERSION, "message_id": uuid.uuid4().hex,
            "message_ts": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "action": action, "sender_id": sender, "receiver_id": receiver}


def _text(msg: dict, name: str, *, required: bool = True, max_len: int = 200) -> str | None:
    v = msg.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise InputError(f"{name} is required", field=f"message.{name}")
        return None
    if not isinstance(v, str) or len(v) > max_len:
        raise InputError(f"{name}: text of at most {max_len} characters", field=f"message.{name}")
    return v.strip()


def reference_id(msg: dict) -> str:
    ref = msg.get("reference_id")
    if not isinstance(ref, str) or not REF.match(ref):
        raise InputError("reference_id: 1 to 64 letters, digits or . _ : - (unique per "
                         "message; a repeat gets the first answer)", field="message.reference_id")
    return ref


def basis(msg: dict) -> tuple[str, str | None, str | None]:
    """(purpose, legal basis, consent reference): a purpose always, and a legal basis or the
    data subject's consent."""
    purpose = _text(msg, "purpose")
    legal = _text(msg, "legal_basis", required=False)
    consent = msg.get("consent")
    consent_ref = None
    if consent is not None:
        if not isinstance(consent, dict):
            raise InputError("consent: an object with ref", field="message.consent")
        consent_ref = _text(consent, "ref", required=False, max_len=64)
    if not legal and not consent_ref:
        raise InputError("a legal_basis or the person's consent (consent.ref) is required",
                         field="message.legal_basis")
    return purpose, legal, consent_ref


def search_query(msg: dict, scopes: frozenset[str]) -> tuple[str, dict, list[str]]:
    """(query type, query, items) of a search, checked against the partner's scopes."""
    require_scope(scopes, "search")
    qtype = msg.get("query_type")
    q = msg.get("query")
    if qtype not in ("id", "demographic") or not isinstance(q, dict):
        raise InputError("query_type id or demographic, with a query object",
                         field="message.query_type")
    if qtype == "id":
        cid = q.get("citizen_id")
        if not isinstance(cid, str) or not 15 <= len(cid.strip()) <= 18:
            raise InputError("query.citizen_id: an 18-character citizen ID",
                             field="message.query.citizen_id")
        query = {"citizen_id": cid.strip().upper()}
    else:
        require_scope(scopes, "search:demographic")
        name = q.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
            raise InputError("query.name is required", field="message.query.name")
        try:
            birth = dt.date.fromisoformat(str(q.get("birth_date")))
        except ValueError:
            raise InputError("query.birth_date: YYYY-MM-DD", field="message.query.birth_date")
        sex = q.get("sex")
        if sex not in (None, "M", "F"):
            raise InputError("query.sex: M or F", field="message.query.sex")
        query = {"name": name.strip(), "birth_date": birth, "sex": sex}
    items = msg.get("items") or ["identity", "status"]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InputError("items: a list of data items", field="message.items")
    unknown = [i for i in items if i not in ITEMS]
    if unknown:
        raise InputError(f"unknown data item(s): {', '.join(unknown)}", field="message.items")
    for i in items:
        require_scope(scopes, f"item:{i}")
    return qtype, query, sorted(set(items))


def page_request(msg: dict, max_size: int) -> tuple[int, int | None]:
    p = msg.get("pagination") or {}
    if not isinstance(p, dict):
        raise InputError("pagination: an object", field="message.pagination")
    size = p.get("page_size", 20)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= max_size:
        raise InputError(f"page_size: 1 to {max_size}", field="message.pagination.page_size")
    cursor = p.get("cursor")
    if cursor in (None, ""):
        return size, None
    if not isinstance(cursor, str) or not cursor.isdigit() or len(cursor) > 19:
        raise InputError("cursor: the next_cursor of the previous page",
                         field="message.pagination.cursor")
    return size, int(cursor)


def events_of(msg: dict, scopes: frozenset[str]) -> tuple[str, list[dict]]:
    et = msg.get("event_type")
    if et not in INBOUND_EVENTS:
        raise InputError(f"event_type: one of {', '.join(INBOUND_EVENTS)}",
                         field="message.event_type")
    require_scope(scopes, f"notify:{et}")
    events = msg.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS \
            or not all(isinstance(e, dict) for e in events):
        raise InputError(f"events: 1 to {MAX_EVENTS} objects", field="message.events")
    return et, events


def event_date(e: dict, name: str, index: int) -> dt.date:
    try:
        return dt.date.fromisoformat(str(e.get(name)))
    except ValueError:
        raise InputError(f"{name}: YYYY-MM-DD", field=f"message.events[{index}].{name}")


def record_of(person: dict, items: list[str], enrolments: list[dict] | None) -> dict:
    """What a partner gets about one person: only the items asked for and held."""
    out: dict = {}
    for item in items:
        for f in ITEMS[item]:
            if f == "enrolments":
                out[f] = enrolments or []
            else:
                v = person.get(f)
                out[f] = v.isoformat() if isinstance(v, dt.date) else v
    return out
