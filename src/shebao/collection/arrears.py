"""Arrears: unpaid bills, the daily late fee, and employers referred to supervision.

A bill is in arrears on ``as_of`` when something is outstanding and its due date
(``collection.payment_due_day`` of the following month) has passed. Employers' arrears accrue
the late fee of ``collection.late_fee_rate`` per day (社会保险法 第八十六条: 用人单位) until
paid: every fen still owed accrues from the day after the due date up to ``as_of``, every fen
paid late accrues up to the day the bank booked it; the sum of fen × days of a payer is
multiplied by the rate and rounded once per bill with ``round_half_up`` (``latefee.accrue``,
the one calculation, also used to charge the fee). An employer who paid late owes the fee even
with nothing outstanding. Flexible workers' and residents' unpaid bills are listed without a
fee. Each payer shows the fee accrued, what of it has been charged (``late_fee_charge``) and
what is accrued but not yet charged.
Employers whose outstanding + fee reach ``collection.arrears_supervision_amount`` (or a
``--threshold`` given), or with a bill overdue ``collection.arrears_supervision_days`` or more,
are flagged for the supervision bureau (``arrears_flag``, one row per region × as_of × employer).
The same run (not the read-only view) reminds every payer with something outstanding through
the notice outbox (``arrears.notice``), at most once per payer and month.

The fee is charged (billed and posted to ``late_fee_income``) by ``latefee``: when a bank
receipt settles a bill late, and by the run ``shebao collect late-fees``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.core.regions import check_region
from shebao.notices import bulk
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .latefee import accrue

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


def _reminders(region: str, as_of: dt.date, payers: list[dict]) -> list[dict]:
    """One ``arrears.notice`` per payer with something outstanding (an employer, or the
    flexible worker or resident themself), at most one per payer and month of ``as_of``."""
    out = []
    for p in payers:
        if p["outstanding_fen"] <= 0:
            continue
        rtype = "employer" if p["payer_type"] == "employer" else "person"
        out.append({"recipient_type": rtype, "recipient_id": p["payer_id"], "region": region,
                    "template": "arrears.notice",
                    "data": {"amount_fen": p["outstanding_fen"], "bills": p["bills"],
                             "late_fee_fen": p["late_fee_fen"],
                             "as_of_date": as_of.isoformat()},
                    "key": f"arrears:{region}:{rtype}:{p['payer_id']}:{as_of:%Y-%m}"})
    return out


def arrears(engine, actor: Actor, region: str, as_of: dt.date, *,
            threshold_fen: int | None = None, flag: bool = True) -> Arrears:
    check_region(region)
    rules = load_rules()
    rate = rules.lookup("collection.late_fee_rate", region, as_of)
    amount = threshold_fen if threshold_fen is not None else to_fen(
        rules.value("collection.arrears_supervision_amount", region, as_of))
    days_limit = int(rules.value("collection.arrears_supervision_days", region, as_of))
    out = Arrears(region, as_of, threshold_fen=amount, threshold_days=days_limit,
                  rate=str(rate.value))
    with engine.begin() as conn:
        # the one accrual calculation (latefee.accrue): per bill, rounded once per bill
        acc = accrue(conn, region, as_of, "overdue", {"d": as_of})
        if len(acc):
            ptype, payer = acc.ptype, acc.payer
            overdue = acc.owed > 0
            owed = acc.owed
            key = np.char.add(ptype, payer.astype(str))
            uk, first, inv = np.unique(key, return_index=True, return_inverse=True)
            inv = inv.reshape(-1)

            def per_payer(values):
                s = np.zeros(len(uk), np.int64)
                np.add.at(s, inv, values)
                return s
            tot_owed = per_payer(owed)
            tot_fee = per_payer(acc.fee)
            tot_charged = per_payer(acc.charged)
            max_days = np.zeros(len(uk), np.int64)
            np.maximum.at(max_days, inv, np.where(overdue, acc.days, 0))
            nbills = per_payer(overdue.astype(np.int64))
            order = np.argsort(-(tot_owed + tot_fee), kind="stable")
            for i in order.tolist():
                if tot_owed[i] == 0 and tot_fee[i] == 0 and tot_charged[i] == 0:
                    continue
                t, pid = str(ptype[first[i]]), int(payer[first[i]])
                uncharged = max(int(tot_fee[i] - tot_charged[i]), 0)
                rec = {"payer_type": model.PAYER_TYPES[t], "payer_id": pid,
                       "bills": int(nbills[i]), "outstanding": fen_to_yuan_str(int(tot_owed[i])),
                       "late_fee": fen_to_yuan_str(int(tot_fee[i])),
                       "late_fee_charged": fen_to_yuan_str(int(tot_charged[i])),
                       "late_fee_not_charged": fen_to_yuan_str(uncharged),
                       "days": int(max_days[i]),
                       "outstanding_fen": int(tot_owed[i]), "late_fee_fen": int(tot_fee[i]),
                       "late_fee_charged_fen": int(tot_charged[i]),
                       "late_fee_not_charged_fen": uncharged}
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
        told = 0
        if flag:
            told = bulk.enqueue_rows(conn, _reminders(region, as_of, out.payers))
        audit.record(conn, actor, "collection.arrears", "region", region,
                     detail={"as_of": as_of, "payers": len(out.payers),
                             "flagged": len(out.flagged), "rate": str(rate.value),
                             "notices": told})
    return out
