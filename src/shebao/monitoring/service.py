"""The projection of a region's fund from the registry: read the insured (one packed read of
contributors, one of pensioners) and the pooled fund's balance, aggregate, project each
scenario. One audited read (counts only leave this module: no personal data)."""
from __future__ import annotations

import datetime as dt

from shebao.core.actor import Actor
from shebao.core.regions import check_region
from shebao.db.uow import transaction
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from . import projection as pj
from . import sources


def base_of(conn, region: str, on: dt.date) -> pj.Base:
    micro = sources.insured(conn, region, on)
    f = sources.fund_figures(conn, region, "pension", on, on + dt.timedelta(days=1))
    return pj.base_from_micro(region, on.year, balance_fen=f["balance_fen"], **micro)


def project_region(db, actor: Actor, region: str, on: dt.date,
                   scenarios: list[str] | None = None) -> list[pj.Projection]:
    policy.require(actor, "monitoring.read")
    check_region(region)
    policy.require_region(actor, region)
    rules = load_rules()
    names = scenarios or sorted(rules.value("monitoring.projection.scenarios", region, on))
    with transaction(db) as conn:
        base = base_of(conn, region, on)
        out = [pj.project(base, pj.assumptions(region, on, s, rules), scenario=s, rules=rules)
               for s in names]
        audit.record(conn, actor, "monitoring.projection", "region", region,
                     detail={"on": on, "scenarios": names,
                             "contributors": int(base.contributors.sum()),
                             "pensioners": int(base.pensioners.sum())})
    return out


def table(p: pj.Projection) -> list[dict]:
    """Rows for display: yuan strings, ratios as text."""
    from shebao.core.money import fen_to_yuan_str
    return [{"year": r["year"], "contributors": r["contributors"], "pensioners": r["pensioners"],
             "income": fen_to_yuan_str(r["income_fen"]),
             "pooled_income": fen_to_yuan_str(r["pooled_income_fen"]),
             "expenditure": fen_to_yuan_str(r["expenditure_fen"]),
             "balance": fen_to_yuan_str(r["balance_fen"]),
             "payable_months": None if r["payable_months"] is None else str(r["payable_months"]),
             "dependency": None if r["dependency"] is None else str(r["dependency"])}
            for r in p.rows]
