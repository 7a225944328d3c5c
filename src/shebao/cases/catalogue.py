"""The service catalogue (经办服务事项清单) and the working-day calendar, read from the rules.

Each item is one parameter file ``rules/parameters/service/items/<code>.yaml`` of type record
(so every item is dated, regional and carries its legal reference like any parameter); a region
may override an item (a shorter local limit, an extra channel). The calendar of working days
comes from ``calendar.public_holidays`` and ``calendar.makeup_workdays``.
"""
from __future__ import annotations

import datetime as dt

from shebao.core.errors import InputError, RuleError
from shebao.core.workdays import Calendar
from shebao.rules import load_rules

from .model import ServiceItem

PREFIX = "service.items."
FIELDS = {"name_zh", "name_en", "bureau", "limit", "limit_unit", "channels", "documents",
          "permission", "approval_kind", "subject", "standard_minutes"}
LIMIT_UNITS = ("working_days", "days")
CHANNELS = ("online", "counter", "api", "system")
SUBJECTS = ("person", "employer", "provider", "partner", "region", "staff")


def _item(code: str, resolved) -> ServiceItem:
    v = resolved.value
    missing = FIELDS - set(v)
    unknown = set(v) - FIELDS
    if missing or unknown:
        raise RuleError(f"{PREFIX}{code}: " + "; ".join(
            ([f"missing {', '.join(sorted(missing))}"] if missing else [])
            + ([f"unknown {', '.join(sorted(unknown))}"] if unknown else [])))
    if v["limit_unit"] not in LIMIT_UNITS:
        raise RuleError(f"{PREFIX}{code}: limit_unit must be one of {LIMIT_UNITS}")
    if not set(v["channels"]) <= set(CHANNELS):
        raise RuleError(f"{PREFIX}{code}: channels must be among {CHANNELS}")
    if v["subject"] not in SUBJECTS:
        raise RuleError(f"{PREFIX}{code}: subject must be one of {SUBJECTS}")
    return ServiceItem(
        code=code, name_zh=v["name_zh"], name_en=v["name_en"], bureau=v["bureau"],
        limit=int(v["limit"]), limit_unit=v["limit_unit"], channels=tuple(v["channels"]),
        documents=tuple(v["documents"] or ()), permission=v["permission"],
        approval_kind=v["approval_kind"] or None, subject=v["subject"],
        standard_minutes=int(v["standard_minutes"]), reference=resolved.reference,
        in_force_from=resolved.effective_from)


def item(code: str, region: str, on: dt.date, rules=None) -> ServiceItem:
    """The item as in force in ``region`` on ``on``; InputError for an unknown code."""
    rules = rules or load_rules()
    name = PREFIX + code
    if name not in rules:
        raise InputError(f"no service item {code!r} in the catalogue", field="item", value=code)
    try:
        return _item(code, rules.lookup(name, region, on))
    except RuleError as e:
        raise InputError(f"service item {code!r} is not in force in {region} on {on}: {e}",
                         field="item", value=code) from None


def items(region: str, on: dt.date, rules=None, *, bureau: str | None = None,
          channel: str | None = None) -> list[ServiceItem]:
    """Every item in force in the region on the day (optionally of one bureau / channel)."""
    rules = rules or load_rules()
    out = []
    for name in rules.names(PREFIX):
        if not rules.has(name, region, on):
            continue
        it = _item(name[len(PREFIX):], rules.lookup(name, region, on))
        if (bureau is None or it.bureau == bureau) and (channel is None or channel in it.channels):
            out.append(it)
    return out


def calendar(region: str, on: dt.date, rules=None) -> Calendar:
    """The working-day calendar in force in the region (all years it lists)."""
    rules = rules or load_rules()
    holidays = rules.get("calendar.public_holidays", region, on, {}) or {}
    makeup = rules.get("calendar.makeup_workdays", region, on, {}) or {}
    return Calendar(frozenset(d for days in holidays.values() for d in days),
                    frozenset(d for days in makeup.values() for d in days))
