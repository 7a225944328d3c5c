"""A transfer message from another installation (:mod:`.remote`), done here in the caller's
transaction — sharing's inbound exchange, after it verified the signature, the partner's scope
and the reference id, calls :func:`receive` as the partner's actor.

    receive(conn, actor, installation, message) -> {"status": "applied" | "already_recorded",
                                                     "transfer_id": …}

``letter``: the old place opens its copy of the transfer for the person it knows by the citizen
ID (the contact-letter step done at the new place on the day sent; its own transfer_out step
and case open with the letter). ``out``: the new place takes the certificate and the amounts
(the transfer_out step done there; its record_in clock starts). ``recorded``: the old place
closes its copy (and the person's pension region here follows the relation). ``ended``: the
open step is closed refused or withdrawn and the cases end. A message whose step is already
past answers ``already_recorded``: a repeat changes nothing.
"""
from __future__ import annotations

import json

from sqlalchemy import insert, select

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.regions import check_region
from shebao.db.uow import now
from shebao.registry import queries as registry_queries
from shebao.registry import service as registry
from shebao.security import audit

from . import casework, model, remote
from .tables import mobility_transfer
from .transfers import TRANSFER, _close_step, _get, _open_step, _open_step_name, _set


def receive(conn, actor: Actor, installation: str, msg: dict) -> dict:
    what = msg.get("message")
    if what not in remote.MESSAGES:
        raise InputError(f"message: one of {', '.join(remote.MESSAGES)}",
                         field="message.message")
    ref = remote.text(msg, "transfer_ref", 40)
    tid = conn.execute(select(mobility_transfer.c.id).where(
        mobility_transfer.c.peer == installation, mobility_transfer.c.peer_ref == ref)).scalar()
    if what == "letter":
        if tid is not None:
            return {"status": "already_recorded", "transfer_id": tid}
        return _letter(conn, actor, installation, ref, msg)
    if tid is None:
        raise InputError(f"no transfer {ref} with installation {installation}",
                         field="message.transfer_ref")
    t = _get(conn, tid)
    return {"out": _out, "recorded": _recorded, "ended": _ended}[what](conn, actor, t, msg)


def _letter(conn, actor: Actor, installation: str, ref: str, msg: dict) -> dict:
    kind = model.check_kind(remote.text(msg, "kind", 8))
    if kind == "bridge":
        raise InputError("a bridge stays in one place", field="message.kind")
    src, dst = (check_region(remote.text(msg, k, 6), k) for k in ("from_region", "to_region"))
    cid = remote.text(msg, "citizen_id", 18)
    pid = registry_queries.person_id_of(conn, cid)
    if pid is None:
        raise InputError("no person with this citizen ID at the old place",
                         field="message.citizen_id")
    on, applied = remote.date(msg, "on"), remote.date(msg, "applied_on")
    t0 = now()
    tid = conn.execute(insert(mobility_transfer).values(
        kind=kind, person_id=pid, from_region=src, to_region=dst, status="applied",
        channel="api", temporary=int(bool(msg.get("temporary"))), applied_on=applied,
        peer=installation, peer_ref=ref, created_by=actor.id, created_at=t0, updated_at=t0
    ).returning(mobility_transfer.c.id)).scalar_one()
    t = _get(conn, tid)
    step, side = model.first_step(kind)
    if step == "contact_letter":             # done at the new place on the day it was sent
        _open_step(conn, t, step, side, applied)
        _close_step(conn, actor, t, step, on, "done")
        step, side = model.next_step(kind, step)
        _set(conn, tid, status="letter_sent")
    due = _open_step(conn, t, step, side, on)
    _set(conn, tid, case_out_id=casework.open_out(conn, t, on))
    audit.record(conn, actor, "mobility.transfer.letter_received", TRANSFER, tid,
                 purpose=remote.PURPOSE["letter"],
                 detail={"person": pid, "installation": installation, "reference": ref,
                         "kind": kind, "next": step, "due_on": due})
    return {"status": "applied", "transfer_id": tid}


def _past(t: dict, step: str) -> bool:
    """The step is done here already (a repeat of its message)."""
    if t["status"] in model.ENDED:
        return True
    done = {v: k for k, v in model.STATUS_AFTER.items()}.get(t["status"])
    names = [s for s, _ in model.STEPS[t["kind"]]]
    return done is not None and names.index(done) >= names.index(step)


def _out(conn, actor: Actor, t: dict, msg: dict) -> dict:
    if _past(t, "transfer_out"):
        return {"status": "already_recorded", "transfer_id": t["id"]}
    model.expect_step(t["kind"], t["status"], "transfer_out")
    on = remote.date(msg, "on")
    sheet = msg.get("sheet")
    if not isinstance(sheet, dict):
        raise InputError("sheet: the information sheet", field="message.sheet")
    months = msg.get("months")
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise InputError("months: an integer ≥ 0", field="message.months")
    _close_step(conn, actor, t, "transfer_out", on, "done")
    nxt, side = model.next_step(t["kind"], "transfer_out")
    due = _open_step(conn, t, nxt, side, on)
    _set(conn, t["id"], status="funds_sent", account_fen=remote.fen(msg, "account_fen"),
         pooled_fen=remote.fen(msg, "pooled_fen"),
         base_total_fen=remote.fen(msg, "base_total_fen"), months=months,
         sheet=json.dumps(sheet, ensure_ascii=False, sort_keys=True))
    audit.record(conn, actor, "mobility.transfer.certificate_received", TRANSFER, t["id"],
                 purpose=remote.PURPOSE["out"],
                 detail={"person": t["person_id"], "account_fen": msg["account_fen"],
                         "pooled_fen": msg["pooled_fen"], "due_on": due})
    return {"status": "applied", "transfer_id": t["id"]}


def _recorded(conn, actor: Actor, t: dict, msg: dict) -> dict:
    if _past(t, "record_in"):
        return {"status": "already_recorded", "transfer_id": t["id"]}
    model.expect_step(t["kind"], t["status"], "record_in")
    on = remote.date(msg, "on")
    _close_step(conn, actor, t, "record_in", on, "done")
    _set(conn, t["id"], status="recorded")
    if t["kind"] == "pension" and not t["temporary"]:
        # the registry here learns it today (the new place's record of ``on`` is the relation's)
        registry.change_person(conn, actor, t["person_id"], {"pension_region": t["to_region"]},
                               reason=f"pension relation transferred to installation "
                                      f"{t['peer']} on {on.isoformat()} (transfer {t['id']})",
                               valid_from=max(on, now().date()), source="mobility")
    audit.record(conn, actor, "mobility.transfer.recorded_there", TRANSFER, t["id"],
                 purpose=remote.PURPOSE["recorded"], detail={"person": t["person_id"]})
    return {"status": "applied", "transfer_id": t["id"]}


def _ended(conn, actor: Actor, t: dict, msg: dict) -> dict:
    if t["status"] in model.ENDED:
        return {"status": "already_recorded", "transfer_id": t["id"]}
    outcome = msg.get("outcome")
    if outcome not in ("refused", "withdrawn"):
        raise InputError("outcome: refused or withdrawn", field="message.outcome")
    if t["status"] == "funds_sent":
        raise ConflictError("the funds have moved: the transfer can no longer end")
    reason = remote.text(msg, "reason", 200)
    on = remote.date(msg, "on")
    step = _open_step_name(conn, t["id"])
    _close_step(conn, actor, t, step, on, outcome, reason)
    _set(conn, t["id"], status=outcome, reason=reason)
    mine = t["case_in_id"] if t["case_in_id"] is not None else t["case_out_id"]
    if outcome == "refused":
        casework.finish(conn, actor, mine, "refused", {"transfer": t["id"], "step": step},
                        reason)
    else:
        casework.withdraw(conn, actor, (mine,), reason)
    audit.record(conn, actor, f"mobility.transfer.{outcome}_there", TRANSFER, t["id"],
                 purpose=remote.PURPOSE["ended"], detail={"step": step, "reason": reason})
    return {"status": "applied", "transfer_id": t["id"]}
