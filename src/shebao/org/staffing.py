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


def _field(row, key, default=None):
    return row.get(key, default) if isinstance(row, dict) else getattr(row, key, default)


def staffing_report(bind, actor: Actor, region: str, date_from: dt.date,
                    date_to: dt.date) -> dict:
    """Required vs actual posts per outlet of ``region`` for cases decided in
    [date_from, date_to]; the parameters used are returned with their references."""
    policy.require(actor, "org.read")
    policy.require_region(actor, region)
    if date_to < date_from:
        raise InputError("the period ends before it starts", field="date_to")
    rules = load_rules()
    per_day = rules.lookup("org.staffing.productive_minutes_per_day", region, date_to)
    classes = rules.value("org.staffing.casework_classes", region, date_to)["classes"]
    cal = catalogue.calendar(rules, region, date_from.year, date_to.year)
    days = working_days_between(date_from - dt.timedelta(days=1), date_to, cal)
    minutes = {it.code: int(it.standard_minutes or 0)
               for it in catalogue.items(rules, region, date_to)}
    with reading(bind) as conn:
        rows = case_queries.on_time(conn, date_from, date_to, region=region)
        actual = queries.actual_fte_pct(conn, date_to, classes, scope=region)
    loads = [model.Workload(_field(r, "outlet"), _field(r, "item"),
                            int(_field(r, "decided", 0) or 0),
                            minutes.get(_field(r, "item"), 0))
             for r in rows if int(_field(r, "decided", 0) or 0)]
    result = model.staffing(loads, actual, int(per_day.value), days)
    return {"region": region, "from": date_from.isoformat(), "to": date_to.isoformat(),
            "working_days": days, "minutes_per_day": int(per_day.value),
            "casework_classes": list(classes),
            "reference": per_day.reference,
            "outlets": [o.as_json() for o in result]}
