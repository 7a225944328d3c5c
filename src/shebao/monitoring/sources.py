"""What the monitoring platform reads from the bureaus, set-based: the insured and the
pensioners of a region subtree as integer arrays (through the registry's and benefits' derived
tables, one packed read each), the fund's ledger figures over a window (ledger.queries)."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import text

from shebao.benefits import queries as benefits_q
from shebao.benefits.model import region_prefix
from shebao.collection import queries as collection_q
from shebao.core.regions import NATIONAL
from shebao.db.bulk import fetch_int_matrix
from shebao.db.dialect import days_since_epoch
from shebao.ledger import queries as ledger_q
from shebao.ledger.model import account_code
from shebao.registry import queries as registry_q


def like(region: str) -> str:
    return "%" if region == NATIONAL else region_prefix(region)


def _birth_years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def insured(conn, region: str, on: dt.date, scheme: str = "pension") -> dict:
    """Contributors (an active employee or flexible enrolment in ``scheme`` on ``on``) and
    pensioners (an active award) of the subtree: arrays female, birth_year, pensioner,
    pension_fen, base_fen (the declared base in force, 0 if none)."""
    bd = days_since_epoch(conn, "pr.birth_date")
    contrib = fetch_int_matrix(conn, (
        f"SELECT CASE WHEN pr.sex = 'F' THEN 1 ELSE 0 END, {bd}, COALESCE(w.base_fen, 0) "
        f"FROM ({registry_q.enrolments_sql()}) e JOIN ({registry_q.persons_sql()}) pr "
        "ON pr.person_id = e.person_id "
        f"LEFT JOIN ({collection_q.declared_wages_sql()}) w ON w.person_id = e.person_id "
        "AND w.employer_id = e.employer_id "
        "WHERE e.scheme = :scheme AND e.status = 'active' AND e.kind IN ('employee', 'flexible') "
        "AND e.start_date <= :on AND e.region LIKE :r AND pr.birth_date IS NOT NULL "
        "AND pr.status = 'active'"), {"scheme": scheme, "on": on, "r": like(region)}, 3)
    pens = fetch_int_matrix(conn, (
        f"SELECT CASE WHEN pr.sex = 'F' THEN 1 ELSE 0 END, {bd}, a.monthly_fen "
        f"FROM ({benefits_q.awards_sql()}) a JOIN ({registry_q.persons_sql()}) pr "
        "ON pr.person_id = a.person_id WHERE a.status = 'active' AND a.region LIKE :r "
        "AND pr.birth_date IS NOT NULL"), {"r": like(region)}, 3)
    n, m = len(contrib), len(pens)
    return {"female": np.concatenate([contrib[:, 0], pens[:, 0]]),
            "birth_year": _birth_years(np.concatenate([contrib[:, 1], pens[:, 1]])),
            "pensioner": np.concatenate([np.zeros(n, bool), np.ones(m, bool)]),
            "pension_fen": np.concatenate([np.zeros(n, np.int64), pens[:, 2]]),
            "base_fen": np.concatenate([contrib[:, 2], np.zeros(m, np.int64)])}


def counts(conn, region: str, on: dt.date, scheme: str) -> tuple[int, int]:
    """(contributors, pensioners) of the subtree (pensioners: employee pension awards)."""
    c = conn.execute(text(
        f"SELECT COUNT(DISTINCT e.person_id) FROM ({registry_q.enrolments_sql()}) e "
        "WHERE e.scheme = :scheme AND e.status = 'active' AND e.kind IN ('employee', 'flexible') "
        "AND e.start_date <= :on AND e.region LIKE :r"),
        {"scheme": scheme, "on": on, "r": like(region)}).scalar_one()
    p = conn.execute(text(
        f"SELECT COUNT(*) FROM ({benefits_q.awards_sql()}) a WHERE a.status = 'active' "
        "AND a.region LIKE :r"), {"r": like(region)}).scalar_one() if scheme == "pension" else 0
    return int(c), int(p)


def fund_figures(conn, region: str, scheme: str, start: dt.date, end: dt.date) -> dict:
    """The fund of ``region`` × ``scheme`` from the ledger: balance at ``end`` (pooled fund plus
    fiscal subsidies received); income (credits of the pooled fund), subsidy (credits of
    ``fiscal_subsidy``) and expenditure (debits of the pooled fund) in [start, end); assessed
    (debits), collected (credits) and outstanding (balance) of the receivables."""
    codes = {k: account_code(region, scheme, k) for k in
             ("pooled_fund", "fiscal_subsidy", "receivable_employer", "receivable_individual")}
    ids = ledger_q.account_ids(conn, codes.values())
    kind_of = {ids[c]: k for k, c in codes.items() if c in ids}
    out = {"balance_fen": 0, "income_fen": 0, "subsidy_fen": 0, "expenditure_fen": 0,
           "assessed_fen": 0,
           "collected_fen": 0, "outstanding_fen": 0, "accounts": len(kind_of)}
    if not kind_of:
        return out
    before = ledger_q.sums_before(conn, kind_of, end)
    for acc, total in before.items():
        if kind_of[acc] in ("pooled_fund", "fiscal_subsidy"):
            out["balance_fen"] += -total                 # credit-normal
        else:
            out["outstanding_fen"] += total
    for acc, _, amount in ledger_q.postings_between(conn, kind_of, start, end):
        if kind_of[acc] == "pooled_fund":
            out["income_fen" if amount < 0 else "expenditure_fen"] += abs(amount)
        elif kind_of[acc] == "fiscal_subsidy":
            out["subsidy_fen"] += -amount
        else:
            out["assessed_fen" if amount > 0 else "collected_fen"] += abs(amount)
    return out
