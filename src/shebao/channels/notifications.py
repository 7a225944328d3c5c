"""Citizens' notification preferences (which channels we may use to reach them)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.security import audit
from shebao.security.service import now
from shebao.security.tables import notification_prefs

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@dataclass(frozen=True)
class Prefs:
    person_id: int
    sms: bool = True
    email: bool = False
    post: bool = False
    email_address: str | None = None


def _own(actor: Actor, person_id: int) -> None:
    if actor.role != "citizen" or actor.person_id is None or int(actor.person_id) != int(person_id):
        raise PermissionDenied("only the citizen themself sets their notification preferences")


def get_prefs(engine, actor: Actor, person_id: int) -> Prefs:
    _own(actor, person_id)
    with engine.connect() as conn:
        r = conn.execute(select(notification_prefs).where(
            notification_prefs.c.person_id == person_id)).first()
    if r is None:
        return Prefs(person_id)
    return Prefs(person_id, r.sms, r.email, r.post, r.email_address)


def set_prefs(engine, actor: Actor, person_id: int, *, sms: bool, email: bool, post: bool,
              email_address: str | None) -> Prefs:
    _own(actor, person_id)
    email_address = (email_address or "").strip() or None
    if email_address is not None and (len(email_address) > 200 or not _EMAIL.match(email_address)):
        raise InputError("not an e-mail address", field="email_address")
    if email and not email_address:
        raise InputError("give an address to be notified by e-mail", field="email_address")
    if not (sms or email or post):
        raise InputError("keep at least one channel so we can reach you about your benefits",
                         field="sms")
    values = dict(sms=bool(sms), email=bool(email), post=bool(post), email_address=email_address,
                  updated_at=now())
    with engine.begin() as conn:
        exists = conn.execute(select(notification_prefs.c.person_id).where(
            notification_prefs.c.person_id == person_id)).first()
        if exists:
            conn.execute(update(notification_prefs).where(
                notification_prefs.c.person_id == person_id).values(**values))
        else:
            conn.execute(insert(notification_prefs).values(person_id=person_id, **values))
        audit.record(conn, actor, "person.notifications.write", "person", person_id,
                     fields=["sms", "email", "post", "email_address"],
                     detail={"sms": sms, "email": email, "post": post})
    return Prefs(person_id, bool(sms), bool(email), bool(post), email_address)
