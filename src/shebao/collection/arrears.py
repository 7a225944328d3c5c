"""Arrears: unpaid bills, the daily late fee, and employers referred to supervision.

A bill is in arrears on ``as_of`` when something is outstanding and its due date
(``collection.payment_due_day`` of the following month) has passed. Employers' arrears accrue
the late fee of ``collection.late_fee_rate`` per day (社会保险法 第八十六条: 用人单位) until
paid: every fen still owed accrues from the day after the due date up to ``as_of``, every fen
paid late accrues up to the day the bank booked it; the sum of fen × days of a payer is
multiplied by the rate and rounded once with ``round_half_up``. An employer who paid late owes
the fee even with nothing outstanding. Flexible workers' and residents' unpaid bills are listed
without a fee.
Employers whose outstanding + fee reach ``collection.arrears_supervision_amount`` (or a
``--threshold`` given), or with a bill overdue ``collection.arrears_supervision_days`` or more,
are flagged for the supervision bureau (``arrears_flag``, one row per region × as_of × employer).

The fee is computed, listed and flagged; it is not yet billed or posted (no late-fee bill and
no ``late_fee_income`` entry): see the report of issue 5.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.money import fen_to_yuan_str, rate_ratio, to_fen
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .bulk import date_days, day_number


@dataclass
class Arrears:
    region: str
    as_of: dt.date
    payers: list[dict] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    threshold_fen: int = 0
    threshold_days: int = 0
    rate: str = ""

    def as_dict(self) -> dict:
        return {"region": self.region, "as_of": self.as_of.isoformat(), "daily_rate": self.rate,
                "threshold": fen_to_yuan_str(self.threshold_fen),
                "threshold_days": self.threshold_days, "payers": self.payers,
                "flagged_for_supervision": self.flagged}


def arrears(engine, actor: Actor, region: str, as_of: dt.date, *,
            threshold_fen: int | None = None, flag: bool = True) -> Arrears:
    rules = load_rules()
    rate = rules.lookup("collection.late_fee_rate", region, as_of)
    num, den = rate_ratio(rate.value)
    amount = threshold_fen if threshold_fen is not None else to_fen(
        rules.value("collection.arrears_supervision_amount", region, as_of))
    days_limit = int(rules.value("collection.arrears_supervision_days", region, as_of))
    out = Arrears(region, as_of, threshold_fen=amount, threshold_days=days_limit,
                  rate=str(rate.value))
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT payer_type, payer_id, total_fen - paid_fen, due_date FROM bill "
            "WHERE region = :r AND total_fen > paid_fen AND due_date < :d ORDER BY id"),
            {"r": region, "d": as_of}).all()
        late = conn.execute(text(
            "SELECT b.payer_type, b.payer_id, a.amount_fen, r.booked_on, b.due_date "
            "FROM receipt_alloc a JOIN receipt r ON r.id = a.receipt_id "
            "JOIN bill b ON b.id = a.bill_id WHERE b.region = :r AND b.payer_type = 'E' "
            "AND r.booked_on > b.due_date AND r.booked_on <= :d"),
            {"r": region, "d": as_of}).all()
        if rows or late:
            n = len(rows)
            ptype = np.array([r[0] for r in rows] + [r[0] for r in late], dtype="U1")
            payer = np.array([r[1] for r in rows] + [r[1] for r in late], dtype=np.int64)
            owed = np.array([r[2] for r in rows] + [0] * len(late), dtype=np.int64)
            days = np.concatenate([
                day_number(as_of) - date_days([r[3] for r in rows]) if rows
                else np.zeros(0, np.int64),
                date_days([r[3] for r in late]) - date_days([r[4] for r in late]) if late
                else np.zeros(0, np.int64)])
            # fen × days on which the fee accrues: what is still owed, up to as_of; what was
            # paid late, up to the day it was paid (the fee accrues until paid)
            amount_days = np.concatenate([owed[:n], np.array([r[2] for r in late],
                                                             dtype=np.int64)]) * days
            amount_days = np.where(ptype == "E", amount_days, 0)
            key = np.char.add(ptype, payer.astype(str))
            uk, first, inv = np.unique(key, return_index=True, return_inverse=True)
            inv = inv.reshape(-1)
            tot_owed = np.zeros(len(uk), np.int64)
            np.add.at(tot_owed, inv, owed)
            tot_ad = np.zeros(len(uk), np.int64)
            np.add.at(tot_ad, inv, amount_days)
            tot_fee = model.late_fee(tot_ad, np.ones(len(uk), np.int64), num, den)
            max_days = np.zeros(len(uk), np.int64)
            np.maximum.at(max_days, inv[:n], days[:n])
            nbills = np.bincount(inv[:n], minlength=len(uk))
            order = np.argsort(-(tot_owed + tot_fee), kind="stable")
            for i in order.tolist():
                if tot_owed[i] == 0 and tot_fee[i] == 0:
                    continue
                t, pid = str(ptype[first[i]]), int(payer[first[i]])
                rec = {"payer_type": model.PAYER_TYPES[t], "payer_id": pid,
                       "bills": int(nbills[i]), "outstanding": fen_to_yuan_str(int(tot_owed[i])),
                       "late_fee": fen_to_yuan_str(int(tot_fee[i])),
                       "days": int(max_days[i]),
                       "outstanding_fen": int(tot_owed[i]), "late_fee_fen": int(tot_fee[i])}
                if t == "E" and (tot_owed[i] + tot_fee[i] >= amount or max_days[i] >= days_limit):
                    why = []
                    if tot_owed[i] + tot_fee[i] >= amount:
                        why.append(f"owes {fen_to_yuan_str(int(tot_owed[i] + tot_fee[i]))} ≥ "
                                   f"{fen_to_yuan_str(amount)}")
                    if max_days[i] >= days_limit:
                        why.append(f"{int(max_days[i])} days overdue ≥ {days_limit}")
                    rec["flag"] = "; ".join(why)
                    out.flagged.append(rec)
                out.payers.append(rec)
        if flag and out.flagged:
            conn.execute(text("DELETE FROM arrears_flag WHERE region = :r AND as_of = :d"),
                         {"r": region, "d": as_of})
            now = dt.datetime.now(dt.timezone.utc)
            conn.execute(text(
                "INSERT INTO arrears_flag (region, as_of, employer_id, bills, outstanding_fen, "
                "late_fee_fen, max_days, reason, actor, at) VALUES (:r, :d, :e, :b, :o, :f, "
                ":m, :why, :a, :t)"),
                [{"r": region, "d": as_of, "e": f["payer_id"], "b": f["bills"],
                  "o": f["outstanding_fen"], "f": f["late_fee_fen"], "m": f["days"],
                  "why": f["flag"][:200], "a": actor.id, "t": now} for f in out.flagged])
        audit.record(conn, actor, "collection.arrears", "region", region,
                     detail={"as_of": as_of, "payers": len(out.payers),
                             "flagged": len(out.flagged), "rate": str(rate.value)})
    return out
