"""Collection for the channels: scope checks around the collection bureau's services, the
month dashboard's figures and the employer's bills."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select

from shebao.registry import access
from shebao.collection import arrears as arrears_mod
from shebao.collection import reconcile as reconcile_mod
from shebao.collection import service as coll
from shebao.collection.tables import bill
from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.registry import service as reg
from shebao.security import policy


def check_region(actor: Actor, region: str | None, permission: str = "collection.read") -> str:
    policy.require(actor, permission)
    if not region or not regions.is_region_code(region) or region == regions.NATIONAL:
        raise InputError("a six-digit region code", field="region")
    if not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope {actor.scope}")
    return region


def declare(engine, actor: Actor, employer_id: int, citizen_id: str, year: int,
            wage_fen: int) -> dict:
    """A wage declaration for one employee (the employer itself, or a clerk in scope)."""
    policy.require(actor, "declaration.write")
    with engine.connect() as conn:
        access.check_employer(conn, actor, employer_id)
        pid = reg.resolve_person_id(conn, citizen_id)
    if pid is None:
        raise InputError("no registered person with this citizen ID", field="citizen_id")
    return coll.declare_wage(engine, actor, person_id=pid, employer_id=employer_id, year=year,
                             wage_fen=wage_fen, source="web").as_dict()


def bills_of_employer(engine, actor: Actor, employer_id: int, *, limit: int,
                      after: int | None) -> tuple[list[dict], int | None]:
    with engine.connect() as conn:
        access.check_employer(conn, actor, employer_id)
        q = select(bill).where(and_(bill.c.payer_type == "E", bill.c.payer_id == employer_id))
        if after is not None:
            q = q.where(bill.c.id < after)
        rows = conn.execute(q.order_by(bill.c.id.desc()).limit(limit + 1)).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_bill_brief(r) for r in rows], (rows[-1]["id"] if more and rows else None)


def _bill_brief(r) -> dict:
    m = r["month"]
    return {"id": r["id"], "e2e_id": r["e2e_id"], "region": r["region"],
            "month": month_str(m) if isinstance(m, dt.date) else str(m)[:7],
            "total": fen_to_yuan_str(r["total_fen"]), "paid": fen_to_yuan_str(r["paid_fen"]),
            "outstanding": fen_to_yuan_str(max(r["total_fen"] - r["paid_fen"], 0)),
            "status": r["status"], "due_date": str(r["due_date"])[:10]}


def bill_detail(engine, actor: Actor, bill_id: int) -> dict:
    with engine.connect() as conn:
        r = conn.execute(select(bill.c.region, bill.c.payer_type, bill.c.payer_id)
                         .where(bill.c.id == bill_id)).first()
    if r is None:
        raise InputError(f"no bill {bill_id}", field="bill_id")
    if actor.role == "employer":
        if not (r.payer_type == "E" and r.payer_id == actor.employer_id):
            raise PermissionDenied("an employer may see only its own bills")
    elif actor.role == "citizen":
        if not (r.payer_type != "E" and r.payer_id == actor.person_id):
            raise PermissionDenied("a citizen may see only their own bills")
    else:
        check_region(actor, r.region)
    from shebao.core.ids import mask_name
    out = coll.get_bill(engine, actor, bill_id=bill_id)
    for p in out["persons"]:
        p["name"] = mask_name(p["name"])
    return out


def latest_month(engine, region: str) -> dt.date | None:
    with engine.connect() as conn:
        m = conn.execute(select(func.max(bill.c.month)).where(bill.c.region == region)).scalar()
    if isinstance(m, str):
        m = dt.date.fromisoformat(m[:10])
    return m


def dashboard(engine, actor: Actor, region: str, month: dt.date) -> dict:
    """Assessed, billed, collected, reconciled and arrears for a region × month."""
    check_region(actor, region)
    rec = reconcile_mod.reconcile(engine, actor, region, month)
    as_of = dt.date.today()
    arr = arrears_mod.arrears(engine, actor, region, as_of, flag=False)
    totals = {k: sum(int(r[k]) for r in rec.rows)
              for k in ("assessed", "billed", "collected", "outstanding")}
    by_scheme: dict[str, dict] = {}
    for r in rec.rows:
        s = by_scheme.setdefault(r["scheme"], {"assessed": 0, "billed": 0, "collected": 0})
        for k in s:
            s[k] += int(r[k])
    return {"region": region, "month": month_str(month), "ok": rec.ok,
            "totals": {k: fen_to_yuan_str(v) for k, v in totals.items()},
            "totals_fen": totals, "by_scheme": by_scheme,
            "differences": rec.as_dict()["differences"],
            "arrears": {"as_of": as_of.isoformat(), "payers": len(arr.payers),
                        "flagged": len(arr.flagged),
                        "outstanding": fen_to_yuan_str(sum(p["outstanding_fen"]
                                                           for p in arr.payers)),
                        "late_fee": fen_to_yuan_str(sum(p["late_fee_fen"] for p in arr.payers)),
                        "top": [{k: p[k] for k in ("payer_type", "payer_id", "bills",
                                                   "outstanding", "late_fee", "days")}
                                | {"flag": p.get("flag")} for p in arr.payers[:20]]}}


def chart_svg(by_scheme: dict[str, dict], labels: dict[str, str]) -> str:
    """Grouped bars per scheme (assessed / billed / collected), as an SVG string."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    have = {f.name for f in font_manager.fontManager.ttflist}
    fam = [f for f in ("WenQuanYi Micro Hei", "Noto Sans CJK SC") if f in have] + ["DejaVu Sans"]
    schemes = list(by_scheme)
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.add_subplot()
    width = 0.27
    for i, (k, color) in enumerate((("assessed", "#5b6773"), ("billed", "#d9822b"),
                                    ("collected", "#1b7a3d"))):
        vals = [by_scheme[s][k] / 100 for s in schemes]
        ax.bar([x + (i - 1) * width for x in range(len(schemes))], vals, width,
               label=labels.get(k, k), color=color)
    ax.set_xticks(range(len(schemes)), [labels.get(s, s) for s in schemes], fontfamily=fam)
    ax.legend(prop={"family": fam})
    ax.set_ylabel("¥", fontfamily=fam)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def contributions_of(engine, person_id: int, limit: int = 120) -> list[dict]:
    """A person's contribution record by month (newest first): the sum over assessment runs
    (a correction run stores differences), the person's own share, the base of the latest run.
    The caller has checked access to the person and audits the view it is part of."""
    from sqlalchemy import text

    from shebao.collection.model import AMOUNT_COLUMNS
    ee = " + ".join(f"SUM({c})" for c in AMOUNT_COLUMNS if "_ee_" in c)
    ind = " + ".join(f"SUM({c})" for c in AMOUNT_COLUMNS if c.endswith("_ind"))
    with engine.connect() as conn:
        rows = conn.execute(text(
            f"SELECT month, region, SUM(total_fen), {ee}, {ind}, MAX(id) FROM contribution "
            f"WHERE person_id = :p GROUP BY month, region ORDER BY month DESC LIMIT :n"),
            {"p": person_id, "n": limit}).all()
        bases = dict(conn.execute(text(
            "SELECT id, base_fen FROM contribution WHERE id IN (SELECT MAX(id) FROM "
            "contribution WHERE person_id = :p GROUP BY month, region)"), {"p": person_id}).all())
    out = []
    for month, region, total, own, indiv, last in rows:
        m = month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month)[:10])
        out.append({"month": month_str(m), "region": region,
                    "base": fen_to_yuan_str(bases.get(last, 0)),
                    "total": fen_to_yuan_str(int(total or 0)),
                    "employee": fen_to_yuan_str(int(own or 0)),
                    "employer": fen_to_yuan_str(int(total or 0) - int(own or 0)),
                    "individual_account": fen_to_yuan_str(int(indiv or 0))})
    return out
