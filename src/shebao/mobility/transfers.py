"""Relation transfers between regions and schemes: one function per step, each one transaction
and one audit record (国办发〔2009〕66号 procedure; 人社部发〔2014〕17号; 医保办发〔2021〕43号).

    tid = apply(db, actor, kind="pension", person_id=…, to_region="110000", channel="online")
    send_contact_letter(db, clerk_new, tid)            # new place: 联系函 (pension, bridge)
    request_transfer_out(db, maker_old, tid)           # old place: the sheet, four eyes
    approve_transfer_out(db, checker_old, tid)         # funds leave: ledger entry at the old place
    record_in(db, clerk_new, tid)                      # new place records: ledger entry, region
    refuse(db, actor, tid, reason); withdraw(db, actor, tid, reason)

Each step is a row of ``mobility_transfer_step`` with its statutory limit in working days
(``mobility.step_limits``), counted from the day the previous step was done. The side that
acts is the new place (``to_region``) or the old (``from_region``); staff act only inside their
region scope, citizens only apply for and withdraw their own transfers.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, select, update

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.core.regions import check_region
from shebao.db.uow import now, transaction
from shebao.registry import access as registry_access
from shebao.registry import queries as registry_queries
from shebao.registry import service as registry
from shebao.rules import load_rules
from shebao.rules.formulas import mobility as F
from shebao.security import audit, maker_checker, policy
from shebao.security.duties import TRANSFER_OUT

from . import casework, funds, model, remote, workdays
from .tables import mobility_transfer, mobility_transfer_step

TRANSFER = "mobility_transfer"
SEX = {"M": "male", "F": "female"}     # registry's codes → the parameter's keys


def _d(v) -> dt.date:
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _today(on: dt.date | None) -> dt.date:
    return on or now().date()


def _get(conn, tid: int, *, lock: bool = False) -> dict:
    q = select(mobility_transfer).where(mobility_transfer.c.id == tid)
    r = conn.execute(q).mappings().first()
    if r is None:
        raise InputError(f"no transfer {tid}", field="transfer_id")
    return dict(r)


def _acting_region(t: dict, side: str) -> str:
    return t["to_region"] if side == "to" else t["from_region"]


def _open_step(conn, t: dict, step: str, side: str, start: dt.date) -> dt.date:
    rules = load_rules()
    region = _acting_region(t, side)
    limits = rules.value("mobility.step_limits", region, start)
    n = model.step_limit(limits, t["kind"], step)
    due = workdays.due_on(rules, region, start, n)
    conn.execute(insert(mobility_transfer_step).values(
        transfer_id=t["id"], step=step, region=region, started_on=start, due_on=due,
        limit_days=n))
    return due


def _close_step(conn, actor: Actor, t: dict, step: str, on: dt.date, outcome: str,
                note: str | None = None) -> None:
    n = conn.execute(update(mobility_transfer_step).where(
        mobility_transfer_step.c.transfer_id == t["id"], mobility_transfer_step.c.step == step,
        mobility_transfer_step.c.done_on.is_(None)).values(
        done_on=on, done_by=actor.id, outcome=outcome, note=note)).rowcount
    if n != 1:
        raise ConflictError(f"step {step} of transfer {t['id']} is not open")


def _set(conn, tid: int, **values) -> None:
    conn.execute(update(mobility_transfer).where(mobility_transfer.c.id == tid).values(
        updated_at=now(), **values))


def local_side(t: dict) -> str | None:
    """For a transfer with another installation, the end that is here: the new place's copy
    was opened by the application (it has the in-case), the old place's by the letter."""
    if not t.get("peer"):
        return None
    return "to" if t["case_in_id"] is not None else "from"


def _require_side(actor: Actor, t: dict, side: str, permission: str) -> None:
    here = local_side(t)
    if here is not None and side != here:
        raise ConflictError(f"this step of transfer {t['id']} is done at installation "
                            f"{t['peer']}; it closes here when its message arrives")
    if actor.role == "system":
        return
    policy.require(actor, permission)
    policy.require_region(actor, _acting_region(t, side))


def _side_of(kind: str, step: str) -> str:
    return dict(model.STEPS[kind])[step]


# --------------------------------------------------------------------------- the application
def apply(db, actor: Actor, *, kind: str, person_id: int, to_region: str,
          from_region: str | None = None, channel: str = "counter", on: dt.date | None = None,
          organisation_transfer: bool = False, courier: remote.Courier | None = None) -> int:
    """The person (or a clerk of the new place) applies at the new place. Decides whether the
    new place opens a temporary account (T66 art. 6) and opens the first step. With a
    ``courier``, an old place served by another installation makes the transfer remote
    (:mod:`.remote`)."""
    model.check_kind(kind)
    check_region(to_region, "to_region")
    if channel not in model.CHANNELS:
        raise InputError(f"channel must be one of {', '.join(model.CHANNELS)}", field="channel")
    on = _today(on)
    with transaction(db) as conn:
        if actor.role == "citizen":
            registry_access.check_person(conn, actor, person_id)     # themself only
        if actor.role != "system":
            policy.require(actor, "mobility.transfer.apply")
            if actor.role != "citizen":                  # a clerk of the new place
                policy.require_region(actor, to_region)
        if person_id not in registry_queries.person_facts(conn, [person_id]):
            raise InputError(f"no person {person_id}", field="person_id")
        # the application is the new place's audited read of the applicant's record
        facts = registry.get_person(conn, actor, person_id, purpose="mobility transfer application")
        info = registry_queries.person_facts(conn, [person_id])[person_id]
        src = from_region or info["pension_region"]
        if src is None:
            raise InputError("the person has no pension region to transfer from",
                             field="from_region")
        check_region(src, "from_region")
        if kind != "bridge" and src == to_region:
            raise InputError("the new place is the old place", field="to_region")
        peer = remote.route(conn, courier, src, to_region) if kind != "bridge" else None
        temporary = False
        sex = SEX.get(info.get("sex"))
        if kind == "pension" and info.get("birth_date") and sex:
            rules = load_rules()
            hukou = facts.get("hukou_region") or src
            temporary = F.needs_temporary_account(
                sex=sex, birth_date=_d(info["birth_date"]), enrol_on=on, hukou=hukou,
                place=to_region, ages=rules.value("mobility.temporary_account_age", to_region, on),
                returning_home=False, organisation_transfer=organisation_transfer)
        t = now()
        tid = conn.execute(insert(mobility_transfer).values(
            kind=kind, person_id=person_id, from_region=src, to_region=to_region,
            status="applied", channel=channel, temporary=int(temporary), applied_on=on,
            peer=peer, peer_ref=remote.new_ref() if peer else None,
            created_by=actor.id, created_at=t, updated_at=t
        ).returning(mobility_transfer.c.id)).scalar_one()
        row = _get(conn, tid)
        row["case_in_id"] = casework.open_in(conn, actor, row, channel, on)
        values = {"case_in_id": row["case_in_id"]}
        step, side = model.first_step(kind)
        if side == "from" and peer:  # medical: the application goes to the old place at once
            _letter(conn, actor, courier, row, on)
        elif side == "from":         # medical: the old place acts first
            values["case_out_id"] = casework.open_out(conn, row, on)
        _set(conn, tid, **values)
        due = _open_step(conn, row, step, side, on)
        audit.record(conn, actor, "mobility.transfer.apply", "person", person_id,
                     detail={"transfer": tid, "kind": kind, "from": src, "to": to_region,
                             "temporary": temporary, "channel": channel, "first_step": step,
                             "due_on": due, "installation": peer})
        return tid


def _letter(conn, actor: Actor, courier, t: dict, on: dt.date) -> None:
    """The contact letter to the old place's installation: who the person is (the disclosure
    is the new place's audited read of the record, with its purpose)."""
    p = registry.get_person(conn, actor, t["person_id"],
                            purpose=f"transfer contact letter to installation {t['peer']}")
    remote.send(conn, courier, t, "letter", on, citizen_id=p["citizen_id"], name=p["name"],
                sex=p.get("sex"), birth_date=str(p["birth_date"])[:10] if p.get("birth_date")
                else None, temporary=bool(t["temporary"]),
                applied_on=str(t["applied_on"])[:10])


# ------------------------------------------------------------------------------- the steps
def send_contact_letter(db, actor: Actor, tid: int, *, on: dt.date | None = None,
                        courier: remote.Courier | None = None) -> dt.date:
    """The new place accepts: 联系函 to the old place; the old place's clock starts (at another
    installation: the letter goes there through ``courier``)."""
    on = _today(on)
    with transaction(db) as conn:
        t = _get(conn, tid)
        model.expect_step(t["kind"], t["status"], "contact_letter")
        _require_side(actor, t, "to", "mobility.transfer.work")
        _close_step(conn, actor, t, "contact_letter", on, "done")
        nxt, side = model.next_step(t["kind"], "contact_letter")
        due = _open_step(conn, t, nxt, side, on)
        if t["peer"]:
            _letter(conn, actor, courier, t, on)
            _set(conn, tid, status="letter_sent")
        else:
            _set(conn, tid, status="letter_sent", case_out_id=casework.open_out(conn, t, on))
        audit.record(conn, actor, "mobility.transfer.contact_letter", TRANSFER, tid,
                     detail={"person": t["person_id"], "next": nxt, "due_on": due})
        return due


def request_transfer_out(db, maker: Actor, tid: int, *, months: int | None = None) -> int:
    """The old place prepares the sheet (信息表) and what moves; a second clerk approves."""
    with transaction(db) as conn:
        t = _get(conn, tid)
        model.expect_step(t["kind"], t["status"], "transfer_out")
        _require_side(maker, t, "from", "mobility.transfer.work")
        sheet = _sheet(conn, t, months)
        _set(conn, tid, account_fen=sheet.account_fen, pooled_fen=sheet.pooled_fen,
             base_total_fen=sheet.base_total_fen, months=sheet.months,
             sheet=json.dumps(sheet.as_json(), ensure_ascii=False, sort_keys=True))
        aid = maker_checker.submit(conn, maker, TRANSFER_OUT, TRANSFER, tid,
                                   region=t["from_region"],
                                   detail={"account_fen": sheet.account_fen,
                                           "pooled_fen": sheet.pooled_fen})
        _set(conn, tid, approval_id=aid)
        audit.record(conn, maker, "mobility.transfer.prepare_out", TRANSFER, tid,
                     detail={"approval": aid, "account_fen": sheet.account_fen,
                             "pooled_fen": sheet.pooled_fen, "months": sheet.months})
        return aid


def _sheet(conn, t: dict, months: int | None) -> funds.Sheet:
    if t["kind"] == "medical":
        return funds.medical_sheet(conn, t["person_id"], t["from_region"], months)
    if t["kind"] == "bridge":
        return funds.bridge_sheet(conn, t["person_id"], t["from_region"])
    return funds.pension_sheet(conn, t["person_id"], t["from_region"],
                               temporary=bool(t["temporary"]))


def approve_transfer_out(db, checker: Actor, tid: int, *, on: dt.date | None = None,
                         courier: remote.Courier | None = None) -> int | None:
    """The second clerk approves: the old place's ledger entry moves the funds to clearing;
    the new place's clock to record starts (at another installation: the certificate goes
    there through ``courier``). Returns the ledger entry id."""
    on = _today(on)
    with transaction(db) as conn:
        t = _get(conn, tid)
        model.expect_step(t["kind"], t["status"], "transfer_out")
        if t["approval_id"] is None:
            raise ConflictError("the transfer out has not been prepared")
        _require_side(checker, t, "from", "mobility.transfer.approve")
        maker_checker.approve(conn, checker, t["approval_id"])
        scheme, _ = funds.schemes_of(t["kind"], json.loads(t["sheet"] or "{}"))
        entry = funds.post_out(conn, checker, tid, t["from_region"], scheme, t["person_id"],
                               int(t["account_fen"] or 0), int(t["pooled_fen"] or 0), on)
        _close_step(conn, checker, t, "transfer_out", on, "done")
        nxt, side = model.next_step(t["kind"], "transfer_out")
        due = _open_step(conn, t, nxt, side, on)
        _set(conn, tid, status="funds_sent", out_entry_id=entry)
        casework.finish(conn, checker, t["case_out_id"], "transferred",
                        {"transfer": tid, "account_fen": t["account_fen"],
                         "pooled_fen": t["pooled_fen"], "ledger_entry": entry})
        if t["peer"]:
            remote.send(conn, courier, t, "out", on, account_fen=int(t["account_fen"] or 0),
                        pooled_fen=int(t["pooled_fen"] or 0),
                        base_total_fen=int(t["base_total_fen"] or 0), months=int(t["months"] or 0),
                        sheet=json.loads(t["sheet"] or "{}"))
        audit.record(conn, checker, "mobility.transfer.out", TRANSFER, tid,
                     detail={"person": t["person_id"], "ledger_entry": entry, "due_on": due})
        return entry


def record_in(db, actor: Actor, tid: int, *, on: dt.date | None = None,
              gap_months: int | None = None, courier: remote.Courier | None = None
              ) -> int | None:
    """The new place checks the sheet against the funds and records: its ledger entry, and the
    person's pension region moves (pension; a temporary account keeps the relation where it
    was). From another installation the sheet's periods become the person's history here and
    the old place is told through ``courier``. Returns the ledger entry id."""
    on = _today(on)
    with transaction(db) as conn:
        t = _get(conn, tid)
        model.expect_step(t["kind"], t["status"], "record_in")
        _require_side(actor, t, "to", "mobility.transfer.work")
        _, scheme = funds.schemes_of(t["kind"], json.loads(t["sheet"] or "{}"))
        entry = funds.post_in(conn, actor, tid, t["to_region"], scheme, t["person_id"],
                              int(t["account_fen"] or 0), int(t["pooled_fen"] or 0), on)
        _close_step(conn, actor, t, "record_in", on, "done")
        _set(conn, tid, status="recorded", in_entry_id=entry)
        if t["kind"] == "medical" and gap_months is not None:
            _medical_continuity(conn, t, on, gap_months)
        casework.finish(conn, actor, t["case_in_id"], "recorded",
                        {"transfer": tid, "ledger_entry": entry})
        if t["kind"] == "pension" and not t["temporary"]:
            registry.change_person(conn, actor, t["person_id"], {"pension_region": t["to_region"]},
                                   reason=f"pension relation transferred (transfer {tid})",
                                   valid_from=on, source="mobility")
        periods = 0
        if t["peer"]:
            if t["kind"] == "pension":
                periods = funds.record_history(conn, actor, t, json.loads(t["sheet"] or "{}"))
            remote.send(conn, courier, t, "recorded", on, periods=periods)
        audit.record(conn, actor, "mobility.transfer.record_in", TRANSFER, tid,
                     detail={"person": t["person_id"], "ledger_entry": entry,
                             "history_periods": periods})
        return entry


def refuse(db, actor: Actor, tid: int, reason: str, *, on: dt.date | None = None,
           courier: remote.Courier | None = None) -> None:
    """The side whose step is open refuses in writing (with reasons): the transfer ends."""
    if not reason or not reason.strip():
        raise InputError("a refusal needs the reasons in writing", field="reason")
    on = _today(on)
    with transaction(db) as conn:
        t = _get(conn, tid)
        if t["status"] not in model.LIVE or t["status"] == "funds_sent":
            raise ConflictError(f"a transfer that is {t['status']} cannot be refused")
        step = _open_step_name(conn, tid)
        _require_side(actor, t, _side_of(t["kind"], step), "mobility.transfer.work")
        _close_step(conn, actor, t, step, on, "refused", reason[:200])
        _set(conn, tid, status="refused", reason=reason[:200])
        side = _side_of(t["kind"], step)
        if t["peer"]:
            remote.send(conn, courier, t, "ended", on, outcome="refused", step=step,
                        reason=reason[:200])
        casework.finish(conn, actor, t["case_in_id"] if side == "to" else t["case_out_id"],
                        "refused", {"transfer": tid, "step": step}, reason[:200])
        if side == "from":      # the new place's case ends with the old place's refusal
            casework.finish(conn, SYSTEM, t["case_in_id"], "refused",
                            {"transfer": tid, "step": step}, reason[:200])
        audit.record(conn, actor, "mobility.transfer.refuse", TRANSFER, tid,
                     detail={"step": step, "reason": reason[:200]})


def withdraw(db, actor: Actor, tid: int, reason: str, *,
             courier: remote.Courier | None = None) -> None:
    """The applicant (or a clerk of the new place) withdraws before the funds have moved."""
    with transaction(db) as conn:
        t = _get(conn, tid)
        if t["status"] not in ("applied", "letter_sent"):
            raise ConflictError(f"a transfer that is {t['status']} cannot be withdrawn")
        if actor.role == "citizen":
            if actor.person_id != t["person_id"]:
                raise PermissionDenied(f"{actor.id} may not withdraw transfer {tid}")
        else:
            _require_side(actor, t, "to", "mobility.transfer.work")
        if local_side(t) == "from":
            raise ConflictError("the applicant withdraws at the new place's installation")
        step = _open_step_name(conn, tid)
        _close_step(conn, actor, t, step, now().date(), "withdrawn", (reason or "")[:200])
        if t["peer"]:
            remote.send(conn, courier, t, "ended", now().date(), outcome="withdrawn", step=step,
                        reason=(reason or "withdrawn")[:200])
        _set(conn, tid, status="withdrawn", reason=(reason or "")[:200])
        casework.withdraw(conn, actor, (t["case_in_id"], t["case_out_id"]),
                          (reason or "withdrawn").strip() or "withdrawn")
        audit.record(conn, actor, "mobility.transfer.withdraw", TRANSFER, tid,
                     detail={"reason": (reason or "")[:200]})


def _open_step_name(conn, tid: int) -> str:
    r = conn.execute(select(mobility_transfer_step.c.step).where(
        mobility_transfer_step.c.transfer_id == tid,
        mobility_transfer_step.c.done_on.is_(None))).first()
    if r is None:
        raise ConflictError(f"transfer {tid} has no open step")
    return r.step


def claim_place(db, actor: Actor, person_id: int, on: dt.date | None = None) -> dict:
    """The claim place (待遇领取地) decided by the rules from the person's record, the hukou and
    the temporary accounts of their transfers — what the retirement case of the person uses."""
    on = _today(on)
    with transaction(db) as conn:
        facts = registry_access.check_person(conn, actor, person_id)
        hukou = facts.get("hukou_region") or facts.get("pension_region")
        if hukou is None:
            raise InputError("the person has no hukou region", field="person_id")
        temps = conn.execute(select(mobility_transfer.c.to_region).where(
            mobility_transfer.c.person_id == person_id, mobility_transfer.c.temporary == 1,
            mobility_transfer.c.status == "recorded")).scalars().all()
        out = funds.claim_place_of(conn, person_id, hukou, on, temps)
        audit.record(conn, actor, "mobility.claim_place", "person", person_id,
                     detail={"claim_region": out["claim_region"], "rule": out["rule"]})
        return out


def _medical_continuity(conn, t: dict, on: dt.date, gap_months: int) -> None:
    """M43: a gap up to ``mobility.medical_gap_months`` keeps continuity (back-pay, no waiting);
    longer starts ``mobility.medical_waiting_months`` of waiting. Kept on the sheet."""
    rules = load_rules()
    c = F.medical_continuity(
        old_months=int(t["months"] or 0), gap_months=int(gap_months),
        max_gap_months=int(rules.value("mobility.medical_gap_months", t["to_region"], on)),
        waiting_months=int(rules.value("mobility.medical_waiting_months", t["to_region"], on)))
    sheet = json.loads(t["sheet"] or "{}")
    sheet["continuity"] = {"gap_months": int(gap_months), "continuous": c.continuous,
                           "waiting_months": c.waiting_months,
                           "recognised_months": c.recognised_months}
    _set(conn, t["id"], sheet=json.dumps(sheet, ensure_ascii=False, sort_keys=True))
