"""Annual indexation of pensions in payment, as its own audited run.

    run_indexation(db, actor, region, effective_from) -> IndexationResult

The rate is the dated parameter ``pension.indexation`` in force for the region on
``effective_from`` (its legal reference is stored on the run). Every active award of the region
that started on or before that date gets ``monthly × (1 + rate)`` rounded once (the
individual-account part is unchanged: the increase is paid by the pooled fund); the new amount
is a new ``pension_award_amount`` row effective from that date, so a payroll month before it
still pays the old amount. One run per region and date (a repeat returns the first run).
Arrears for months already paid at the old amount are not computed here (see the report).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, bindparam, insert, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, RuleError
from shebao.core.money import fen_to_yuan_str
from shebao.db.uow import transaction
from shebao.rules import load_rules
from shebao.security import audit, policy

from shebao.rules.formulas import benefits as F
from .tables import indexation_run, pension_award, pension_award_amount


@dataclass
class IndexationResult:
    run_id: int
    region: str
    effective_from: dt.date
    rate: str
    n_awards: int
    increase_fen: int
    replayed: bool = False


def run_indexation(db, actor: Actor, region: str, effective_from: dt.date) -> IndexationResult:
    if actor.role != "system":
        policy.require(actor, "pension.compute")
        policy.require_region(actor, region)
    try:
        r = load_rules().lookup("pension.indexation", region, effective_from)
    except RuleError as exc:
        raise InputError(f"no indexation rate in force: {exc}", field="effective_from") from None
    if r.effective_from != effective_from:
        raise InputError(f"the rate in force on {effective_from} starts on {r.effective_from}; "
                         f"run the indexation on that date", field="effective_from")
    with transaction(db) as conn:
        prior = conn.execute(select(indexation_run).where(and_(
            indexation_run.c.region == region,
            indexation_run.c.effective_from == effective_from))).mappings().first()
        if prior:
            return IndexationResult(prior["id"], region, effective_from, prior["rate"],
                                    prior["n_awards"], prior["increase_fen"], replayed=True)
        rows = conn.execute(select(pension_award.c.id, pension_award.c.monthly_fen,
                                   pension_award.c.account_part_fen,
                                   pension_award.c.amount_from).where(and_(
            pension_award.c.region == region, pension_award.c.status == "active",
            pension_award.c.start_month <= effective_from)).order_by(pension_award.c.id)).all()
        late = [x.id for x in rows if _d(x.amount_from) > effective_from]
        if late:
            raise ConflictError(f"awards {late[:10]} already have an amount from after "
                                f"{effective_from}; indexations must run in date order")
        ids = np.array([x.id for x in rows], dtype=np.int64)
        old = np.array([x.monthly_fen for x in rows], dtype=np.int64)
        new = F.indexed_amount_fen(old, r.value) if len(rows) else old
        t = dt.datetime.now(dt.timezone.utc)
        rid = conn.execute(insert(indexation_run).values(
            region=region, effective_from=effective_from, rate=str(r.value),
            reference=r.reference, n_awards=len(rows), increase_fen=int((new - old).sum()),
            run_by=actor.id, run_at=t).returning(indexation_run.c.id)).scalar_one()
        if len(rows):
            conn.execute(insert(pension_award_amount), [dict(
                award_id=int(a), effective_from=effective_from, monthly_fen=int(n),
                account_part_fen=int(x.account_part_fen), source=f"indexation:{rid}",
                recorded_at=t) for a, n, x in zip(ids, new, rows)])
            conn.execute(update(pension_award).where(pension_award.c.id == bindparam("aid"))
                         .values(monthly_fen=bindparam("m"), amount_from=bindparam("d")),
                         [{"aid": int(a), "m": int(n), "d": effective_from}
                          for a, n in zip(ids, new)])
        audit.record(conn, actor, "pension.indexation", "indexation_run", rid,
                     detail={"region": region, "effective_from": effective_from,
                             "rate": str(r.value), "reference": r.reference,
                             "parameter": r.as_json(), "awards": len(rows),
                             "increase": fen_to_yuan_str(int((new - old).sum()))})
        return IndexationResult(rid, region, effective_from, str(r.value), len(rows),
                                int((new - old).sum()))


def _d(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])
