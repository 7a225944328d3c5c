"""API of the administration side (#18), part 1: the service catalogue (items with their
statutory limits, documents, channels and legal basis; on-time rates and ratings per item and
outlet; the overdue list), staffing (required against actual posts per outlet) and
outsourcing (providers, contracts, measured performance). Every read is in the caller's region
scope (a region outside it is a 403) and needs ``org.read``, except the catalogue's items,
which are the published law and open to every signed-in account."""
from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.db.uow import now
from shebao.org import outsourcing, staffing
from shebao.org import queries as org_queries
from shebao.security import policy

from ..deps import current_actor, engine, needs
from .params import PathId

router = APIRouter()
TAG_CAT, TAG_ORG = ["catalogue"], ["organisation"]
Region6 = Annotated[str | None, Query(pattern=r"^\d{6}$",
                                      description="a six-digit region (default: my scope)")]
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
MAX_PERIOD_DAYS = 5 * 366
PERIOD_DAYS = 90


def today() -> dt.date:
    return (now() + dt.timedelta(hours=8)).date()      # China Standard Time, as cases use


def region_of(actor: Actor, region: str | None, *, six_digits: bool = True) -> str:
    """The region asked for, or the caller's scope; inside the caller's scope."""
    r = region or actor.scope
    if r == regions.NATIONAL and six_digits:
        raise InputError("give a six-digit region (a national scope covers many)",
                         field="region")
    if r != regions.NATIONAL:
        regions.check_region(r)
    policy.require_region(actor, r)
    return r


def day(value: dt.date | None, field: str, default: dt.date) -> dt.date:
    v = value or default
    if not EARLIEST <= v <= LATEST:
        raise InputError(f"{field} must lie in {EARLIEST}..{LATEST}", field=field)
    return v


def period(date_from: dt.date | None, date_to: dt.date | None,
           days: int = PERIOD_DAYS) -> tuple[dt.date, dt.date]:
    """[date_from, date_to], by default the last ``days`` days; bounded and ordered."""
    b = day(date_to, "date_to", today())
    a = day(date_from, "date_from", b - dt.timedelta(days=days))
    if b < a:
        raise InputError("the period ends before it starts", field="date_to")
    if (b - a).days > MAX_PERIOD_DAYS:
        raise InputError(f"a period of at most {MAX_PERIOD_DAYS} days", field="date_from")
    return a, b


# ---------------------------------------------------------------- catalogue
class ItemOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    bureau: str
    subject: str
    limit: int
    limit_unit: str
    channels: list[str]
    documents: list[str]
    legal_basis: str
    four_eyes: str | None
    standard_minutes: int
    in_force_from: dt.date | None


class OnTimeOut(BaseModel):
    item: str
    outlet: str | None
    opened: int
    decided: int
    on_time: int
    late: int
    open_overdue: int
    on_time_rate: float | None
    ratings: int
    mean_rating: float | None


class OnTimeReport(BaseModel):
    region: str
    date_from: dt.date
    date_to: dt.date
    rows: list[OnTimeOut]           # per item × outlet
    items: list[OnTimeOut]          # per item, all outlets (outlet null)


class OverdueOut(BaseModel):
    case_id: int
    item: str
    region: str
    outlet: str | None
    status: str
    opened_on: dt.date
    due_on: dt.date | None


def _item(it) -> ItemOut:
    return ItemOut(code=it.code, name_zh=it.name_zh, name_en=it.name_en, bureau=it.bureau,
                   subject=it.subject, limit=it.limit, limit_unit=it.limit_unit,
                   channels=list(it.channels), documents=list(it.documents),
                   legal_basis=it.reference, four_eyes=it.approval_kind,
                   standard_minutes=int(it.standard_minutes or 0),
                   in_force_from=it.in_force_from)


def _on_time(item: str, outlet: str | None, rows) -> OnTimeOut:
    decided = sum(r.decided for r in rows)
    ratings = sum(r.ratings for r in rows)
    score = sum((r.mean_rating or 0) * r.ratings for r in rows)
    on_time = sum(r.on_time for r in rows)
    return OnTimeOut(item=item, outlet=outlet, opened=sum(r.opened for r in rows),
                     decided=decided, on_time=on_time, late=sum(r.late for r in rows),
                     open_overdue=sum(r.open_overdue for r in rows),
                     on_time_rate=round(on_time / decided, 4) if decided else None,
                     ratings=ratings, mean_rating=round(score / ratings, 2) if ratings else None)


@router.get("/catalogue/items", response_model=list[ItemOut], tags=TAG_CAT,
            summary="The service catalogue in force in a region on a day: statutory limit, "
                    "documents, channels, legal basis")
def catalogue_items(region: Region6 = None, on: dt.date | None = None,
                    bureau: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
                    channel: Literal["online", "counter"] | None = None,
                    actor: Actor = Depends(current_actor)):
    r = region or (actor.scope if actor.scope != regions.NATIONAL else None)
    if r is None:
        raise InputError("give a six-digit region", field="region")
    regions.check_region(r)
    return [_item(it) for it in catalogue.items(r, day(on, "on", today()), bureau=bureau,
                                                 channel=channel)]


@router.get("/catalogue/on-time", response_model=OnTimeReport, tags=TAG_CAT,
            summary="On-time rates and satisfaction ratings (好差评) per item and outlet, for "
                    "the cases opened in the period")
def catalogue_on_time(region: Region6 = None, date_from: dt.date | None = None,
                      date_to: dt.date | None = None,
                      actor: Actor = Depends(needs("org.read")), eng=Depends(engine)):
    r = region_of(actor, region)
    a, b = period(date_from, date_to)
    rows = case_queries.on_time(eng, a, b, region=r, today=today())
    by_item: dict[str, list] = {}
    for x in rows:
        by_item.setdefault(x.item, []).append(x)
    return OnTimeReport(region=r, date_from=a, date_to=b,
                        rows=[_on_time(x.item, x.outlet, [x]) for x in rows],
                        items=[_on_time(k, None, v) for k, v in sorted(by_item.items())])


@router.get("/catalogue/overdue", response_model=list[OverdueOut], tags=TAG_CAT,
            summary="Cases still open past their statutory due date, oldest due first")
def catalogue_overdue(region: Region6 = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 200,
                      actor: Actor = Depends(needs("org.read")), eng=Depends(engine)):
    r = region_of(actor, region)
    return [OverdueOut(case_id=c.id, item=c.item, region=c.region, outlet=c.outlet,
                       status=c.status, opened_on=c.opened_on, due_on=c.due_on)
            for c in case_queries.overdue(eng, today(), region=r, limit=limit)]


# ---------------------------------------------------------------- staffing
class StaffingItem(BaseModel):
    item: str
    cases: int
    standard_minutes: int
    minutes: int


class OutletStaffingOut(BaseModel):
    outlet: str | None
    workload_minutes: int
    capacity_minutes_per_post: int
    required: str                   # posts, exact fraction shown to two places
    required_posts: int
    actual: str
    gap: str
    items: list[StaffingItem]


class StaffingOut(BaseModel):
    region: str
    date_from: dt.date
    date_to: dt.date
    working_days: int
    minutes_per_day: int
    casework_classes: list[str]
    reference: str
    outlets: list[OutletStaffingOut]


@router.get("/org/staffing", response_model=StaffingOut, tags=TAG_ORG,
            summary="Required posts from measured workload (decided cases × standard minutes) "
                    "against the posts assigned, per outlet")
def org_staffing(region: Region6 = None, date_from: dt.date | None = None,
                 date_to: dt.date | None = None,
                 actor: Actor = Depends(needs("org.read")), eng=Depends(engine)):
    r = region_of(actor, region)
    a, b = period(date_from, date_to)
    rep = staffing.staffing_report(eng, actor, r, a, b)
    return StaffingOut(date_from=a, date_to=b, **{k: v for k, v in rep.items()
                                                  if k not in ("from", "to")})


# ---------------------------------------------------------------- outsourcing
class ProviderOut(BaseModel):
    id: int
    code: str
    name: str
    region: str
    status: str
    exited_on: dt.date | None
    exit_reason: str | None


class ContractOut(BaseModel):
    id: int
    provider_id: int
    provider_name: str
    item: str
    region: str
    valid_from: dt.date
    valid_to: dt.date
    price_fen: int
    access_criteria: list[str]
    target_on_time_pct: int
    target_rating_x100: int
    status: str
    ended_on: dt.date | None
    end_reason: str | None


class PerformanceOut(BaseModel):
    contract_id: int
    item: str
    region: str
    date_from: dt.date
    date_to: dt.date
    decided: int
    on_time: int
    on_time_pct: str | None
    mean_rating: str | None
    cost_fen: int
    outlets: list[str]
    breaches: list[str]


def _scope(actor: Actor, region: str | None) -> str:
    return region_of(actor, region, six_digits=False)


@router.get("/org/providers", response_model=list[ProviderOut], tags=TAG_ORG,
            summary="Outsourcing providers in my scope (or a region under it)")
def org_providers(region: Region6 = None, actor: Actor = Depends(needs("org.read")),
                  eng=Depends(engine)):
    return [ProviderOut(**{k: p[k] for k in ProviderOut.model_fields})
            for p in org_queries.providers(eng, _scope(actor, region))]


def _contract(c: dict) -> ContractOut:
    return ContractOut(**{**{k: c[k] for k in ContractOut.model_fields if k != "access_criteria"},
                          "access_criteria": json.loads(c["access_criteria"] or "[]")})


@router.get("/org/contracts", response_model=list[ContractOut], tags=TAG_ORG,
            summary="Outsourcing contracts for catalogue items: access criteria, price per "
                    "decided case, quality targets")
def org_contracts(region: Region6 = None, status: Literal["active", "ended"] | None = None,
                  actor: Actor = Depends(needs("org.read")), eng=Depends(engine)):
    return [_contract(c) for c in org_queries.contracts(eng, scope=_scope(actor, region),
                                                        status=status)]


@router.get("/org/contracts/{contract_id}/performance", response_model=PerformanceOut,
            tags=TAG_ORG, summary="A contract's measured performance: cases decided at the "
                                  "provider's outlets, on time, mean rating, cost, missed targets")
def org_contract_performance(contract_id: PathId, date_from: dt.date | None = None,
                             date_to: dt.date | None = None,
                             actor: Actor = Depends(needs("org.read")), eng=Depends(engine)):
    a, b = period(date_from, date_to)
    p = outsourcing.performance(eng, actor, contract_id, a, b)
    return PerformanceOut(date_from=a, date_to=b, **p)
