"""The actions a partner may ask for, inside the exchange's transaction (``service.receive``).

Each returns an :class:`Outcome`: the answer's message and what the exchange record keeps.
Inbound events act through the owning bureau's services, as the partner (``Partner.actor``,
after the scope checks made here):

- a death → ``registry.service.record_death``; ``benefits.awards.stop_awards`` (every benefit
  award stops after the death month, later payments become recoveries); the pension payroll
  pays nobody after the death month and ``benefits.life_events.detect_overpayments`` turns
  pension payments already made for later months into overpayments;
- tax wage data → ``collection.declarations.declare_wage`` (source ``partner:<code>``);
- a hukou move → ``registry.service.change_person``;
- a birth → ``registry.service.register_person``;
- a transfer message of another installation → ``mobility.inbound.receive`` (the step done
  at the other end; ``mobility_link``); another system's letter is kept (``queries.inbox``).

Deaths and hukou moves are passed on to the partners that subscribed to them
(``outbound.publish``). Each event of a notice is done in its own savepoint: one unknown
person does not refuse the others, and its status says why.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from shebao.benefits import awards, life_events
from shebao.collection import declarations
from shebao.core import regions
from shebao.core.errors import InputError, PermissionDenied, ShebaoError
from shebao.core.ids import mask_id
from shebao.db.uow import now, transaction
from shebao.registry import partner_reads
from shebao.registry import queries as registry
from shebao.registry import service as registry_service
from shebao.registry.model import person_region
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import mobility_link, model, outbound
from .partners import Partner
from .tables import subscription


@dataclass
class Outcome:
    kind: str
    message: dict
    purpose: str | None = None
    legal_basis: str | None = None
    consent_ref: str | None = None
    audited: bool = False
    detail: dict = field(default_factory=dict)


def _in_partner_region(p: Partner, region: str | None) -> bool:
    if p.region == "national":
        return True
    try:
        return bool(region) and regions.within(region, p.region)
    except ValueError:
        return False


def search(conn, p: Partner, msg: dict) -> Outcome:
    purpose, legal, consent = model.basis(msg)
    qtype, query, items = model.search_query(msg, p.scopes)
    max_size = int(load_rules().value("sharing.page_size_max", "national", now().date()))
    size, cursor = model.page_request(msg, max_size)
    rows = partner_reads.persons_matching(conn, **query, after=cursor, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    nxt = str(rows[-1]["id"]) if more and rows else None
    shown = [r for r in rows if _in_partner_region(p, person_region(r))]
    enr = partner_reads.enrolments_of(conn, [r["id"] for r in shown]) \
        if "enrolments" in items else {}
    records = [model.record_of(r, items, enr.get(r["id"])) for r in shown]
    ref = model.reference_id(msg)
    audit.record_listed(conn, p.actor(), "sharing.search", [r["id"] for r in shown],
                        fields=[f for i in items for f in model.ITEMS[i]], purpose=purpose,
                        detail={"partner": p.code, "reference_id": ref, "legal_basis": legal,
                                "consent_ref": consent, "query_type": qtype,
                                "query": mask_id(query.get("citizen_id"))
                                if qtype == "id" else "demographic"})
    return Outcome("search", {"reference_id": ref, "status": "succ", "records": records,
                              "pagination": {"page_size": size, "next_cursor": nxt,
                                             "count": len(records)}},
                   purpose, legal, consent, audited=True)


def subscribe(conn, p: Partner, msg: dict) -> Outcome:
    ref = model.reference_id(msg)
    et = msg.get("event_type")
    if et not in model.OUTBOUND_EVENTS:
        raise InputError(f"event_type: one of {', '.join(model.OUTBOUND_EVENTS)}",
                         field="message.event_type")
    model.require_scope(p.scopes, f"subscribe:{et}")
    region = msg.get("region") or p.region
    if region != "national":
        try:
            regions.parent(region)
        except (ValueError, TypeError):
            raise InputError("region: a GB/T 2260 code or national", field="message.region")
    if p.region != "national" and (region == "national" or not regions.within(region, p.region)):
        raise PermissionDenied(f"the partner may subscribe within {p.region} only")
    sid = conn.execute(select(subscription.c.id).where(
        subscription.c.partner_id == p.id, subscription.c.event_type == et,
        subscription.c.region == region, subscription.c.status == "active")).scalar()
    if sid is None:
        sid = conn.execute(insert(subscription).values(
            partner_id=p.id, event_type=et, region=region, status="active", created_at=now())
            .returning(subscription.c.id)).scalar_one()
    return Outcome("subscribe", {"reference_id": ref, "status": "succ", "subscription_id": sid,
                                 "event_type": et, "region": region},
                   purpose=f"subscription to {et}", detail={"subscription_id": sid})


def unsubscribe(conn, p: Partner, msg: dict) -> Outcome:
    ref = model.reference_id(msg)
    sid = msg.get("subscription_id")
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise InputError("subscription_id: the id of the subscription",
                         field="message.subscription_id")
    n = conn.execute(update(subscription).where(
        subscription.c.id == sid, subscription.c.partner_id == p.id,
        subscription.c.status == "active").values(status="ended", ended_at=now())).rowcount
    if not n:
        raise InputError(f"no active subscription {sid} of this partner",
                         field="message.subscription_id")
    return Outcome("unsubscribe", {"reference_id": ref, "status": "succ",
                                   "subscription_id": sid},
                   purpose="subscription ended", detail={"subscription_id": sid})


# ------------------------------------------------------------------------- inbound events
def _person_id(conn, e: dict, i: int) -> int | None:
    cid = e.get("citizen_id")
    if not isinstance(cid, str) or not 15 <= len(cid.strip()) <= 18:
        raise InputError("citizen_id: an 18-character citizen ID",
                         field=f"message.events[{i}].citizen_id")
    return registry.person_id_of(conn, cid.strip())


def _death(conn, p: Partner, e: dict, i: int) -> dict:
    pid = _person_id(conn, e, i)
    if pid is None:
        return {"status": "unknown_person"}
    died = model.event_date(e, "death_date", i)
    actor = p.actor()
    res = registry_service.record_death(conn, actor, pid, died, source=f"partner:{p.code}",
                                        reason=f"death notice from {p.code}")
    if not res.get("changed"):
        return {"status": "already_recorded"}
    region = person_region(registry.person_facts(conn, [pid]).get(pid, {})) or None
    # benefit awards (unemployment, injury, …) stop after the death month, payments made for
    # later months become recoveries; the pension payroll pays nobody after the death month
    # (it reads the death date) and pension payments already made after it become
    # overpayments to recover (awards stopped)
    stopped = awards.stop_awards(conn, actor, pid, died, "death").awards
    if region:
        stopped += life_events.detect_overpayments(conn, actor, region).awards_stopped
    outbound.publish(conn, "death", region, {"citizen_id": e["citizen_id"].strip().upper(),
                                             "death_date": died.isoformat()},
                     exclude_partner=p.id)
    return {"status": "applied", "awards_stopped": stopped}


def _wage(conn, p: Partner, e: dict, i: int) -> dict:
    pid = _person_id(conn, e, i)
    eid = registry.employer_id_of(conn, str(e.get("uscc") or ""))
    if pid is None or eid is None:
        return {"status": "unknown_person" if pid is None else "unknown_employer"}
    wage, year = e.get("wage_fen"), e.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise InputError("year: an integer", field=f"message.events[{i}].year")
    d = declarations.declare_wage(conn, p.actor(), person_id=pid, employer_id=eid, year=year,
                                  wage_fen=wage, source=f"partner:{p.code}")
    return {"status": "applied", "base_fen": d.base_fen}


def _hukou_move(conn, p: Partner, e: dict, i: int) -> dict:
    pid = _person_id(conn, e, i)
    if pid is None:
        return {"status": "unknown_person"}
    to = e.get("hukou_region")
    try:
        regions.parent(to)
    except (ValueError, TypeError):
        raise InputError("hukou_region: a GB/T 2260 code", field=f"message.events[{i}].hukou_region")
    on = model.event_date(e, "moved_on", i)
    registry_service.change_person(conn, p.actor(), pid, {"hukou_region": to},
                                   reason=f"hukou move notified by {p.code}", valid_from=on,
                                   source=f"partner:{p.code}")
    outbound.publish(conn, "hukou_move", to, {"citizen_id": e["citizen_id"].strip().upper(),
                                              "hukou_region": to, "moved_on": on.isoformat()},
                     exclude_partner=p.id)
    return {"status": "applied"}


def _birth(conn, p: Partner, e: dict, i: int) -> dict:
    """A birth (public security's hukou registration): the child enters the registry, where
    the resident schemes find it; a child already registered is left as it is."""
    if _person_id(conn, e, i) is not None:
        return {"status": "already_recorded"}
    hukou = e.get("hukou_region")
    try:
        regions.parent(hukou)
    except (ValueError, TypeError):
        raise InputError("hukou_region: a GB/T 2260 code", field=f"message.events[{i}].hukou_region")
    name = e.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("name is required", field=f"message.events[{i}].name")
    registry_service.register_person(conn, p.actor(), citizen_id=e["citizen_id"].strip(),
                                     name=name.strip(), hukou_region=hukou,
                                     residence_region=hukou, source=f"partner:{p.code}",
                                     reason=f"birth notified by {p.code}")
    return {"status": "applied"}


def _transfer(conn, p: Partner, e: dict, i: int) -> dict:
    """A transfer message of the platform from another installation is done by mobility
    (``mobility_link.receive_event``); any other (another system's letter) is kept in the
    exchange for a clerk (``queries.inbox``)."""
    if mobility_link.is_platform_message(e):
        return mobility_link.receive_event(conn, p, e)
    return {"status": "recorded"}


EVENTS = {"death": _death, "wage": _wage, "hukou_move": _hukou_move, "birth": _birth,
          "transfer": _transfer}


def notify(conn, p: Partner, msg: dict) -> Outcome:
    ref = model.reference_id(msg)
    purpose, legal, consent = model.basis(msg)
    et, events = model.events_of(msg, p.scopes)
    results = []
    for i, e in enumerate(events):
        try:
            with transaction(conn) as sp:
                r = EVENTS[et](sp, p, e, i)
        except ShebaoError as exc:
            r = {"status": "rejected", "reason": getattr(exc, "reason", None) or str(exc)}
        results.append({"index": i, **r})
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return Outcome(f"notify:{et}", {"reference_id": ref, "status": "succ", "event_type": et,
                                    "results": results},
                   purpose, legal, consent, detail={"event_type": et, "counts": counts,
                                                    "received": dt.datetime.now(
                                                        dt.timezone.utc).isoformat()})


HANDLERS = {"search": search, "subscribe": subscribe, "unsubscribe": unsubscribe,
            "notify": notify}
