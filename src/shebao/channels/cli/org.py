"""``shebao org …``: the organisation below the counties, outlets, staff, staffing from
workload, administration budgets, outsourcing, the service catalogue and its deadlines.

    shebao org unit-add --code 310104001 --name 枫林路街道 --actor admin
    shebao org outlet-add --code XH-01 --name 徐汇窗口 --kind counter --region 310104 --actor admin
    shebao org assign --user clerk --outlet XH-01 --class operational [--head] --actor admin
    shebao org tree --region 310104 --actor admin
    shebao org staffing --region 310104 --from 2026-01-01 --to 2026-03-31 --actor admin
    shebao org budget --region 310104 --year 2026 --amount 1200000.00 --actor admin
    shebao org provider-add / contract-add / contract-end / performance
    shebao org catalogue [--region 310104]           the service items, limits, documents
    shebao org overdue --region 310104 --actor admin cases past their statutory limit
    shebao org on-time --region 310104 --from … --to … --actor admin
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import List, Optional

import typer

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.core.money import to_fen
from shebao.org import outsourcing, queries, service, staffing

from .actor import ACTOR, engine_and_actor
from .common import out

app = typer.Typer(no_args_is_help=True, help="Organisation, outlets, staffing, outsourcing, "
                                             "service catalogue.")


def _d(s: str | None, default: dt.date | None = None) -> dt.date:
    return dt.date.fromisoformat(s) if s else (default or dt.date.today())


@app.command("unit-add")
def unit_add(code: str = typer.Option(...), name: str = typer.Option(...),
             households: Optional[int] = None, grid_worker: Optional[str] = None,
             actor: str = ACTOR):
    """A town (9 digits), village (12) or grid cell (…G<n>) below a county."""
    engine, who = engine_and_actor(actor, permission="org.manage")
    out({"id": service.add_unit(engine, who, code, name, households=households,
                                grid_worker=grid_worker)})


@app.command("outlet-add")
def outlet_add(code: str = typer.Option(...), name: str = typer.Option(...),
               kind: str = typer.Option(..., help="counter | kiosk | bank_agent | village_agent"),
               region: str = typer.Option(...), unit: Optional[str] = None,
               provider: Optional[int] = None, actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="org.manage", region=region)
    out({"id": service.add_outlet(engine, who, code, name, kind, region, unit_code=unit,
                                  provider_id=provider)})


@app.command("assign")
def assign(user: str = typer.Option(...), outlet: str = typer.Option(...),
           staff_class: str = typer.Option(..., "--class",
                                           help="administrative | professional | operational"),
           head: bool = False, fte: int = 100, valid_from: Optional[str] = typer.Option(
               None, "--from"), actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="org.manage")
    out({"id": service.assign(engine, who, user, outlet, staff_class, valid_from=_d(valid_from),
                              is_head=head, fte_pct=fte)})


@app.command("tree")
def tree(region: str = typer.Option(...), actor: str = ACTOR):
    """The hierarchy national → … → county → town → village → grid, and the outlets."""
    engine, who = engine_and_actor(actor, permission="org.read", region=region)
    out({"tree": queries.hierarchy(engine, region), "outlets": queries.outlets(engine, region)})


@app.command("staffing")
def staffing_cmd(region: str = typer.Option(...), date_from: str = typer.Option(..., "--from"),
                 date_to: str = typer.Option(..., "--to"), actor: str = ACTOR):
    """Required posts from workload (cases × standard minutes) vs actual, per outlet."""
    engine, who = engine_and_actor(actor, permission="org.read", region=region)
    out(staffing.staffing_report(engine, who, region, _d(date_from), _d(date_to)))


@app.command("budget")
def budget(region: str = typer.Option(...), year: int = typer.Option(...),
           amount: str = typer.Option(..., help="yuan"), note: Optional[str] = None,
           actor: str = ACTOR):
    """Set a region's administration budget for a year."""
    engine, who = engine_and_actor(actor, permission="org.manage", region=region)
    service.set_budget(engine, who, region, year, to_fen(amount), note)
    out({"region": region, "year": year, "amount_fen": to_fen(amount)})


@app.command("provider-add")
def provider_add(code: str = typer.Option(..., help="USCC"), name: str = typer.Option(...),
                 region: str = typer.Option(...), actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="org.manage", region=region)
    out({"id": outsourcing.add_provider(engine, who, code, name, region)})


@app.command("contract-add")
def contract_add(provider: int = typer.Option(...), item: str = typer.Option(...),
                 region: str = typer.Option(...), valid_from: str = typer.Option(..., "--from"),
                 valid_to: str = typer.Option(..., "--to"),
                 price: str = typer.Option(..., help="yuan per decided case"),
                 criterion: List[str] = typer.Option(..., help="an access criterion met"),
                 on_time_pct: int = 90, rating: str = "4.50", actor: str = ACTOR):
    engine, who = engine_and_actor(actor, permission="org.manage", region=region)
    out({"id": outsourcing.add_contract(
        engine, who, provider, item, region, valid_from=_d(valid_from), valid_to=_d(valid_to),
        price_fen=to_fen(price), access_criteria=criterion, target_on_time_pct=on_time_pct,
        target_rating_x100=int(Decimal(rating) * 100))})


@app.command("contract-end")
def contract_end(contract: int = typer.Option(...), reason: str = typer.Option(...),
                 on: Optional[str] = None, actor: str = ACTOR):
    """Exit: end a contract (the provider exits with its last contract)."""
    engine, who = engine_and_actor(actor, permission="org.manage")
    outsourcing.end_contract(engine, who, contract, _d(on), reason)
    out({"contract": contract, "ended": True})


@app.command("performance")
def performance(contract: int = typer.Option(...), date_from: str = typer.Option(..., "--from"),
                date_to: str = typer.Option(..., "--to"), actor: str = ACTOR):
    """A contract's measured performance: decided, on time, mean rating, cost, breaches."""
    engine, who = engine_and_actor(actor, permission="org.read")
    out(outsourcing.performance(engine, who, contract, _d(date_from), _d(date_to)))


@app.command("catalogue")
def catalogue_cmd(region: str = "310000", on: Optional[str] = None,
                  bureau: Optional[str] = None):
    """The service catalogue in force: limits, channels, documents, legal basis (public)."""
    out([{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "bureau": i.bureau,
          "limit": i.limit, "limit_unit": i.limit_unit, "channels": list(i.channels),
          "documents": list(i.documents), "reference": i.reference,
          "standard_minutes": i.standard_minutes}
         for i in catalogue.items(region, _d(on), bureau=bureau)])


@app.command("overdue")
def overdue(region: str = typer.Option(...), on: Optional[str] = None, actor: str = ACTOR):
    """Open cases past their statutory limit."""
    engine, _ = engine_and_actor(actor, permission="org.read", region=region)
    out([{"id": c.id, "item": c.item, "outlet": c.outlet, "status": c.status,
          "opened_on": c.opened_on, "due_on": c.due_on, "assigned_to": c.assigned_to}
         for c in case_queries.overdue(engine, _d(on), region=region)])


@app.command("on-time")
def on_time(region: str = typer.Option(...), date_from: str = typer.Option(..., "--from"),
            date_to: str = typer.Option(..., "--to"), actor: str = ACTOR):
    """On-time rates and mean ratings per item and outlet."""
    engine, _ = engine_and_actor(actor, permission="org.read", region=region)
    out([{**r.__dict__, "on_time_rate": r.on_time_rate}
         for r in case_queries.on_time(engine, _d(date_from), _d(date_to), region=region)])
