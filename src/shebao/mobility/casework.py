"""A transfer's cases in the shared case model (``shebao.cases``): one at each end.

The new place's case (``model.ITEM_IN``) opens with the application; the old place's
(``model.ITEM_OUT``) opens when the contact letter reaches it (for a medical transfer, with the
application), opened by the platform (``SYSTEM``) since the letter is an inter-agency message,
its parent the new place's case. Each end decides and closes its case when its last step is
done (or refused). The case service writes its events, audit rows and the ``case.received`` /
``case.decided`` notices to the person; the transfer's own steps carry the per-step limits.
"""
from __future__ import annotations

import datetime as dt

from shebao.cases import queries as case_queries
from shebao.cases import service as cases
from shebao.core.actor import SYSTEM, Actor

from . import model


def open_in(conn, actor: Actor, t: dict, channel: str, on: dt.date) -> int:
    ch = "online" if actor.role == "citizen" else channel
    return cases.open_case(conn, actor, item=model.ITEM_IN[t["kind"]], region=t["to_region"],
                           subject_type="person", subject_id=t["person_id"],
                           person_id=t["person_id"], channel=ch, opened_on=on,
                           detail={"transfer": t["id"], "side": "in", "from": t["from_region"]})


def open_out(conn, t: dict, on: dt.date) -> int:
    return cases.open_case(conn, SYSTEM, item=model.ITEM_OUT[t["kind"]], region=t["from_region"],
                           subject_type="person", subject_id=t["person_id"],
                           person_id=t["person_id"], channel="system", opened_on=on,
                           parent_id=t["case_in_id"],
                           detail={"transfer": t["id"], "side": "out", "to": t["to_region"]})


def finish(conn, actor: Actor, case_id: int | None, outcome: str, detail: dict | None = None,
           reason: str | None = None) -> None:
    """Decide and close one end's case."""
    if case_id is None:
        return
    cases.decide(conn, actor, case_id, outcome=outcome, detail=detail, reason=reason)
    cases.close(conn, actor, case_id)


def withdraw(conn, actor: Actor, case_ids, reason: str) -> None:
    for cid in case_ids:
        if cid is not None and case_queries.get(conn, cid).status in (
                "received", "in_progress", "awaiting_documents"):
            cases.withdraw(conn, actor, cid, reason)
