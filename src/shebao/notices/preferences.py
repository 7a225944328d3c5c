"""A recipient's channel preferences, language and quiet hours (table ``notice_preference``).

Only the recipient sets them (a citizen for themself, an employer account for its firm); one
transaction and one audit row per change. Addresses are checked for form, not ownership.
"""
from __future__ import annotations

import re

from sqlalchemy import delete, insert, select

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.uow import now, reading, transaction
from shebao.security import audit, policy

from .policy import parse_hhmm
from .render import LANGS
from .tables import notice_preference

CHANNELS = ("email", "sms", "wechat")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9]{6,20}$")
_WECHAT = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
INVALID = {"email": "not a valid e-mail address", "phone": "not a valid mobile number",
           "wechat": "not a valid WeChat ID"}
# every reason a refusal here gives (English message ids; the pages translate them)
MESSAGES = ("unknown channel", "language must be zh_CN or en", *INVALID.values(),
            "this channel needs an address", "time must be HH:MM",
            "quiet hours need a start and an end")
FIELDS = ("channels", "lang", "email", "phone", "wechat", "quiet_start", "quiet_end")


def recipient_of(actor: Actor) -> tuple[str, str]:
    """The recipient an account speaks for: its person or its employer."""
    if actor.role == "citizen" and actor.person_id is not None:
        return "person", str(actor.person_id)
    if actor.role == "employer" and actor.employer_id is not None:
        return "employer", str(actor.employer_id)
    raise PermissionDenied(f"role {actor.role} receives no notices of its own")


def get(bind, recipient_type: str, recipient_id) -> dict:
    """The stored preferences, or the defaults (portal only, Chinese, no quiet hours)."""
    with reading(bind) as conn:
        r = conn.execute(select(notice_preference).where(
            notice_preference.c.recipient_type == recipient_type,
            notice_preference.c.recipient_id == str(recipient_id))).mappings().first()
    if r is None:
        return {"channels": [], "lang": "zh_CN", "email": "", "phone": "", "wechat": "",
                "quiet_start": "", "quiet_end": ""}
    d = dict(r)
    d["channels"] = [c for c in (d["channels"] or "").split(",") if c]
    return {k: (d[k] if d[k] is not None else "") for k in FIELDS}


def _clean(values: dict) -> dict:
    chans = values.get("channels") or []
    if isinstance(chans, str):
        chans = [c.strip() for c in chans.split(",") if c.strip()]
    seen = []
    for c in chans:
        if c not in CHANNELS:
            raise InputError("unknown channel", field="channels", value=c)
        if c not in seen:
            seen.append(c)
    lang = values.get("lang") or "zh_CN"
    if lang not in LANGS:
        raise InputError("language must be zh_CN or en", field="lang", value=lang)
    out = {"channels": ",".join(seen), "lang": lang}
    for f, pattern in (("email", _EMAIL), ("phone", _PHONE), ("wechat", _WECHAT)):
        v = (values.get(f) or "").strip()
        if v and not pattern.match(v):
            raise InputError(INVALID[f], field=f)
        out[f] = v or None
    for c in seen:
        if not out[{"email": "email", "sms": "phone", "wechat": "wechat"}[c]]:
            raise InputError("this channel needs an address", field=c)
    qs = parse_hhmm(values.get("quiet_start"), "quiet_start")
    qe = parse_hhmm(values.get("quiet_end"), "quiet_end")
    if (qs is None) != (qe is None):
        raise InputError("quiet hours need a start and an end", field="quiet_end")
    out["quiet_start"] = qs.strftime("%H:%M") if qs else None
    out["quiet_end"] = qe.strftime("%H:%M") if qe else None
    return out


def set_preferences(db, actor: Actor, values: dict) -> dict:
    """Replace the actor's own preferences (see ``recipient_of``)."""
    policy.require(actor, "notices.preferences")
    rtype, rid = recipient_of(actor)
    clean = _clean(values)
    with transaction(db) as conn:
        conn.execute(delete(notice_preference).where(
            notice_preference.c.recipient_type == rtype,
            notice_preference.c.recipient_id == rid))
        conn.execute(insert(notice_preference).values(
            recipient_type=rtype, recipient_id=rid, updated_at=now(), updated_by=actor.id,
            **clean))
        audit.record(conn, actor, "notices.preferences", rtype, rid,
                     fields=[k for k in FIELDS if clean.get(k)],
                     detail={"channels": clean["channels"], "lang": clean["lang"],
                             "quiet": [clean["quiet_start"], clean["quiet_end"]]})
    return get(db, rtype, rid)
