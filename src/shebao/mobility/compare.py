"""Policy comparison between regions: every parameter in force on a date, side by side, with
where each value comes from (the region itself or inherited) and its legal reference
(``shebao compare --regions 310000,110000 --date 2025-07-01``)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from shebao.core.errors import InputError, RuleError
from shebao.core.regions import check_region
from shebao.rules import load_rules


def _show(v) -> str:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, default=str, sort_keys=True)
    return str(v)


def compare(regions: list[str], on: dt.date, *, prefix: str = "", only_different: bool = False,
            rules=None) -> list[dict]:
    """One row per parameter: name, unit, and per region {value, from, since, reference}
    (None where nothing is in force); ``differs`` when the regions' values are not all equal.
    The service catalogue and the calendars are left out unless ``prefix`` asks for them."""
    if len(regions) < 2:
        raise InputError("give at least two regions to compare", field="regions")
    for r in regions:
        check_region(r, "regions")
    rules = rules or load_rules()
    rows = []
    for name in rules.names(prefix):
        if not prefix and name.startswith(("service.items.", "calendar.")):
            continue
        per = {}
        for r in regions:
            try:
                res = rules.lookup(name, r, on)
            except RuleError:
                per[r] = None
                continue
            per[r] = {"value": _show(res.value), "from": res.region_from,
                      "since": res.effective_from.isoformat(), "reference": res.reference}
        if all(v is None for v in per.values()):
            continue
        values = {None if v is None else v["value"] for v in per.values()}
        row = {"name": name, "unit": rules.parameter(name).unit, "differs": len(values) > 1,
               "regions": per}
        if row["differs"] or not only_different:
            rows.append(row)
    return rows


def as_text(rows: list[dict], regions: list[str], width: int = 28) -> str:
    """A plain table: name, unit, one column per region (value and [inherited-from]), then the
    references in a second line per parameter."""
    head = f"{'parameter':<44} {'unit':<12} " + " ".join(f"{r:<{width}}" for r in regions)
    out = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for r in regions:
            v = row["regions"][r]
            cell = "—" if v is None else (v["value"] if v["from"] == r
                                          else f"{v['value']} [{v['from']}]")
            cells.append(f"{cell[:width]:<{width}}")
        mark = "*" if row["differs"] else " "
        out.append(f"{mark}{row['name'][:43]:<43} {row['unit'][:12]:<12} " + " ".join(cells))
        refs = sorted({v["reference"] for v in row["regions"].values() if v})
        out.append(f"  ↳ {' | '.join(refs)}")
    out.append(f"{sum(r['differs'] for r in rows)} of {len(rows)} parameters differ (*)")
    return "\n".join(out)
