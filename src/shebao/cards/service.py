"""Card lifecycle use cases: one transaction and one audit record each.

    apply(db, actor, person_id, channel=)                 -> card id (case cards.application)
    apply_replacement(db, actor, person_id, reason=, channel=) -> card id (case cards.replacement)
    issue(db, actor, card_id)                             -> card number (the case is decided)
    activate(db, actor, card_id)
    report_loss(db, actor, card_id)                       -> e-card credentials revoked
    link_bank(db, actor, card_id, bank_name=, bank_account=)

Who: the citizen for their own card (apply, replacement, activate, loss, bank link), staff with
``card.work`` in the person's region subtree for anyone's (and only staff issue). Every change
writes a notice to the holder (``notices.outbox``) in the same transaction.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update

from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.ids import mask_id
from shebao.db import dialect
from shebao.db.uow import now, transaction
from shebao.notices import outbox
from shebao.registry.access import check_person
from shebao.registry.model import person_region
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import ecard, model
from .tables import card

_LOCK_NS = 0x5CA4D  # per-person lock: one card action at a time
REPLACEMENT_REASONS = ("lost", "damaged")


def _require_actor(actor: Actor, person_id: int, *, staff_only: bool = False) -> None:
    if actor.role == "citizen" and not staff_only:
        if actor.person_id is None or int(actor.person_id) != int(person_id):
            raise PermissionDenied(f"{actor.id} may act only on their own card")
        return
    if actor.role == "system":
        return
    if not policy.is_staff(actor):
        raise PermissionDenied(f"role {actor.role} may not handle cards")
    policy.require(actor, "card.work")


def _person(conn, actor: Actor, person_id: int, *, staff_only: bool = False) -> str:
    _require_actor(actor, person_id, staff_only=staff_only)
    row = check_person(conn, actor, person_id)     # scope: region subtree, or themself
    dialect.xact_lock(conn, _LOCK_NS, f"card:{person_id}")
    return person_region(row)


def _card(conn, card_id: int) -> dict:
    row = conn.execute(dialect.for_update(conn, select(card).where(card.c.id == card_id))
                       ).mappings().first()
    if row is None:
        raise InputError(f"no card {card_id}", field="card_id")
    return dict(row)


def _in_force(conn, person_id: int) -> dict | None:
    row = conn.execute(select(card).where(card.c.person_id == person_id,
                                          card.c.status.in_(model.IN_FORCE))).mappings().first()
    return dict(row) if row else None


def _notice(conn, c: dict, template: str, key_suffix: str = "", **data) -> None:
    outbox.enqueue(conn, recipient_type="person", recipient_id=c["person_id"],
                   region=c["region"], template=template,
                   data={"card_id": c["id"], **data},
                   key=f"card:{c['id']}:{template}{key_suffix}")


def _new_card(conn, actor: Actor, person_id: int, region: str, item: str, channel: str,
              replaces: int | None, detail: dict) -> int:
    t = now()
    gen = int(load_rules().value("cards.generation", region, t.date()))
    cid = conn.execute(insert(card).values(
        person_id=person_id, region=region, status="applied", generation=gen,
        replaces_id=replaces, applied_at=t, updated_by=actor.id, updated_at=t)
        .returning(card.c.id)).scalar_one()
    case_id = cases.open_case(conn, actor, item=item, region=region, subject_type="person",
                              subject_id=person_id, person_id=person_id, employer_id=None,
                              channel=channel, outlet=None,
                              detail={"card_id": cid, **detail})
    conn.execute(update(card).where(card.c.id == cid).values(case_id=case_id))
    return cid


def apply(db, actor: Actor, person_id: int, *, channel: str = "online") -> int:
    """Apply for a first card: a card ``applied`` and its case ``cards.application``."""
    with transaction(db) as conn:
        region = _person(conn, actor, person_id)
        existing = _in_force(conn, person_id)
        if existing:
            raise ConflictError(f"person {person_id} already has a card ({existing['status']}); "
                                f"report it lost or apply for a replacement")
        cid = _new_card(conn, actor, person_id, region, "cards.application", channel, None, {})
        audit.record(conn, actor, "cards.apply", "card", cid, purpose="card application",
                     detail={"person_id": person_id, "channel": channel})
        return cid


def apply_replacement(db, actor: Actor, person_id: int, *, reason: str,
                      channel: str = "online") -> int:
    """A replacement: after a loss report (``lost``), or of a damaged card still in force,
    which is then ``replaced`` at once (its e-card credentials revoked)."""
    if reason not in REPLACEMENT_REASONS:
        raise InputError(f"reason must be one of {', '.join(REPLACEMENT_REASONS)}", field="reason")
    with transaction(db) as conn:
        region = _person(conn, actor, person_id)
        current = _in_force(conn, person_id)
        if reason == "lost":
            if current:
                raise ConflictError(f"the card of person {person_id} is {current['status']}: "
                                    f"report it lost first")
            old = conn.execute(select(card.c.id).where(card.c.person_id == person_id,
                                                       card.c.status == "lost")
                               .order_by(card.c.id.desc()).limit(1)).scalar()
            if old is None:
                raise InputError("no card reported lost to replace", field="reason")
        else:
            if not current or current["status"] == "applied":
                raise InputError("no issued card to replace", field="reason")
            old = current["id"]
            t = now()
            conn.execute(update(card).where(card.c.id == old).values(
                status="replaced", ended_at=t, updated_by=actor.id, updated_at=t))
            ecard.revoke_card(conn, old, "replaced")
        cid = _new_card(conn, actor, person_id, region, "cards.replacement", channel, old,
                        {"replaces": old, "reason": reason})
        audit.record(conn, actor, "cards.apply_replacement", "card", cid,
                     purpose="card replacement",
                     detail={"person_id": person_id, "replaces": old, "reason": reason})
        return cid


def issue(db, actor: Actor, card_id: int, *, issued_on: dt.date | None = None) -> str:
    """Make the card: its number, ``issued``; the application's case is decided (granted)
    and a lost card it replaces becomes ``replaced``."""
    with transaction(db) as conn:
        c = _card(conn, card_id)
        _person(conn, actor, c["person_id"], staff_only=True)
        model.require_status("issue", card_id, c["status"])
        t = now()
        card_no = model.card_number(card_id)
        conn.execute(update(card).where(card.c.id == card_id).values(
            status="issued", card_no=card_no, issued_on=issued_on or t.date(),
            updated_by=actor.id, updated_at=t))
        if c["replaces_id"]:
            conn.execute(update(card).where(card.c.id == c["replaces_id"],
                                            card.c.status == "lost").values(
                status="replaced", ended_at=t, updated_by=actor.id, updated_at=t))
        if c["case_id"]:
            cases.decide(conn, actor, c["case_id"], outcome="granted",
                         detail={"card_no": card_no})
        _notice(conn, c, "card.issued", card_no=card_no)
        audit.record(conn, actor, "cards.issue", "card", card_id, purpose="card issued",
                     detail={"person_id": c["person_id"], "card_no": card_no})
        return card_no


def _transition(db, actor: Actor, card_id: int, action: str, values: dict,
                notice: str, detail: dict | None = None, after=None,
                notice_data: dict | None = None) -> dict:
    with transaction(db) as conn:
        c = _card(conn, card_id)
        _person(conn, actor, c["person_id"])
        model.require_status(action, card_id, c["status"])
        t = now()
        conn.execute(update(card).where(card.c.id == card_id).values(
            **values, updated_by=actor.id, updated_at=t))
        if after:
            after(conn)
        _notice(conn, c, notice, card_no=c["card_no"], **(notice_data or {}))
        audit.record(conn, actor, f"cards.{action}", "card", card_id, purpose=action,
                     detail={"person_id": c["person_id"], **(detail or {})})
        return c


def activate(db, actor: Actor, card_id: int) -> None:
    """The holder (or a clerk) activates an issued card: ``active``."""
    _transition(db, actor, card_id, "activate", {"status": "active", "activated_at": now()},
                "card.activated")


def report_loss(db, actor: Actor, card_id: int) -> int:
    """Report the card lost: ``lost`` at once, every e-card credential of it revoked.
    Returns how many credentials were revoked."""
    revoked = []
    _transition(db, actor, card_id, "report_loss", {"status": "lost", "lost_at": now()},
                "card.lost", after=lambda conn: revoked.append(
                    ecard.revoke_card(conn, card_id, "lost")))
    return revoked[0] if revoked else 0


def link_bank(db, actor: Actor, card_id: int, *, bank_name: str, bank_account: str) -> None:
    """Link the card's financial function to a bank account (the card is a bank card too)."""
    bank_name = (bank_name or "").strip()
    bank_account = (bank_account or "").replace(" ", "")
    if not bank_name or len(bank_name) > 64:
        raise InputError("a bank name of 1 to 64 characters", field="bank_name")
    if not bank_account.isdigit() or not 12 <= len(bank_account) <= 30:
        raise InputError("a bank account of 12 to 30 digits", field="bank_account")
    _transition(db, actor, card_id, "link_bank",
                {"bank_name": bank_name, "bank_account": bank_account,
                 "bank_linked_at": now()}, "card.bank_linked",
                detail={"bank_name": bank_name, "bank_account": mask_id(bank_account)},
                notice_data={"bank_name": bank_name, "key_suffix": f":{mask_id(bank_account)}"})
