"""Reads of the benefits bureau for the channels: pension cases and payroll runs in the actor's
scope, a case with its decision, a person's cases and awards. Each read checks access first
(:mod:`.access`); lists filter the region scope in SQL and page by id (newest first)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_id, mask_name
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.registry import queries as registry_queries
from shebao.security import audit, maker_checker as mc, policy

from . import access
from .model import CASE_STATUSES
from .tables import payroll_run, pension_award, pension_case


def _yuan(v):
    return fen_to_yuan_str(v) if v is not None else None


def _page(conn, actor: Actor, table, conds: list, limit: int, after: int | None) -> list:
    """Up to ``limit + 1`` rows of ``table`` in the actor's region scope, newest first. The SQL
    prefix filter bounds the scan; the policy decides exactly."""
    cond = access.region_filter(actor, table.c.region)
    if cond is not None:
        conds = [*conds, cond]
    if after is not None:
        conds = [*conds, table.c.id < after]
    out = []
    while True:
        q = select(table).where(*conds).order_by(table.c.id.desc()).limit(limit + 1)
        rows = conn.execute(q).mappings().all()
        out += [r for r in rows if policy.in_region(actor, r["region"])]
        if len(out) > limit or len(rows) <= limit:
            return out[:limit + 1]
        conds = [*conds, table.c.id < rows[-1]["id"]]


def cases(engine, actor: Actor, *, status: str | None, limit: int, after: int | None
          ) -> tuple[list[dict], int | None]:
    """Pension cases in the actor's scope (masked names; one audit row per
    listed person)."""
    access.require_staff(actor, "pension.read")
    if status is not None and status not in CASE_STATUSES:
        raise InputError(f"status must be one of {', '.join(CASE_STATUSES)}", field="status")
    with engine.begin() as conn:
        out = _page(conn, actor, pension_case,
                    [pension_case.c.status == status] if status else [], limit, after)
        more = len(out) > limit
        out = out[:limit]
        who = registry_queries.identities(conn, [r["person_id"] for r in out])
        if out:
            audit.record_listed(conn, actor, "pension.case.list",
                                [r["person_id"] for r in out], fields=["citizen_id", "name"],
                                purpose="pension case list")
    return ([{"id": r["id"], "person_id": r["person_id"],
              "citizen_id": mask_id(who[r["person_id"]]["citizen_id"]),
              "name": mask_name(who[r["person_id"]]["name"]),
              "region": r["region"], "status": r["status"], "claim": r["claim"],
              "retirement_date": str(r["retirement_date"])[:10] if r["retirement_date"] else None,
              "total": _yuan(r["total_fen"]), "opened_by": r["opened_by"],
              "decided_by": r["decided_by"]} for r in out],
            out[-1]["id"] if more and out else None)


def case(engine, actor: Actor, case_id: int, *, purpose: str | None = None) -> dict:
    """One case with its decision, amounts in yuan, the contribution record in words and the
    approval (audited read)."""
    from .determination import get_case

    if actor.role != "citizen":
        access.require_staff(actor, "pension.read")
    c = get_case(engine, actor, case_id, purpose=purpose or (
        "my pension case" if actor.role == "citizen" else "pension case review"))
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


def _run_json(conn, r) -> dict:
    a = mc.get(conn, r["approval_id"]) if r["approval_id"] else None
    m = r["month"]
    return {"id": r["id"], "region": r["region"],
            "month": month_str(m) if isinstance(m, dt.date) else str(m)[:7],
            "status": r["status"], "payments": r["n_payments"],
            "total": _yuan(r["total_fen"]),
            "individual_account_part": _yuan(r["account_part_fen"]),
            "created_by": r["created_by"],
            "maker": a.maker if a else None, "checker": a.checker if a else None}


def runs(engine, actor: Actor, *, limit: int, after: int | None) -> tuple[list[dict], int | None]:
    """Payroll runs in the actor's scope, newest first."""
    access.require_staff(actor, "payroll.read")
    with engine.connect() as conn:
        out = _page(conn, actor, payroll_run, [], limit, after)
        more = len(out) > limit
        out = out[:limit]
        items = [_run_json(conn, r) for r in out]
    return items, (out[-1]["id"] if more and out else None)


def run(engine, actor: Actor, run_id: int) -> dict:
    """One payroll run (as in :func:`runs`); a run outside the scope is refused as unknown."""
    access.require_staff(actor, "payroll.read")
    with engine.connect() as conn:
        r = conn.execute(select(payroll_run).where(payroll_run.c.id == run_id)).mappings().first()
        if r is None or not policy.in_region(actor, r["region"]):
            raise InputError(f"no payroll run {run_id}", field="run_id")
        return _run_json(conn, r)


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


def case_ids_of_person(conn, person_id: int) -> list[int]:
    """The ids of a person's pension cases (for the person's access record)."""
    return list(conn.execute(select(pension_case.c.id).where(
        pension_case.c.person_id == person_id).order_by(pension_case.c.id)).scalars())


# Derived tables for the supervision bureau's set-based monitoring rules (``supervision``):
# ``FROM ({payments_sql()}) pay JOIN …``. Benefits writes every line of SQL about its tables.
def payments_sql() -> str:
    """``(payment_id, person_id, award_id, region, month, amount_fen, status)`` of every live
    pension payment (computed, sent or paid; returned and cancelled ones are not money out)."""
    return ("SELECT id AS payment_id, person_id, award_id, region, month, amount_fen, status "
            "FROM payment WHERE status IN ('computed', 'sent', 'paid')")


def awards_sql() -> str:
    """``(award_id, person_id, region, monthly_fen, status, start_month, stop_month)``."""
    return ("SELECT id AS award_id, person_id, region, monthly_fen, status, start_month, "
            "stop_month FROM pension_award")


def payments_of(bind, person_id: int, limit: int = 60) -> list[dict]:
    """A person's payments, newest first: pensions and benefit award lines (the caller has
    checked access; the bank account is masked to its last four digits)."""
    from shebao.db.uow import reading

    from .tables import payment
    with reading(bind) as conn:
        rows = conn.execute(select(payment.c.id, payment.c.month, payment.c.scheme,
                                   payment.c.amount_fen, payment.c.status,
                                   payment.c.bank_account, payment.c.line_id).where(
            payment.c.person_id == person_id, payment.c.payee_type == "person")
            .order_by(payment.c.month.desc(), payment.c.id.desc()).limit(limit)).all()
    return [{"id": r.id, "month": str(r.month)[:7], "scheme": r.scheme,
             "amount": _yuan(r.amount_fen), "status": r.status,
             "account": ("****" + r.bank_account[-4:]) if r.bank_account else None,
             "kind": "pension" if not r.line_id else "award"} for r in rows]


def benefit_lines_sql() -> str:
    """``(award_id, award_kind, person_id, region, scheme, kind, start_month, end_month,
    amount_fen, payee_type)``: the active lines of the active casework awards (award_kind
    unemployment, injury, maternity, …; ``end_month`` exclusive, NULL = open), for the
    supervision bureau's rules."""
    return ("SELECT l.award_id, a.kind AS award_kind, l.person_id, l.region, l.scheme, l.kind, "
            "l.start_month, l.end_month, l.amount_fen, l.payee_type FROM benefit_award_line l "
            "JOIN benefit_award a ON a.id = l.award_id WHERE l.status = 'active' "
            "AND a.status = 'active'")


def case_of_award(conn, award_id: int) -> int:
    """The pension case an award was decided in (read by mobility's back pay, #15)."""
    return int(conn.execute(select(pension_award.c.case_id).where(
        pension_award.c.id == award_id)).scalar_one())
