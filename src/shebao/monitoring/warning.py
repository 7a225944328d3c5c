"""Fund early warning per region and fund (rules-2 §6.4): payable months, current surplus
(with and without the fiscal subsidies booked on ``fiscal_subsidy``),
dependency ratio, collection rate and arrears rate, each against its band
(``monitoring.warning.<indicator>``) → level ok / watch / alert. ``compute`` stores one row
per region × fund × date × indicator (a rerun replaces them) and returns them; the levels
watch and alert are the platform's fund alerts (dashboard, ``shebao monitor warnings``).

The window is the twelve months up to ``as_of``: income and expenditure are the pooled fund's
credits and debits, assessed/collected/outstanding those of the receivables.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import and_, delete, insert, select

from shebao.core.actor import Actor
from shebao.core.regions import check_region
from shebao.core.schemes import check_scheme
from shebao.db.uow import now, reading, transaction
from shebao.rules.calculators.fund import bands
from shebao.rules.formulas import fund
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import sources
from .tables import fund_warning

FUNDS = ("pension", "medical", "unemployment", "injury")


def indicators(conn, region: str, scheme: str, as_of: dt.date) -> dict:
    start = dt.date(as_of.year - 1, as_of.month, 1) if as_of.day == 1 else \
        as_of - dt.timedelta(days=365)
    f = sources.fund_figures(conn, region, scheme, start, as_of + dt.timedelta(days=1))
    contributors, pensioners = sources.counts(conn, region, as_of, scheme)
    surplus, excl = fund.current_surplus(f["income_fen"] + f["subsidy_fen"],
                                         f["expenditure_fen"], f["subsidy_fen"])
    values = {
        "payable_months": fund.payable_months(f["balance_fen"], f["expenditure_fen"]),
        "dependency_ratio": fund.ratio(contributors, pensioners) if scheme == "pension" else None,
        "collection_rate": fund.ratio(f["collected_fen"], f["assessed_fen"], 4),
        "arrears_rate": fund.ratio(f["outstanding_fen"], f["assessed_fen"], 4),
        "surplus_excl_subsidy": Decimal(excl) / 100 if f["accounts"] else None,
    }
    return {"values": values, "figures": {**f, "surplus_fen": surplus,
                                          "contributors": contributors, "pensioners": pensioners}}


def compute(db, actor: Actor, region: str, as_of: dt.date, funds=FUNDS) -> list[dict]:
    policy.require(actor, "monitoring.run")
    check_region(region)
    policy.require_region(actor, region)
    rules = load_rules()
    out = []
    with transaction(db) as conn:
        at = now()
        for scheme in funds:
            check_scheme(scheme)
            ind = indicators(conn, region, scheme, as_of)
            b = bands(rules, region, as_of, scheme)
            conn.execute(delete(fund_warning).where(and_(
                fund_warning.c.region == region, fund_warning.c.fund == scheme,
                fund_warning.c.as_of == as_of)))
            for name, value in ind["values"].items():
                band = b.get(name, {})
                lvl = fund.level(value, band) if band else ("n/a" if value is None else "ok")
                row = {"region": region, "fund": scheme, "as_of": as_of, "indicator": name,
                       "value": None if value is None else str(value), "level": lvl,
                       "thresholds": json.dumps({k: str(v) for k, v in band.items()}),
                       "actor": actor.id, "at": at}
                conn.execute(insert(fund_warning).values(**row))
                out.append({**row, "as_of": as_of.isoformat(), "at": at.isoformat(),
                            "figures": ind["figures"]})
        audit.record(conn, actor, "monitoring.warning", "region", region,
                     detail={"as_of": as_of, "funds": list(funds),
                             "alerts": sum(1 for r in out if r["level"] == "alert"),
                             "watch": sum(1 for r in out if r["level"] == "watch")})
    return out


def latest(db, actor: Actor, *, level: str | None = None, limit: int = 200) -> list[dict]:
    """The stored indicators in the actor's scope, newest date first."""
    policy.require(actor, "monitoring.read")
    conds = [fund_warning.c.region.like(sources.like(actor.scope))]
    if level:
        conds.append(fund_warning.c.level == level)
    with reading(db) as conn:
        rows = conn.execute(select(fund_warning).where(and_(*conds)).order_by(
            fund_warning.c.as_of.desc(), fund_warning.c.region, fund_warning.c.fund,
            fund_warning.c.indicator).limit(limit)).all()
    return [{**dict(r._mapping), "as_of": str(r.as_of)[:10], "at": str(r.at),
             "thresholds": json.loads(r.thresholds)} for r in rows
            if policy.in_region(actor, r.region)]
