"""Staffing from workload: the cases each outlet handled in a period (``cases.queries.on_time``)
× each catalogue item's standard minutes → required posts, against the casework staff
assigned (``model.staffing`` has the arithmetic)."""
from __future__ import annotations

import datetime as dt

from shebao.cases import catalogue
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.workdays import working_days_between
from shebao.db.uow import reading
from shebao.rules import load_rules
from shebao.security import policy

from . import model, queries


def staffing_report(bind, actor: Actor, region: str, date_from: dt.date,
                    date_to: dt.date) -> dict:
    """Required vs actual posts per outlet of ``region``: the cases opened in
    [date_from, date_to] and decided, against the working days of the period; the parameters
    used are returned with their references."""
    policy.require(actor, "org.read")
    policy.require_region(actor, region)
    if date_to < date_from:
        raise InputError("the period ends before it starts", field="date_to")
    rules = load_rules()
    per_day = rules.lookup("org.staffing.productive_minutes_per_day", region, date_to)
    classes = rules.value("org.staffing.casework_classes", region, date_to)["classes"]
    cal = catalogue.calendar(region, date_to, rules)
    days = working_days_between(date_from - dt.timedelta(days=1), date_to, cal)
    minutes = {it.code: int(it.standard_minutes or 0)
               for it in catalogue.items(region, date_to, rules)}
    with reading(bind) as conn:
        rows = case_queries.on_time(conn, date_from, date_to, region=region)
        actual = queries.actual_fte_pct(conn, date_to, classes, scope=region)
    loads = [model.Workload(r.outlet, r.item, r.decided, minutes.get(r.item, 0))
             for r in rows if r.decided]
    result = model.staffing(loads, actual, int(per_day.value), days)
    return {"region": region, "from": date_from.isoformat(), "to": date_to.isoformat(),
            "working_days": days, "minutes_per_day": int(per_day.value),
            "casework_classes": list(classes),
            "reference": per_day.reference,
            "outlets": [o.as_json() for o in result]}
