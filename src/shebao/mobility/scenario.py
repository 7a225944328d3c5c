"""Reform scenarios: the same population under the law in force and under a parameter overlay
(a different ceiling, rate, indexation…), a year's contributions, pensions and the pension
fund's balance side by side (``shebao scenario --region 310000 --date 2025-07-01 --overlay
reform.yaml --chart out.svg``).

An overlay is YAML: parameter name → region → effective date → value, e.g.::

    contribution.base.ceiling:
      "310000": {2025-07-01: 40000}
    contribution.pension.employer_rate:
      national: {2025-07-01: 0.14}

Each overlaid region's entries from that date on are replaced; everything else is the shipped
law. The population is read set-based: the region's employees and their wages
(``registry.queries.enrolment_matrix``, keyset chunks) and its pension awards in payment
(``benefits.queries.awards_sql``); every amount goes through the same vectorised formulas as
the monthly runs (``rules.formulas.contribution``, ``benefits`` indexation).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from xml.sax.saxutils import escape

import numpy as np
import yaml

from shebao.benefits import queries as benefits_queries
from shebao.core import regions as core_regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import add_months
from shebao.db import bulk
from shebao.db.uow import reading, transaction
from shebao.registry import queries as registry_queries
from shebao.rules import load_rules
from shebao.rules.formulas import benefits as FB
from shebao.rules.formulas import contribution as FC
from shebao.rules.loader import Entry, Rules
from shebao.security import audit, policy

MONTHS = 12            # a scenario covers one year of months (calendar fact)
CHUNK = 100_000


def _value(v):
    if isinstance(v, float):
        return Decimal(repr(v))        # YAML 0.14 → exactly 0.14
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def with_overlay(rules: Rules, overlay: dict) -> Rules:
    """A copy of ``rules`` with the overlay's entries in force from their dates."""
    if not isinstance(overlay, dict) or not overlay:
        raise InputError("the overlay must map parameter names to regions to dated values",
                         field="overlay")
    params = dict(rules.params)
    for name, per_region in overlay.items():
        if name not in rules:
            raise InputError(f"unknown parameter {name!r} in the overlay", field="overlay")
        if not isinstance(per_region, dict):
            raise InputError(f"{name}: map regions to dated values", field="overlay")
        p = rules.parameter(name)
        values = dict(p.values)
        for region, dated in per_region.items():
            region = str(region)
            if not core_regions.is_region_code(region):
                raise InputError(f"{name}: {region!r} is not a region code", field="overlay")
            if not isinstance(dated, dict) or not all(isinstance(d, dt.date) for d in dated):
                raise InputError(f"{name}/{region}: map effective dates to values",
                                 field="overlay")
            first = min(dated)
            kept = [dataclasses.replace(e, until=min(e.until or first - dt.timedelta(days=1),
                                                     first - dt.timedelta(days=1)))
                    for e in values.get(region, []) if e.start < first]
            new = [Entry(d, None, _value(v), "scenario overlay") for d, v in sorted(dated.items())]
            values[region] = kept + new
        params[name] = dataclasses.replace(p, values=values)
    return Rules(params)


def load_overlay(text: str) -> dict:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"the overlay is not valid YAML: {exc}", field="overlay") from None
    return doc


@dataclasses.dataclass
class Population:
    wages_fen: np.ndarray        # employees' wages (one per employee × employer)
    pensions_fen: np.ndarray     # monthly pensions in payment


def read_population(db, region: str, on: dt.date) -> Population:
    """The region's employees' wages and pensions in payment (set-based reads)."""
    m = on.replace(day=1)
    m_end = add_months(m, 1) - dt.timedelta(days=1)
    wages = []
    with reading(db) as conn:
        lo, hi = registry_queries.enrolled_person_range(conn, region)
        if lo is not None:
            for a in range(lo, hi + 1, CHUNK):
                rows = registry_queries.enrolment_matrix(conn, region, a, min(a + CHUNK, hi + 1),
                                                         m, m_end, ("pension",))
                keep = (rows[:, 1] == 0) & (rows[:, 3] >= 0) & (rows[:, 4] == 1)
                wages.append(rows[keep, 3])
        pens = bulk.fetch_int_matrix(
            conn, f"SELECT a.monthly_fen FROM ({benefits_queries.awards_sql()}) a "
                  "WHERE a.region = :r AND a.status = 'active' AND a.start_month <= :m",
            {"r": region, "m": m}, 1)
    return Population(np.concatenate(wages) if wages else np.zeros(0, np.int64), pens[:, 0])


def year_figures(rules: Rules, region: str, on: dt.date, pop: Population) -> dict:
    """One year (12 × the month of ``on``): contributions by scheme and account, pensions after
    the indexation in force on ``on``, and the pension pooled fund's balance change."""
    rs = FC.rate_set(rules, region, on.replace(day=1))
    base = np.clip(pop.wages_fen, rs.floor_fen, rs.ceiling_fen)
    income: dict[str, int] = {}
    for line, amounts in FC.assess_employees(rs, base, np.zeros(len(base), np.int64)).items():
        key = f"{line.scheme}.{line.account}"
        income[key] = income.get(key, 0) + int(amounts.sum()) * MONTHS
    try:
        rate = rules.value("pension.indexation", region, on)
    except RuleError:
        rate = Decimal(0)
    pensions = int(FB.indexed_amount_fen(pop.pensions_fen, rate).sum()) * MONTHS \
        if len(pop.pensions_fen) else 0
    pooled = income.get("pension.pooled", 0)
    return {"contributions": sum(income.values()), "by_account": income,
            "pension_pooled_income": pooled, "pensions": pensions,
            "pension_fund_balance_change": pooled - pensions,
            "ceiling_fen": rs.ceiling_fen, "floor_fen": rs.floor_fen,
            "indexation": str(rate), "employees": int(len(base)),
            "pensioners": int(len(pop.pensions_fen))}


def scenario(db, actor: Actor, region: str, on: dt.date, overlay: dict,
             rules: Rules | None = None) -> dict:
    """The region's population under the law in force and under the overlay (one audited
    read of the region's wages and pensions, aggregated: no person is shown)."""
    if actor.role != "system":
        policy.require(actor, "mobility.scenario")
        policy.require_region(actor, region)
    rules = rules or load_rules()
    alt = with_overlay(rules, overlay)
    with transaction(db) as conn:
        pop = read_population(conn, region, on)
        audit.record(conn, actor, "mobility.scenario", "region", region,
                     detail={"date": on, "overlay": sorted(overlay),
                             "employees": len(pop.wages_fen), "pensioners": len(pop.pensions_fen)})
    base, new = year_figures(rules, region, on, pop), year_figures(alt, region, on, pop)
    keys = ("contributions", "pension_pooled_income", "pensions", "pension_fund_balance_change")
    return {"region": region, "date": on.isoformat(), "overlay": sorted(overlay),
            "base": base, "scenario": new,
            "difference": {k: new[k] - base[k] for k in keys}}


def as_text(res: dict) -> str:
    b, s, d = res["base"], res["scenario"], res["difference"]
    lines = [f"scenario for {res['region']} on {res['date']} — overlay: "
             f"{', '.join(res['overlay'])}",
             f"{b['employees']} employees, {b['pensioners']} pensioners; one year (yuan)",
             f"{'':<32}{'law in force':>20}{'scenario':>20}{'difference':>20}"]
    for k, label in (("contributions", "contributions (all schemes)"),
                     ("pension_pooled_income", "pension pooled income"),
                     ("pensions", "pensions paid"),
                     ("pension_fund_balance_change", "pension fund balance change")):
        lines.append(f"{label:<32}{fen_to_yuan_str(b[k]):>20}{fen_to_yuan_str(s[k]):>20}"
                     f"{fen_to_yuan_str(d[k]):>20}")
    return "\n".join(lines)


def chart_svg(res: dict) -> str:
    """A grouped bar chart (law in force vs scenario) of the four yearly figures, as SVG."""
    keys = [("contributions", "contributions"), ("pension_pooled_income", "pooled income"),
            ("pensions", "pensions"), ("pension_fund_balance_change", "balance change")]
    vals = [(res["base"][k], res["scenario"][k]) for k, _ in keys]
    top = max([abs(v) for pair in vals for v in pair] + [1])
    w, h, pad, zero = 640, 320, 40, 200
    scale = (zero - pad) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{pad}" y="20">{escape(res["region"])} {escape(res["date"])}: '
             f'law in force (grey) vs scenario (blue), yuan per year</text>',
             f'<line x1="{pad}" y1="{zero}" x2="{w - pad}" y2="{zero}" stroke="black"/>']
    step = (w - 2 * pad) / len(keys)
    for i, ((_, label), (a, b)) in enumerate(zip(keys, vals)):
        x = pad + i * step + 10
        for j, (v, colour) in enumerate(((a, "#999"), (b, "#36c"))):
            hgt = abs(v) * scale
            y = zero - hgt if v >= 0 else zero
            parts.append(f'<rect x="{x + j * 42:.0f}" y="{y:.1f}" width="40" height="{hgt:.1f}" '
                         f'fill="{colour}"><title>{fen_to_yuan_str(v)}</title></rect>')
        parts.append(f'<text x="{x:.0f}" y="{zero + 16}">{escape(label)}</text>')
        parts.append(f'<text x="{x:.0f}" y="{zero + 30}">Δ {fen_to_yuan_str(b - a)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


__all__ = ["with_overlay", "load_overlay", "read_population", "year_figures", "scenario",
           "as_text", "chart_svg"]
