"""Employee medical individual account credits (国办发〔2021〕14号; rules.md §3).

In service: the account receives only the employee's own premium — that is collection's
assessment (``contribution.schemes``: medical employee → individual; flexible workers
``contribution.flexible.medical_account_rate``). Retirees pay nothing; their account receives a
fixed amount from the pooled fund each month (``medical.account.retiree_monthly_credit``):
``credit_retirees`` books it set-based for every pensioner of a region with an award in payment
in the month (benefits' derived table ``awards_sql``), once per region × month (the ledger key):

    Dr pooled_fund (medical)   Cr individual (medical, per retiree)
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from shebao.benefits import queries as benefits_queries
from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.core.money import to_fen
from shebao.core.regions import check_region
from shebao.db.bulk import fetch_int_matrix
from shebao.db.uow import transaction
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, BatchEntry, Line, account_code
from shebao.rules.loader import load_rules
from shebao.security import audit, policy


def credit_retirees(bind, actor: Actor, region: str, month: dt.date) -> dict:
    check_region(region)
    policy.require(actor, "medical.settle")
    if not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope")
    m = month.replace(day=1)
    res = load_rules().lookup("medical.account.retiree_monthly_credit", region, m)
    fen = to_fen(Decimal(res.value))
    with transaction(bind) as conn:
        ids = fetch_int_matrix(conn, (
            f"SELECT DISTINCT a.person_id FROM ({benefits_queries.awards_sql()}) a "
            "WHERE a.region = :r AND a.status = 'active' AND a.start_month <= :m "
            "AND (a.stop_month IS NULL OR a.stop_month > :m)"), {"r": region, "m": m}, 1)
        pids = np.unique(ids[:, 0]) if len(ids) else np.zeros(0, np.int64)
        out = {"region": region, "month": m.isoformat(), "retirees": int(len(pids)),
               "credited_fen": int(fen * len(pids))}
        if len(pids) and fen:
            ledger.open_chart(conn, actor, region, ("medical",))
            entry = BatchEntry(region, "medical", m, (Line.debit(
                account_code(region, "medical", "pooled_fund"), fen * len(pids)),), pids,
                np.full(len(pids), -fen, np.int64), source="medical.account",
                memo=f"retiree account credit {m:%Y-%m}")
            ledger.post_batch(conn, actor, f"medical-retiree-credit:{region}:{m:%Y-%m}",
                              Batch([entry]), open_missing=True)
        audit.record(conn, actor, "medical.account.credit_retirees", "region", region,
                     detail=out | {"parameter": res.as_json()})
    return out


__all__ = ["credit_retirees"]
