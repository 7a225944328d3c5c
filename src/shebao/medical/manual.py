"""Manual reimbursement claims (零星报销): care at a provider outside direct settlement, paid by
the person and claimed back within the statutory 30 working days (社会保险经办条例 art. 20;
service item ``medical.manual_claim``).

The claim is a ``shebao.cases`` case (due date from the item's limit on the region's
working-day calendar) plus a ``medical_claim`` row (channel ``manual``, status ``pending``)
holding the bill. A clerk proposes the decision, a second clerk checks it
(``duties.MEDICAL_MANUAL_CLAIM``); on ``granted`` the claim is settled at once by the same
arithmetic as direct settlement, the fund's share owed to the person; on ``refused`` it is
``rejected``.
"""
from __future__ import annotations

from sqlalchemy import select, update

from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.db.uow import transaction
from shebao.security import audit

from . import claims as claim_service
from . import settle as settlement
from .tables import medical_claim

ITEM = "medical.manual_claim"
OUTCOMES = ("granted", "refused")


def open_manual_claim(bind, actor: Actor, claim: dict, *, channel: str = "online") -> dict:
    """A person's claim with its bill (as ``claims.submit_claim``); returns case and claim."""
    pid = claim.get("person_id")
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise InputError("give the person", field="person_id")
    with transaction(bind) as conn:
        cid = claim_service.submit_claim(conn, _as_submitter(actor), claim, channel="manual")
        row = conn.execute(select(medical_claim.c.insured_region, medical_claim.c.total_fen)
                           .where(medical_claim.c.id == cid)).one()
        case_id = cases.open_case(conn, actor, item=ITEM, region=row.insured_region,
                                  subject_type="person", subject_id=pid, person_id=pid,
                                  channel=channel, detail={"claim_id": cid,
                                                           "total_fen": row.total_fen})
        conn.execute(update(medical_claim).where(medical_claim.c.id == cid).values(
            status="pending", case_id=case_id))
        audit.record(conn, actor, "medical.manual_claim.open", "person", pid,
                     detail={"case": case_id, "claim": cid})
    return {"case_id": case_id, "claim_id": cid}


def _as_submitter(actor: Actor) -> Actor:
    """The claim row is written on the person's behalf (a citizen holds no submit right)."""
    from shebao.core.actor import SYSTEM
    return SYSTEM if actor.role == "citizen" else actor


def _claim_of(conn, case_id: int) -> dict:
    row = conn.execute(select(medical_claim).where(
        medical_claim.c.case_id == case_id)).mappings().first()
    if row is None:
        raise InputError(f"case {case_id} is not a manual medical claim", field="case_id")
    return dict(row)


def propose(bind, maker: Actor, case_id: int, outcome: str, reason: str | None = None) -> int:
    """The first clerk's decision (granted / refused); returns the approval id."""
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    if outcome == "refused" and not reason:
        raise InputError("a refusal needs its reason", field="reason")
    with transaction(bind) as conn:
        c = _claim_of(conn, case_id)
        if c["status"] != "pending":
            raise ConflictError(f"claim {c['id']} is {c['status']}")
        aid = cases.submit_decision(conn, maker, case_id, outcome=outcome,
                                    detail={"claim_id": c["id"]}, reason=reason)
        audit.record(conn, maker, "medical.manual_claim.propose", "case", case_id,
                     detail={"outcome": outcome, "approval": aid})
    return aid


def approve(bind, checker: Actor, case_id: int) -> dict:
    """The second clerk's check: the decision takes effect; a granted claim is settled."""
    with transaction(bind) as conn:
        c = _claim_of(conn, case_id)
        case = cases.approve_decision(conn, checker, case_id)
        out = {"case_id": case_id, "claim_id": c["id"], "outcome": case.outcome}
        if case.outcome == "granted":
            conn.execute(update(medical_claim).where(medical_claim.c.id == c["id"]).values(
                status="submitted"))
            out["settlement"] = settlement.settle(conn, checker, c["insured_region"],
                                                  claim_id=c["id"])
        else:
            conn.execute(update(medical_claim).where(medical_claim.c.id == c["id"]).values(
                status="rejected"))
        audit.record(conn, checker, "medical.manual_claim.approve", "case", case_id,
                     detail={"outcome": case.outcome, "claim": c["id"]})
    return out


def reject(bind, checker: Actor, case_id: int, reason: str):
    """The checker sends the proposal back to the maker."""
    with transaction(bind) as conn:
        _claim_of(conn, case_id)
        out = cases.reject_decision(conn, checker, case_id, reason=reason)
        audit.record(conn, checker, "medical.manual_claim.send_back", "case", case_id,
                     detail={"reason": reason})
    return out


__all__ = ["open_manual_claim", "propose", "approve", "reject", "ITEM"]
