"""Benefits for the channels: pension cases and payroll runs listed in the actor's scope; the
work itself (compute, submit, approve, reject) is the benefits bureau's, whose services check
role, region and the maker-checker rule again."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shebao.benefits import determination as det
from shebao.benefits import payroll
from shebao.benefits.tables import payroll_run, pension_award, pension_case
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.registry.tables import person
from shebao.security import policy

CASE_STATUSES = ("open", "incomplete", "ineligible", "computed", "submitted", "approved",
                 "rejected")


def _staff(actor: Actor, permission: str) -> None:
    if not policy.is_staff(actor):
        raise PermissionDenied("pension cases are handled by staff")
    policy.require(actor, permission)


def _yuan(v):
    return fen_to_yuan_str(v) if v is not None else None


def cases(engine, actor: Actor, *, status: str | None, limit: int, after: int | None
          ) -> tuple[list[dict], int | None]:
    _staff(actor, "pension.read")
    if status is not None and status not in CASE_STATUSES:
        raise InputError(f"status must be one of {', '.join(CASE_STATUSES)}", field="status")
    q = (select(pension_case, person.c.citizen_id, person.c.name)
         .join(person, person.c.id == pension_case.c.person_id))
    if status:
        q = q.where(pension_case.c.status == status)
    if after is not None:
        q = q.where(pension_case.c.id < after)
    out = []
    with engine.connect() as conn:
        for r in conn.execute(q.order_by(pension_case.c.id.desc())).mappings():
            if not policy.in_region(actor, r["region"]):
                continue
            out.append(r)
            if len(out) > limit:
                break
    more = len(out) > limit
    out = out[:limit]
    if out:
        from shebao.security import audit
        with engine.begin() as conn:
            audit.record(conn, actor, "pension.case.list", "person", None,
                         fields=["citizen_id", "name"], purpose="pension case list",
                         detail={"persons": [r["person_id"] for r in out]})
    return ([{"id": r["id"], "person_id": r["person_id"],
              "citizen_id": mask_id(r["citizen_id"]), "name": mask_name(r["name"]),
              "region": r["region"], "status": r["status"], "claim": r["claim"],
              "retirement_date": str(r["retirement_date"])[:10] if r["retirement_date"] else None,
              "total": _yuan(r["total_fen"]), "opened_by": r["opened_by"],
              "decided_by": r["decided_by"]} for r in out],
            out[-1]["id"] if more and out else None)


def case(engine, actor: Actor, case_id: int, *, purpose: str | None = None) -> dict:
    if actor.role == "citizen":
        c = det.get_case(engine, actor, case_id, purpose=purpose or "my pension case")
    else:
        _staff(actor, "pension.read")
        c = det.get_case(engine, actor, case_id, purpose=purpose or "pension case review")
    from shebao.security import maker_checker as mc
    c["approval"] = None
    if c.get("approval_id"):
        with engine.connect() as conn:
            a = mc.get(conn, c["approval_id"])
        c["approval"] = {"maker": a.maker, "checker": a.checker, "status": a.status,
                         "reason": a.reason}
    return c


def case_json(c: dict) -> dict:
    keys = ("id", "person_id", "region", "status", "claim", "category", "opened_by",
            "decided_by", "reason", "basic", "account", "transitional", "total", "missing",
            "options", "approval")
    out = {k: c.get(k) for k in keys}
    out["retirement_date"] = str(c["retirement_date"])[:10] if c.get("retirement_date") else None
    return out


def open_case(engine, actor: Actor, person_id: int, region: str | None) -> int:
    from shebao.registry.access import check_person
    from shebao.registry.model import person_region
    _staff(actor, "pension.compute")
    with engine.connect() as conn:
        facts = check_person(conn, actor, person_id)
    region = region or person_region(facts)
    return det.open_case(engine, actor, person_id, region=region)


def runs(engine, actor: Actor, *, limit: int, after: int | None) -> tuple[list[dict], int | None]:
    _staff(actor, "payroll.read")
    q = select(payroll_run)
    if after is not None:
        q = q.where(payroll_run.c.id < after)
    out = []
    with engine.connect() as conn:
        for r in conn.execute(q.order_by(payroll_run.c.id.desc())).mappings():
            if policy.in_region(actor, r["region"]):
                out.append(r)
                if len(out) > limit:
                    break
    more = len(out) > limit
    out = out[:limit]
    from shebao.security import maker_checker as mc
    items = []
    with engine.connect() as conn:
        for r in out:
            a = mc.get(conn, r["approval_id"]) if r["approval_id"] else None
            m = r["month"]
            items.append({"id": r["id"], "region": r["region"],
                          "month": month_str(m) if isinstance(m, dt.date) else str(m)[:7],
                          "status": r["status"], "payments": r["n_payments"],
                          "total": _yuan(r["total_fen"]),
                          "individual_account_part": _yuan(r["account_part_fen"]),
                          "created_by": r["created_by"],
                          "maker": a.maker if a else None, "checker": a.checker if a else None})
    return items, (out[-1]["id"] if more and out else None)


def run_region(engine, run_id: int) -> str:
    with engine.connect() as conn:
        r = conn.execute(select(payroll_run.c.region).where(payroll_run.c.id == run_id)).first()
    if r is None:
        raise InputError(f"no payroll run {run_id}", field="run_id")
    return r.region


def submit_run(engine, actor: Actor, run_id: int) -> None:
    _staff(actor, "payroll.prepare")
    policy.require_region(actor, run_region(engine, run_id))
    payroll.submit(engine, actor, run_id)


def approve_run(engine, actor: Actor, run_id: int) -> None:
    _staff(actor, "payroll.approve")
    policy.require_region(actor, run_region(engine, run_id))
    payroll.approve(engine, actor, run_id)


def person_benefits(engine, actor: Actor, person_id: int) -> dict:
    """Pension cases and awards of a person (the caller has checked access to the person)."""
    with engine.connect() as conn:
        cs = conn.execute(select(pension_case).where(pension_case.c.person_id == person_id)
                          .order_by(pension_case.c.id)).mappings().all()
        aw = conn.execute(select(pension_award).where(pension_award.c.person_id == person_id)
                          .order_by(pension_award.c.id)).mappings().all()
    return {"cases": [{"id": c["id"], "status": c["status"], "region": c["region"],
                       "total": _yuan(c["total_fen"]),
                       "retirement_date": str(c["retirement_date"])[:10]
                       if c["retirement_date"] else None} for c in cs],
            "awards": [{"id": a["id"], "status": a["status"],
                        "start_month": str(a["start_month"])[:7],
                        "monthly": _yuan(a["monthly_fen"])} for a in aw]}
