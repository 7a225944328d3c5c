"""How other packages and the channels read mobility's tables: plain functions, plain data.

``transfer`` is the unchecked read for services and tests; channels use :mod:`.access`
(scope check, audited) or the scoped lists here (``transfers_of``, ``work_queue``), which
check the actor themselves.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import and_, func, select

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.core.regions import within
from shebao.db.uow import reading, transaction
from shebao.security import audit, policy

from .tables import (certification_event, certification_run, certification_state,
                     mobility_transfer, mobility_transfer_step)


def _date(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _steps(conn, tid: int) -> list[dict]:
    rows = conn.execute(select(mobility_transfer_step).where(
        mobility_transfer_step.c.transfer_id == tid).order_by(mobility_transfer_step.c.id))
    out = []
    for r in rows.mappings():
        d = dict(r)
        for k in ("started_on", "due_on", "done_on"):
            d[k] = _date(d[k])
        out.append(d)
    return out


def _plain(r) -> dict:
    d = dict(r)
    d["temporary"] = bool(d["temporary"])
    d["applied_on"] = _date(d["applied_on"])
    d["sheet"] = json.loads(d["sheet"]) if d.get("sheet") else None
    return d


def transfer(db, tid: int) -> dict | None:
    """One transfer with its steps (unchecked: for services, tests and :mod:`.access`)."""
    with reading(db) as conn:
        r = conn.execute(select(mobility_transfer).where(mobility_transfer.c.id == tid)
                         ).mappings().first()
        if r is None:
            return None
        out = _plain(r)
        out["steps"] = _steps(conn, tid)
        return out


def transfers_of(db, actor: Actor, person_id: int) -> list[dict]:
    """A person's transfers, newest first: the citizen themself, or staff of either end."""
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied(f"{actor.id} may not see the transfers of person {person_id}")
    if actor.role not in ("citizen", "system"):
        policy.require(actor, "mobility.transfer.read")
    with reading(db) as conn:
        rows = conn.execute(select(mobility_transfer).where(
            mobility_transfer.c.person_id == person_id).order_by(mobility_transfer.c.id.desc())
        ).mappings().all()
        out = []
        for r in rows:
            if actor.role not in ("citizen", "system") and not (
                    policy.in_region(actor, r["from_region"])
                    or policy.in_region(actor, r["to_region"])):
                continue
            d = _plain(r)
            d["steps"] = _steps(conn, r["id"])
            out.append(d)
        return out


def work_queue(db, actor: Actor, *, limit: int = 100) -> list[dict]:
    """The open steps a clerk's region must act on (both ends: letters and records at the new
    place, transfers out at the old), soonest due first, with the overdue flag."""
    policy.require(actor, "mobility.transfer.work")
    today = dt.date.today()
    with transaction(db) as conn:
        q = select(mobility_transfer_step, mobility_transfer.c.kind,
                   mobility_transfer.c.person_id, mobility_transfer.c.from_region,
                   mobility_transfer.c.to_region, mobility_transfer.c.status,
                   mobility_transfer.c.approval_id).join(
            mobility_transfer, mobility_transfer.c.id == mobility_transfer_step.c.transfer_id
        ).where(mobility_transfer_step.c.done_on.is_(None)).order_by(
            mobility_transfer_step.c.due_on, mobility_transfer_step.c.id)
        out = []
        for r in conn.execute(q).mappings():
            if actor.role != "system" and not within(r["region"], actor.scope or ""):
                continue
            d = dict(r)
            d["due_on"] = _date(d["due_on"])
            d["started_on"] = _date(d["started_on"])
            d["overdue"] = d["due_on"] < today
            out.append(d)
            if len(out) >= limit:
                break
        if actor.role != "system":
            audit.record_listed(conn, actor, "mobility.transfer.list",
                                [d["person_id"] for d in out], fields=["person_id", "regions"],
                                purpose="transfer work queue")
        return out


def overdue_steps(db, on: dt.date, region: str | None = None) -> list[dict]:
    """Open steps past their due date (for supervision and monitoring)."""
    with reading(db) as conn:
        conds = [mobility_transfer_step.c.done_on.is_(None),
                 mobility_transfer_step.c.due_on < on]
        rows = conn.execute(select(mobility_transfer_step).where(and_(*conds))).mappings().all()
    return [dict(r) for r in rows if region is None or within(r["region"], region)]


# --- certification ---------------------------------------------------------------------------
def certification(db, person_id: int) -> dict | None:
    """A pensioner's certification state and history (unchecked; channels use access)."""
    with reading(db) as conn:
        r = conn.execute(select(certification_state).where(
            certification_state.c.person_id == person_id)).mappings().first()
        if r is None:
            return None
        d = {k: _date(v) if k.endswith(("_on", "_from", "_month", "_date")) else v
             for k, v in dict(r).items()}
        d["events"] = [
            {**dict(e), "on_date": _date(e["on_date"])} for e in conn.execute(
                select(certification_event).where(
                    certification_event.c.person_id == person_id).order_by(
                    certification_event.c.id)).mappings()]
        return d


def certification_counts(db, region: str) -> dict[str, int]:
    with reading(db) as conn:
        rows = conn.execute(select(certification_state.c.state, func.count()).where(
            certification_state.c.region == region).group_by(certification_state.c.state)).all()
    return {s: int(n) for s, n in rows}


def certification_runs(db, region: str, limit: int = 24) -> list[dict]:
    with reading(db) as conn:
        rows = conn.execute(select(certification_run).where(
            certification_run.c.region == region).order_by(
            certification_run.c.month.desc()).limit(limit)).mappings().all()
    return [{**dict(r), "month": _date(r["month"])} for r in rows]
