"""Arrears enforcement (欠费追缴): the collection bureau's arrears list becomes casework.

``open_from_arrears(db, actor, region)`` reads the latest arrears list of the region subtree
(``collection.queries.arrears_list`` — the list ``shebao collect arrears`` writes) and opens one
``supervision.arrears_enforcement`` case per flagged employer and list date (unique), so a
second call opens nothing new. Then, per case (stages: :data:`model.ARREARS`):

- ``notice``       the order to pay (责令限期缴纳, 社会保险法 第六十三条/第八十六条) with the
                   deadline ``supervision.arrears.pay_within_days`` after today; the employer is
                   told through the outbox;
- ``escalate``     the deadline passed and the employer is still on the arrears list;
- ``instalments``  an agreement: instalments that sum exactly to the debt;
- ``enforce``      written to the enforcement list (申请人民法院强制执行 / 划拨): :func:`enforcement_list`;
- ``settle``       paid: the case is decided and closed.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import and_, insert, select, update

from shebao.cases import service as cases
from shebao.collection import queries as collection_queries
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError
from shebao.core.money import fen_to_yuan_str
from shebao.core.regions import NATIONAL, check_region
from shebao.db.uow import now, reading, transaction
from shebao.notices import outbox
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import model
from .monitor import scope_like
from .tables import arrears_case

ITEM = "supervision.arrears_enforcement"


def _today() -> dt.date:
    return now().date()


def open_from_arrears(db, actor: Actor, region: str = NATIONAL) -> list[int]:
    """Open a case for each employer on the latest arrears list not yet in a case; returns the
    new case ids."""
    policy.require(actor, "supervision.case.work")
    if region != NATIONAL:
        check_region(region)
    policy.require_region(actor, region)
    with transaction(db) as conn:
        flagged = collection_queries.arrears_list(conn, scope_like(region))
        have = {(int(r.employer_id), r.as_of if isinstance(r.as_of, dt.date) else
                 dt.date.fromisoformat(str(r.as_of)[:10]))
                for r in conn.execute(select(arrears_case.c.employer_id, arrears_case.c.as_of))}
        new = []
        for f in flagged:
            if (int(f["employer_id"]), f["as_of"]) in have:
                continue
            cid = cases.open_case(
                conn, actor, item=ITEM, region=f["region"], subject_type="employer",
                subject_id=f["employer_id"], employer_id=f["employer_id"], channel="system",
                detail={"as_of": f["as_of"].isoformat(), "bills": f["bills"],
                        "max_days": f["max_days"]})
            conn.execute(insert(arrears_case).values(
                case_id=cid, employer_id=f["employer_id"], region=f["region"], as_of=f["as_of"],
                outstanding_fen=f["outstanding_fen"], late_fee_fen=f["late_fee_fen"],
                stage="opened"))
            new.append(cid)
        audit.record(conn, actor, "supervision.arrears.open", "region", region,
                     detail={"opened": new, "flagged": len(flagged)})
    return new


def _load(conn, actor: Actor, case_id: int):
    r = conn.execute(select(arrears_case).where(arrears_case.c.case_id == case_id)).first()
    if r is None:
        raise InputError(f"case {case_id} is not an arrears case", field="case_id")
    policy.require(actor, "supervision.case.work")
    policy.require_region(actor, r.region)
    return r


def _stage(conn, r, action: str, **values) -> str:
    to = model.step(model.ARREARS, action, r.stage, "arrears case")
    res = conn.execute(update(arrears_case).where(
        arrears_case.c.case_id == r.case_id, arrears_case.c.stage == r.stage).values(
        stage=to, **values))
    if res.rowcount != 1:
        raise ConflictError(f"arrears case {r.case_id} changed concurrently; reload and retry")
    return to


def _tell(conn, r, what: str, data: dict) -> None:
    outbox.enqueue(conn, recipient_type="employer", recipient_id=r.employer_id, region=r.region,
                   template=f"supervision.arrears.{what}", data={"case_id": r.case_id, **data},
                   key=f"arrears:{r.case_id}:{what}")


def notice(db, actor: Actor, case_id: int) -> dict:
    with transaction(db) as conn:
        r = _load(conn, actor, case_id)
        on = _today()
        days = int(load_rules().value("supervision.arrears.pay_within_days", r.region, on))
        pay_by = on + dt.timedelta(days=days)
        _stage(conn, r, "notice", notice_on=on, pay_by=pay_by)
        cases.start(conn, actor, case_id)
        _tell(conn, r, "notice", {"pay_by": pay_by.isoformat(),
                                  "outstanding": fen_to_yuan_str(r.outstanding_fen),
                                  "late_fee": fen_to_yuan_str(r.late_fee_fen)})
        return {"case_id": case_id, "stage": "notice", "pay_by": pay_by.isoformat()}


def escalate(db, actor: Actor, case_id: int, on: dt.date | None = None) -> None:
    """After the deadline, if the employer is still on the latest arrears list."""
    with transaction(db) as conn:
        r = _load(conn, actor, case_id)
        on = on or _today()
        if r.pay_by is None or on <= r.pay_by:
            raise ConflictError(f"the deadline to pay is {r.pay_by}")
        still = {int(f["employer_id"]) for f in collection_queries.arrears_list(conn, r.region)}
        if int(r.employer_id) not in still:
            raise ConflictError("the employer is no longer on the arrears list: settle the case")
        _stage(conn, r, "escalate")
        cases.note(conn, actor, case_id, "escalated: deadline passed, still in arrears")


def agree_instalments(db, actor: Actor, case_id: int, plan: list[tuple[dt.date, int]]) -> None:
    with transaction(db) as conn:
        r = _load(conn, actor, case_id)
        model.check_instalments(plan, int(r.outstanding_fen) + int(r.late_fee_fen), _today())
        body = [{"due": d.isoformat(), "amount_fen": int(f)} for d, f in plan]
        _stage(conn, r, "instalments", instalments=json.dumps(body))
        cases.note(conn, actor, case_id, f"instalment agreement: {len(plan)} instalments",
                   detail={"instalments": body})
        _tell(conn, r, "instalments", {"instalments": body})


def enforce(db, actor: Actor, case_id: int) -> None:
    with transaction(db) as conn:
        r = _load(conn, actor, case_id)
        _stage(conn, r, "enforce", enforcement_on=_today())
        cases.note(conn, actor, case_id, "written to the enforcement list")
        _tell(conn, r, "enforcement", {})


def settle(db, actor: Actor, case_id: int, note: str = "paid") -> None:
    with transaction(db) as conn:
        r = _load(conn, actor, case_id)
        _stage(conn, r, "settle")
        cases.decide(conn, actor, case_id, outcome="paid", reason=note)
        cases.close(conn, actor, case_id)


def enforcement_list(db, actor: Actor) -> list[dict]:
    """Employers written to the enforcement list in the actor's scope."""
    policy.require(actor, "supervision.alert.read")
    with reading(db) as conn:
        return [dict(r._mapping) for r in conn.execute(select(arrears_case).where(and_(
            arrears_case.c.stage == "enforcement",
            arrears_case.c.region.like(scope_like(actor.scope)))).order_by(
            arrears_case.c.outstanding_fen.desc()))]


def list_cases(db, actor: Actor, *, stage: str | None = None, limit: int = 100) -> list[dict]:
    policy.require(actor, "supervision.alert.read")
    conds = [arrears_case.c.region.like(scope_like(actor.scope))]
    if stage:
        conds.append(arrears_case.c.stage == stage)
    with reading(db) as conn:
        return [dict(r._mapping) for r in conn.execute(select(arrears_case).where(
            and_(*conds)).order_by(arrears_case.c.case_id.desc()).limit(limit))]
