"""Reads of the collection bureau's tables for other packages and for the channels.

The only way anything outside ``shebao.collection`` reads ``contribution``, ``bill``,
``bill_line`` and friends: plain functions returning plain data (tuples, dicts, dataclasses).
Functions taking an ``actor`` check it first (``collection.access``); the others are for
bureaus that have already decided the caller may see the persons they ask about.

Tables read: ``contribution`` (one row per run × person × payer × month; a correction run
stores differences, so a month's truth is the SUM over runs and its base that of the latest
run), ``bill`` / ``bill_line`` (one bill per payer × region × month, one line per scheme, with
what has been paid).
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
from sqlalchemy import and_, func, select, text

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_name
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.db.bulk import (fetch_int_matrix, fetch_ints_and_text, json_list, json_rows_sql,
                            stage)
from shebao.db.dialect import days_since_epoch
from shebao.db.uow import reading

from . import access, model
from .tables import bill

PENSION_SCHEME = "pension"


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else \
        dt.date.fromisoformat(str(v)[:10])


# --------------------------------------------------------------------------- for benefits

class ContributionMonth(NamedTuple):
    """One payer's pension assessment of a person in a month, with its bill's pension line.

    ``pension_fen``: the net pension assessed (all runs, all ``pension_*`` columns);
    ``base_fen``: the base of the latest run; ``bill_e2e_id`` / ``line_fen`` /
    ``line_paid_fen``: the payer's bill of the month and its pension line (None: no bill yet)."""

    person_id: int
    region: str
    month: dt.date
    pension_fen: int
    base_fen: int
    bill_e2e_id: str | None
    line_fen: int | None
    line_paid_fen: int | None


_PENSION_SUM = " + ".join(model.AMOUNT_COLUMNS[i] for i in model.scheme_columns(PENSION_SCHEME))

_RECORD_SQL = """
WITH ids AS (SELECT CAST(value AS BIGINT) AS id FROM {rows}),
g AS (
  SELECT person_id, region, month, payer_type, payer_id,
         SUM({pen}) AS pension_fen, MAX(run_id) AS last_run
  FROM contribution WHERE person_id IN (SELECT id FROM ids)
  GROUP BY person_id, region, month, payer_type, payer_id)
SELECT g.person_id, g.region, g.month, g.pension_fen, c.base_fen,
       b.e2e_id, bl.amount_fen, bl.paid_fen
FROM g
JOIN contribution c ON c.person_id = g.person_id AND c.region = g.region AND c.month = g.month
     AND c.payer_type = g.payer_type AND c.payer_id = g.payer_id AND c.run_id = g.last_run
LEFT JOIN bill b ON b.region = g.region AND b.month = g.month AND b.payer_type = g.payer_type
     AND b.payer_id = g.payer_id
LEFT JOIN bill_line bl ON bl.bill_id = b.id AND bl.scheme = :scheme
WHERE g.pension_fen <> 0
ORDER BY g.person_id, g.month, g.region, g.payer_type, g.payer_id
"""

RECORD_CHUNK = 1000


def contribution_record(conn, person_ids) -> list[ContributionMonth]:
    """The pension contributions collection assessed for ``person_ids``: one row per person ×
    month × region × payer with a non-zero net pension assessment, ordered by person, month,
    region. One query per chunk of persons. The caller decides what counts (benefits: a
    month counts when the pension line is paid in full)."""
    ids = sorted({int(p) for p in person_ids})
    out: list[ContributionMonth] = []
    sql = text(_RECORD_SQL.format(rows=json_rows_sql(conn), pen=_PENSION_SUM))
    for i in range(0, len(ids), RECORD_CHUNK):
        part = ids[i:i + RECORD_CHUNK]
        for r in conn.execute(sql, {"vals": json_list(part), "scheme": PENSION_SCHEME}):
            out.append(ContributionMonth(
                int(r[0]), r[1], _date(r[2]), int(r[3]), int(r[4]), r[5],
                None if r[6] is None else int(r[6]), None if r[7] is None else int(r[7])))
    return out


# the payer types in their text order (E < F < R), as integers a packed read can carry
_PAYER_CODE = "CASE {col} WHEN 'E' THEN 0 WHEN 'F' THEN 1 WHEN 'R' THEN 2 ELSE 9 END"

_ROWS_SQL = """
SELECT person_id, CAST(region AS BIGINT), {day}, {ptype}, payer_id, run_id, {pen}, base_fen
FROM contribution WHERE person_id IN (SELECT CAST(value AS BIGINT) FROM {rows})
"""

_BILLS_SQL = """
SELECT CAST(b.region AS BIGINT), {day}, {ptype}, b.payer_id, COALESCE(bl.amount_fen, -1),
       COALESCE(bl.paid_fen, -1), b.e2e_id
FROM tmp_record_bills k JOIN bill b ON b.region = k.region AND b.month = k.month
     AND b.payer_type = k.payer_type AND b.payer_id = k.payer_id
LEFT JOIN bill_line bl ON bl.bill_id = b.id AND bl.scheme = :scheme
"""
_PAYER_TYPE = np.array(["E", "F", "R"])


def _payer_month_keys(a: np.ndarray) -> np.ndarray:
    """One int64 per (region, day, payer type, payer id) row of ``a``: the (region, month)
    pairs ranked (a few), then the type and the payer id beside the rank."""
    if len(a) and a[:, 3].max() >= 1 << 40:
        raise ValueError("a payer id beyond 2**40: widen the key")
    _, rank = np.unique(a[:, 0] * (1 << 20) + a[:, 1], return_inverse=True)
    return (rank.reshape(-1).astype(np.int64) << 44) + (a[:, 2] << 40) + a[:, 3]


def contribution_record_columns(conn, person_ids) -> tuple[dict, list[str]]:
    """``contribution_record`` in columns, for many persons at once: person_id, region (int
    of the code), day (days since 1970 of the month), pension_fen, base_fen (of the latest
    run), line_fen and line_paid_fen (−1: no bill or no pension line), ordered like
    ``contribution_record``; and each row's bill end-to-end id ('' without a bill).

    Two plain reads — the persons' contribution rows by index, then the bills of the distinct
    payer × months they name (staged) — grouped and joined with numpy: no GROUP BY, no join
    back for the latest run's base, one bill look-up per payer-month, not per person-month."""
    ids = json_list(sorted({int(p) for p in person_ids}))
    rows = json_rows_sql(conn)
    r = fetch_int_matrix(conn, _ROWS_SQL.format(
        day=days_since_epoch(conn, "month"), ptype=_PAYER_CODE.format(col="payer_type"),
        pen=_PENSION_SUM, rows=rows), {"vals": ids}, 8)
    if (r[:, 3] == 9).any():
        raise ValueError("a contribution row with a payer type other than E, F or R")
    if not len(r):
        z = np.zeros(0, np.int64)
        return {k: z for k in ("person_id", "region", "day", "pension_fen", "base_fen",
                               "line_fen", "line_paid_fen")}, []
    # one group per person × region × month × payer; its latest run's base
    r = r[np.lexsort((r[:, 5], r[:, 4], r[:, 3], r[:, 1], r[:, 2], r[:, 0]))]
    new = np.ones(len(r), bool)
    new[1:] = (r[1:, [0, 1, 2, 3, 4]] != r[:-1, [0, 1, 2, 3, 4]]).any(axis=1)
    starts = np.flatnonzero(new)
    last = np.append(starts[1:], len(r)) - 1
    pension = np.add.reduceat(r[:, 6], starts)
    g = r[starts]
    keep = pension != 0
    g, pension, base = g[keep], pension[keep], r[last, 7][keep]
    # the bills of the distinct payer-months, staged (a few per employer and month)
    _, first = np.unique(_payer_month_keys(g[:, [1, 2, 3, 4]]), return_index=True)
    k = g[first][:, [1, 2, 3, 4]]
    stage(conn, "tmp_record_bills", [("region", "S"), ("month", "date"), ("payer_type", "S"),
                                     ("payer_id", "i8")],
          {"region": np.char.zfill(k[:, 0].astype(str), 6), "month": k[:, 1],
           "payer_type": _PAYER_TYPE[k[:, 2]], "payer_id": k[:, 3]})
    m, e2e = fetch_ints_and_text(conn, _BILLS_SQL.format(
        day=days_since_epoch(conn, "b.month"), ptype=_PAYER_CODE.format(col="b.payer_type")),
        {"scheme": PENSION_SCHEME}, 6)
    line = np.full(len(g), -1, np.int64)
    paid = np.full(len(g), -1, np.int64)
    bill_e2e = [""] * len(g)
    if len(m) and len(g):
        # a group's bill: the same (region, month, payer type, payer id)
        key = _payer_month_keys(np.vstack([g[:, [1, 2, 3, 4]], m[:, [0, 1, 2, 3]]]))
        gk, bk = key[:len(g)], key[len(g):]
        order = np.argsort(bk)
        pos = np.clip(np.searchsorted(bk[order], gk), 0, len(bk) - 1)
        hit = np.where(bk[order][pos] == gk, order[pos], -1)
        has = hit >= 0
        line[has], paid[has] = m[hit[has], 4], m[hit[has], 5]
        bill_e2e = [e2e[h] if h >= 0 else "" for h in hit.tolist()]
    cols = {"person_id": g[:, 0], "region": g[:, 1], "day": g[:, 2], "pension_fen": pension,
            "base_fen": base, "line_fen": line, "line_paid_fen": paid}
    return cols, bill_e2e


# --------------------------------------------------------------------------- for channels

_EE = " + ".join(f"SUM({c})" for c in model.AMOUNT_COLUMNS if "_ee_" in c)
_IND = " + ".join(f"SUM({c})" for c in model.AMOUNT_COLUMNS if c.endswith("_ind"))
# one round trip: the months' sums, and the base of each month's latest row joined to them
_CONTRIBUTIONS = text(
    f"SELECT g.month, g.region, g.total, g.own, g.indiv, c.base_fen FROM ("
    f"SELECT month, region, SUM(total_fen) AS total, {_EE} AS own, {_IND} AS indiv, "
    f"MAX(id) AS last FROM contribution WHERE person_id = :p GROUP BY month, region) g "
    f"JOIN contribution c ON c.id = g.last ORDER BY g.month DESC LIMIT :n")


def contributions_of(engine, person_id: int, limit: int = 120) -> list[dict]:
    """A person's contribution record by month (newest first): the sum over assessment runs
    (a correction run stores differences), the person's own share, the base of the latest run.
    The caller has checked access to the person and audits the view it is part of."""
    with reading(engine) as conn:
        rows = conn.execute(_CONTRIBUTIONS, {"p": person_id, "n": limit}).all()
    out = []
    for month, region, total, own, indiv, base in rows:
        out.append({"month": month_str(_date(month)), "region": region,
                    "base": fen_to_yuan_str(int(base or 0)),
                    "total": fen_to_yuan_str(int(total or 0)),
                    "employee": fen_to_yuan_str(int(own or 0)),
                    "employer": fen_to_yuan_str(int(total or 0) - int(own or 0)),
                    "individual_account": fen_to_yuan_str(int(indiv or 0))})
    return out


def _bill_brief(r) -> dict:
    return {"id": r["id"], "e2e_id": r["e2e_id"], "region": r["region"],
            "month": month_str(_date(r["month"])),
            "total": fen_to_yuan_str(r["total_fen"]), "paid": fen_to_yuan_str(r["paid_fen"]),
            "outstanding": fen_to_yuan_str(max(r["total_fen"] - r["paid_fen"], 0)),
            "status": r["status"], "due_date": str(r["due_date"])[:10]}


def bills_of_employer(engine, actor: Actor, employer_id: int, *, limit: int,
                      after: int | None) -> tuple[list[dict], int | None]:
    """An employer's bills, newest first (keyset page: ids below ``after``). Staff need what a
    single bill needs (``collection.read`` in scope), not just the right to see the employer."""
    with engine.connect() as conn:
        region = access.require_employer(conn, actor, employer_id)
        if actor.role != "employer":
            access.require_region(actor, region)
        q = select(bill).where(and_(bill.c.payer_type == "E", bill.c.payer_id == employer_id))
        if after is not None:
            q = q.where(bill.c.id < after)
        rows = conn.execute(q.order_by(bill.c.id.desc()).limit(limit + 1)).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_bill_brief(r) for r in rows], (rows[-1]["id"] if more and rows else None)


def bill_detail(engine, actor: Actor, bill_id: int) -> dict:
    """One bill with its lines and persons (names masked), for whoever may see it."""
    from .bills import get_bill

    with engine.connect() as conn:
        r = conn.execute(select(bill.c.region, bill.c.payer_type, bill.c.payer_id)
                         .where(bill.c.id == bill_id)).first()
    if r is None:
        raise InputError(f"no bill {bill_id}", field="bill_id")
    access.require_bill(actor, r.region, r.payer_type, r.payer_id)
    out = get_bill(engine, actor, bill_id=bill_id)
    for p in out["persons"]:
        p["name"] = mask_name(p["name"])
    return out


def latest_month(engine, region: str) -> dt.date | None:
    """The latest month with bills in ``region`` (None: none yet)."""
    with engine.connect() as conn:
        m = conn.execute(select(func.max(bill.c.month)).where(bill.c.region == region)).scalar()
    return None if m is None else _date(m)


def dashboard(engine, actor: Actor, region: str, month: dt.date) -> dict:
    """Assessed, billed, collected, reconciled and arrears for a region × month."""
    from .arrears import arrears
    from .reconcile import reconcile

    access.require_region(actor, region)
    rec = reconcile(engine, actor, region, month)
    as_of = dt.date.today()
    arr = arrears(engine, actor, region, as_of, flag=False)
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


# Derived tables and reads for the supervision bureau (monitoring rules, arrears enforcement).
def declared_wages_sql() -> str:
    """``(person_id, employer_id, region, year, wage_fen, base_fen)``: employees' declarations
    in force (not superseded)."""
    return ("SELECT person_id, employer_id, region, year, wage_fen, base_fen "
            "FROM base_declaration WHERE kind = 'employee' AND superseded_by IS NULL")


def arrears_flags_sql() -> str:
    """``(employer_id, region, as_of, bills, outstanding_fen, late_fee_fen, max_days, reason)``:
    the employers of the latest arrears list of each region (``collect arrears``)."""
    return ("SELECT f.employer_id, f.region, f.as_of, f.bills, f.outstanding_fen, "
            "f.late_fee_fen, f.max_days, f.reason FROM arrears_flag f WHERE f.as_of = "
            "(SELECT MAX(g.as_of) FROM arrears_flag g WHERE g.region = f.region)")


def arrears_list(conn, region_like: str = "%") -> list[dict]:
    """The latest arrears list of each region whose code matches the LIKE pattern
    ``region_like``: one dict per flagged employer, largest debt first."""
    rows = conn.execute(text(f"SELECT * FROM ({arrears_flags_sql()}) a WHERE a.region LIKE :r "
                             "ORDER BY a.outstanding_fen + a.late_fee_fen DESC, a.employer_id"),
                        {"r": region_like}).mappings().all()
    return [{**dict(r), "as_of": _date(r["as_of"])} for r in rows]
