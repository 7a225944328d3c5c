"""Inspection cases (稽核检查): from an alert or a complaint to a checked decision posted
through the ledger.

The case itself is a ``shebao.cases`` case (item ``supervision.inspection_person`` or
``supervision.inspection_employer``: status, due date, events, documents, four-eyes); this
module keeps the supervision detail (``inspection``) and acts on the decision:

- ``recover``      benefits paid without entitlement: a recovery of the benefits bureau
                   (``benefits.recovery.open_recovery``: receivable from the person, the pooled
                   fund's expenditure reversed; instalments or set-off are worked there);
- ``back_assess``  contributions evaded: receivable from the employer to the pooled fund, and
                   the late fee (``collection.late_fee_rate`` per day) to late-fee income;
- ``fine``         ``supervision.fine_multiple`` (2–5×) of the amount defrauded: a fine is
                   state revenue (上缴国库), not the fund's, so it is posted to the memorandum
                   pair ``fines_receivable`` / ``fines_payable_treasury``, outside the fund's
                   balance;
- ``refer``        handed to the public-security organ or another authority (recorded);
- ``none``         nothing found.

Every decision is made by one inspector and checked by another (``security.duties.
SUPERVISION_DECISION``); on approval the entry is posted under the idempotency key
``inspection:<case>:<n>`` and the subject is told (``supervision.decision`` notice). An appeal
or review reopens the case (``appeal``); a new decision posts its own entry.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import insert, select, update

from shebao.benefits import recovery
from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.db.uow import now, transaction
from shebao.ledger import posting
from shebao.ledger.model import EntryRequest, Line, account_code
from shebao.notices import outbox
from shebao.rules.loader import load_rules
from shebao.security import policy

from . import alerts, model
from .tables import inspection, monitor_alert

ITEMS = {"person": "supervision.inspection_person", "employer": "supervision.inspection_employer"}


def _today() -> dt.date:
    return now().date()


def open_inspection(db, actor: Actor, *, alert_id: int | None = None,
                    subject_type: str | None = None, subject_id: int | None = None,
                    region: str | None = None, complaint: str | None = None,
                    assign_to: str | None = None) -> int:
    """Open a case from an open alert (its subject and region) or from a complaint (subject
    and region given). Returns the case id; the alert is marked ``case``."""
    policy.require(actor, "supervision.case.work")
    with transaction(db) as conn:
        if alert_id is not None:
            a = conn.execute(select(monitor_alert).where(monitor_alert.c.id == alert_id)).first()
            if a is None:
                raise InputError(f"no alert {alert_id}", field="alert_id")
            if a.status != "open":
                raise ConflictError(f"alert {alert_id} is {a.status}, not open")
            if a.subject_type not in ITEMS:
                ev = json.loads(a.evidence)
                raise InputError(f"alert {alert_id} concerns an {a.subject_type}; open one case "
                                 f"per person it names ({ev.get('person_ids', [])[:10]})",
                                 field="alert_id")
            subject_type, subject_id, region = a.subject_type, int(a.subject_id), a.region
            source, detail = "alert", {"alert_id": alert_id, "rule": a.rule}
        else:
            if not (complaint and complaint.strip()):
                raise InputError("a case without an alert needs the complaint", field="complaint")
            if subject_type not in ITEMS:
                raise InputError("subject_type must be person or employer", field="subject_type")
            if subject_id is None or region is None:
                raise InputError("name the subject and its region", field="subject_id")
            source, detail = "complaint", {}
        cid = cases.open_case(
            conn, actor, item=ITEMS[subject_type], region=region, subject_type=subject_type,
            subject_id=subject_id, person_id=subject_id if subject_type == "person" else None,
            employer_id=subject_id if subject_type == "employer" else None, channel="system"
            if source == "alert" else "counter", detail=detail)
        conn.execute(insert(inspection).values(
            case_id=cid, alert_id=alert_id, source=source,
            complaint=(complaint or "").strip()[:4000] or None, region=region))
        if alert_id is not None:
            alerts.mark_case(conn, alert_id, cid)
        if assign_to:
            cases.assign(conn, actor, cid, assign_to)
    return cid


def _detail(conn, case_id: int):
    r = conn.execute(select(inspection).where(inspection.c.case_id == case_id)).first()
    if r is None:
        raise InputError(f"case {case_id} is not an inspection", field="case_id")
    return r


def record(db, actor: Actor, case_id: int, *, plan: str | None = None,
           findings: str | None = None) -> None:
    """Write the inspection plan or the findings (each also a case event)."""
    with transaction(db) as conn:
        _detail(conn, case_id)
        c = case_queries.get(conn, case_id)
        if c.status == "received":
            cases.start(conn, actor, case_id)
        values = {k: v.strip()[:8000] for k, v in (("plan", plan), ("findings", findings)) if v}
        if not values:
            raise InputError("give the plan or the findings", field="findings")
        cases.note(conn, actor, case_id, "; ".join(f"{k}: {v[:200]}" for k, v in values.items()),
                   detail={"recorded": sorted(values)})
        conn.execute(update(inspection).where(inspection.c.case_id == case_id).values(**values))


def attach_evidence(db, actor: Actor, case_id: int, *, filename: str, content: bytes,
                    content_type: str = "application/octet-stream") -> int:
    """A document of evidence on the case (kept by the case model with its sha256)."""
    with transaction(db) as conn:
        _detail(conn, case_id)
        return cases.attach(conn, actor, case_id, kind="evidence", filename=filename,
                            content=content, content_type=content_type)


def propose_decision(db, maker: Actor, case_id: int, *, decision: str, amount_fen: int = 0,
                     fine_multiple: str | None = None, due_since: dt.date | None = None,
                     fund_region: str | None = None, scheme: str = "pension",
                     refer_to: str | None = None, reason: str | None = None) -> int:
    """The maker's decision with its amounts (computed here from the parameters); returns the
    approval id. ``amount_fen``: overpaid benefits (recover), evaded contributions
    (back_assess) or the amount defrauded (fine)."""
    if decision not in model.DECISIONS:
        raise InputError(f"decision must be one of {', '.join(model.DECISIONS)}",
                         field="decision")
    rules = load_rules()
    with transaction(db) as conn:
        d = _detail(conn, case_id)
        c = case_queries.get(conn, case_id)
        if c.status == "received":
            cases.start(conn, maker, case_id)
        on = _today()
        fund_region = fund_region or d.region
        values = {"decision": decision, "recover_fen": 0, "back_assess_fen": 0,
                  "fine_base_fen": 0, "fine_multiple": None, "fine_fen": 0, "refer_to": None}
        out = {"decision": decision, "fund_region": fund_region, "scheme": scheme}
        if decision in ("recover", "back_assess", "fine") and int(amount_fen) <= 0:
            raise InputError("the decision needs a positive amount", field="amount")
        if decision == "recover":
            values["recover_fen"] = int(amount_fen)
            out["recover"] = fen_to_yuan_str(int(amount_fen))
        elif decision == "back_assess":
            rate = rules.lookup("collection.late_fee_rate", fund_region, on)
            days = (on - due_since).days if due_since else 0
            fee = model.late_fee(int(amount_fen), rate.value, days)
            values["back_assess_fen"] = int(amount_fen)
            out.update(back_assess=fen_to_yuan_str(int(amount_fen)), late_fee_days=days,
                       late_fee=fen_to_yuan_str(fee), late_fee_fen=fee,
                       late_fee_rate=str(rate.value), late_fee_reference=rate.reference)
        elif decision == "fine":
            bounds = rules.lookup("supervision.fine_multiple", fund_region, on)
            m = Decimal(str(fine_multiple or bounds.value["min"]))
            fee = model.fine(int(amount_fen), m, bounds.value)
            values.update(fine_base_fen=int(amount_fen), fine_multiple=str(m), fine_fen=fee)
            out.update(fine_base=fen_to_yuan_str(int(amount_fen)), fine_multiple=str(m),
                       fine=fen_to_yuan_str(fee), reference=bounds.reference)
        elif decision == "refer":
            if not (refer_to and refer_to.strip()):
                raise InputError("name the authority the case is referred to", field="refer_to")
            values["refer_to"] = refer_to.strip()[:120]
            out["refer_to"] = values["refer_to"]
        conn.execute(update(inspection).where(inspection.c.case_id == case_id).values(**values))
        return cases.submit_decision(conn, maker, case_id, outcome=decision, detail=out,
                                     reason=reason)


def approve(db, checker: Actor, case_id: int) -> dict:
    """The second inspector's check: the decision takes effect, is posted and notified."""
    with transaction(db) as conn:
        d = _detail(conn, case_id)
        c = cases.approve_decision(conn, checker, case_id)
        dec = c.decision or {}
        region, scheme = dec.get("fund_region", d.region), dec.get("scheme", "pension")
        n = len(case_queries.events(conn, case_id))
        lines = []
        if c.outcome == "recover":
            rid = recovery.open_recovery(conn, checker, c.person_id, region, scheme,
                                         int(d.recover_fen), f"inspection case {case_id}")
            conn.execute(update(inspection).where(inspection.c.case_id == case_id).values(
                recovery_id=rid))
        elif c.outcome == "back_assess":
            fee = int(dec.get("late_fee_fen", 0))
            lines = [Line.debit(account_code(region, scheme, "receivable_employer"),
                                d.back_assess_fen + fee),
                     Line.credit(account_code(region, scheme, "pooled_fund"), d.back_assess_fen)]
            if fee:
                lines.append(Line.credit(account_code(region, scheme, "late_fee_income"), fee))
        elif c.outcome == "fine":
            # state revenue, kept off the fund: the memorandum pair of the chart (ledger.model)
            lines = [Line.debit(account_code(region, scheme, "fines_receivable"), d.fine_fen),
                     Line.credit(account_code(region, scheme, "fines_payable_treasury"),
                                 d.fine_fen)]
        entry_id = None
        if lines:
            res = posting.post_entry(conn, checker, f"inspection:{case_id}:{n}", EntryRequest(
                _today(), tuple(lines), source="supervision.inspection",
                memo=f"inspection case {case_id}: {c.outcome}"))
            entry_id = res.entry_id
            conn.execute(update(inspection).where(inspection.c.case_id == case_id).values(
                ledger_entry_id=entry_id))
        kind, rid = ("person", c.person_id) if c.subject_type == "person" else \
            ("employer", c.employer_id)
        outbox.enqueue(conn, recipient_type=kind, recipient_id=rid, region=c.region,
                       template="supervision.decision",
                       data={"case_id": case_id, **{k: v for k, v in dec.items()
                                                    if not k.endswith("_fen")},
                             "appeal": "行政复议 60 days / 行政诉讼 6 months"},
                       key=f"inspection:{case_id}:{n}:decided")
        if d.alert_id:
            conn.execute(update(monitor_alert).where(monitor_alert.c.id == d.alert_id).values(
                status="closed", closed_by=checker.id, close_reason=f"case {case_id}: {c.outcome}"))
        out = {"case_id": case_id, "outcome": c.outcome, "ledger_entry_id": entry_id,
               "decision": dec}
        if c.outcome == "recover":
            out["recovery_id"] = rid
        return out


def reject(db, checker: Actor, case_id: int, reason: str) -> None:
    with transaction(db) as conn:
        _detail(conn, case_id)
        cases.reject_decision(conn, checker, case_id, reason=reason)


def appeal(db, actor: Actor, case_id: int, reason: str) -> None:
    """An appeal or review upheld: the case is reopened (the earlier decision and its entry
    stay; a new decision posts its own, a reversal is a decision of its own)."""
    with transaction(db) as conn:
        _detail(conn, case_id)
        cases.reopen(conn, actor, case_id, reason)


def get(db, actor: Actor, case_id: int) -> dict:
    from shebao.cases import access
    c = access.access_case(db, actor, case_id, "inspection")
    with transaction(db) as conn:
        d = dict(_detail(conn, case_id)._mapping)
        return {"case": dataclasses.asdict(c), "inspection": d,
                "events": case_queries.events(conn, case_id),
                "documents": case_queries.documents(conn, case_id)}


def list_cases(db, actor: Actor, *, status: str | None = None, limit: int = 100) -> list[dict]:
    """Inspection and blacklist cases in the actor's scope, oldest due first (audited list)."""
    from shebao.security import audit
    policy.require(actor, "supervision.alert.read")
    with transaction(db) as conn:
        rows = [dataclasses.asdict(c) for c in case_queries.list_cases(
            conn, region=actor.scope, item_prefix="supervision.", status=status, limit=limit)
            if policy.in_region(actor, c.region)]
        audit.record(conn, actor, "supervision.case.list", "case", None,
                     detail={"ids": [r["id"] for r in rows]})
    return rows
