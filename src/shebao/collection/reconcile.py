"""Reconciliation of a region × month: receivable vs collected vs posted.

Per scheme × payer type (employer / flexible / resident), from four independent records:

* ``assessed``  the assessment (SUM over all runs of ``contribution``);
* ``billed``    the bill lines;
* ``collected`` the receipts applied to those bills (``receipt_alloc``), and what the bills
  say was paid (``bill_line.paid_fen``);
* ``posted``    the ledger: receivables debited by the assessment entries and credited by
  the bank entries (``source`` collection.assess / collection.bank, effective in the month), and
  the funds (pooled + individual accounts) credited by the assessment.

Late fees of the month's bills (``late_fee_charge``, see ``latefee``): charged vs posted —
the ledger's ``late_fee_income`` credited and ``receivable_employer`` debited by the entries of
source ``collection.late_fee`` effective in the month (all schemes of the region).

Every check that does not hold is listed as a difference; ``ok`` is False when there is one.
The ledger keeps employer receivables per employer kind only (``receivable_employer``) and
individuals' together (``receivable_individual``), so flexible and resident rows are compared
with the ledger together.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import month_str
from shebao.db import dialect
from shebao.ledger.queries import posted_by_source
from shebao.security import audit

from . import model
from .latefee import SOURCE as LATE_FEE_SOURCE


@dataclass
class Reconciliation:
    region: str
    month: dt.date
    rows: list[dict] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)
    late_fees: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict:
        def y(d):
            return {k: fen_to_yuan_str(v) if isinstance(v, int) and k not in ("scheme",) else v
                    for k, v in d.items()}
        return {"region": self.region, "month": month_str(self.month), "ok": self.ok,
                "rows": [y(r) for r in self.rows], "late_fees": {k: v if k == "charges" else fen_to_yuan_str(v)
                              for k, v in self.late_fees.items()},
                "differences": [y(d) for d in self.differences]}


def _by(conn, sql, p) -> dict:
    return {(r[0], r[1]): int(r[2] or 0) for r in conn.execute(text(sql), p).all()}


def reconcile(engine, actor: Actor, region: str, month: dt.date) -> Reconciliation:
    month = month.replace(day=1)
    p = {"r": region, "m": month}
    res = Reconciliation(region, month)
    with engine.begin() as conn, dialect.for_short_queries(conn):
        # per scheme × payer type: the sum of the scheme's amount columns (employer and
        # employee side, pooled and individual account)
        per_scheme = [(sch, [c for c in model.AMOUNT_COLUMNS if c.startswith(sch + "_")])
                      for sch in model.COLLECTED_SCHEMES]
        per_scheme = [(sch, cols) for sch, cols in per_scheme if cols]
        sums = conn.execute(text(
            "SELECT payer_type, " + ", ".join(f"SUM({' + '.join(cols)})"
                                              for _, cols in per_scheme)
            + " FROM contribution WHERE region = :r AND month = :m GROUP BY payer_type"),
            p).all()
        assessed, funds = {}, {}
        for row in sums:
            for i, (sch, _) in enumerate(per_scheme):
                v = int(row[1 + i] or 0)
                assessed[(sch, row[0])] = assessed.get((sch, row[0]), 0) + v
                funds[sch] = funds.get(sch, 0) + v
        billed, paid = {}, {}
        for sch, ptype, b_sum, p_sum in conn.execute(text(
                "SELECT l.scheme, b.payer_type, SUM(l.amount_fen), SUM(l.paid_fen) "
                "FROM bill_line l JOIN bill b ON b.id = l.bill_id "
                "WHERE b.region = :r AND b.month = :m GROUP BY l.scheme, b.payer_type"), p):
            billed[(sch, ptype)] = int(b_sum or 0)
            paid[(sch, ptype)] = int(p_sum or 0)
        collected = _by(conn, "SELECT scheme, payer_type, SUM(amount_fen) FROM receipt_alloc "
                              "WHERE region = :r AND month = :m GROUP BY scheme, payer_type", p)
        ledger = posted_by_source(conn, region, month, (
            "collection.assess", "collection.bank", LATE_FEE_SOURCE))
        lf_charged, lf_charges = conn.execute(text(
            "SELECT COALESCE(SUM(fen), 0), COUNT(*) FROM late_fee_charge "
            "WHERE region = :r AND month = :m"), p).one()
        lf: dict[str, int] = {}
        for (_, kind, source), v in ledger.items():
            if source == LATE_FEE_SOURCE:
                lf[kind] = lf.get(kind, 0) + v
        audit.record(conn, actor, "collection.reconcile", "region", region,
                     detail={"month": month_str(month)})
    schemes = [s for s in model.COLLECTED_SCHEMES if any(k[0] == s for k in
                                                 list(assessed) + list(billed) + list(collected))]
    diffs = res.differences
    for s in schemes:
        for t, tname in model.PAYER_TYPES.items():
            a, b = assessed.get((s, t), 0), billed.get((s, t), 0)
            c, pd = collected.get((s, t), 0), paid.get((s, t), 0)
            if not (a or b or c or pd):
                continue
            res.rows.append({"scheme": s, "payer": tname, "assessed": a, "billed": b,
                             "collected": c, "outstanding": b - pd})
            if a != b:
                diffs.append({"scheme": s, "payer": tname, "check": "assessed = billed",
                              "left": a, "right": b, "difference": a - b})
            if c != pd:
                diffs.append({"scheme": s, "payer": tname, "check": "receipts = paid on bills",
                              "left": c, "right": pd, "difference": c - pd})
        for kind, types, name in (("receivable_employer", ("E",), "employer"),
                                  ("receivable_individual", ("F", "R"), "individual")):
            a = sum(assessed.get((s, t), 0) for t in types)
            c = sum(collected.get((s, t), 0) for t in types)
            la = ledger.get((s, kind, "collection.assess"), 0)
            lc = -ledger.get((s, kind, "collection.bank"), 0)
            if a != la:
                diffs.append({"scheme": s, "payer": name, "check": f"assessed = ledger {kind} "
                              "debited", "left": a, "right": la, "difference": a - la})
            if c != lc:
                diffs.append({"scheme": s, "payer": name, "check": f"collected = ledger {kind} "
                              "credited", "left": c, "right": lc, "difference": c - lc})
        credited = -(ledger.get((s, "pooled_fund", "collection.assess"), 0)
                     + ledger.get((s, "individual", "collection.assess"), 0))
        if funds.get(s, 0) != credited:
            diffs.append({"scheme": s, "payer": "all", "check": "assessed = funds credited "
                          "(pooled + individual accounts)", "left": funds.get(s, 0),
                          "right": credited, "difference": funds.get(s, 0) - credited})
    charged = int(lf_charged or 0)
    income = -int(lf.get("late_fee_income") or 0)
    receivable = int(lf.get("receivable_employer") or 0)
    res.late_fees = {"charges": int(lf_charges or 0), "charged": charged,
                     "posted_income": income, "posted_receivable": receivable}
    if charged != income:
        diffs.append({"scheme": "late_fee", "payer": "employer", "check": "late fees charged = "
                      "ledger late_fee_income credited", "left": charged, "right": income,
                      "difference": charged - income})
    if charged != receivable:
        diffs.append({"scheme": "late_fee", "payer": "employer", "check": "late fees charged = "
                      "ledger receivable_employer debited (collection.late_fee)",
                      "left": charged, "right": receivable, "difference": charged - receivable})
    for kind, v in lf.items():
        if kind not in ("late_fee_income", "receivable_employer") and int(v or 0):
            diffs.append({"scheme": "late_fee", "payer": "employer", "check": f"late-fee entries "
                          f"touch only receivable_employer and late_fee_income (not {kind})",
                          "left": int(v), "right": 0, "difference": int(v)})
    return res
