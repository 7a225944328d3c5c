"""Collection pages: the month dashboard (staff), declarations and bills (employer), the
declarations on a person's page."""
from __future__ import annotations

import base64
import datetime as dt
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request

from shebao.collection import queries as coll_q
from shebao.registry import access, queries
from shebao.collection import bills, declarations
from shebao.core import regions
from shebao.core.errors import InputError, InvariantError, PermissionDenied
from shebao.core.money import to_fen
from shebao.core.periods import month_str, parse_month
from shebao.security import policy
from shebao.security.service import User

from .. import i18n
from ..deps import engine
from ..render import render
from .common import RecordId, employer_user, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/collection", "Collection", 40, "collection.read")],
       "employer": [("/employer/declare", "Declare bases", 20, None),
                    ("/employer/bills", "Bills", 30, None)]}
_WAGE = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")     # ASCII digits only, as core.money


# ---------------------------------------------------------------- staff dashboard

@router.get("/staff/collection")
def dashboard(request: Request, region: str = "", month: str = "",
              user: User = Depends(user_with("collection.read")), eng=Depends(engine)):
    errors, d, chart, code = {}, None, None, 200
    region = region.strip() or user.scope
    # the dashboard is per district: a city/province/national code gets a choice instead
    choices = _district_choices(region, user.scope)
    if choices:
        region = ""
    values = {"region": region, "month": month}
    if choices:
        pass
    elif region:
        try:
            m = parse_month(month) if month else coll_q.latest_month(eng, region)
        except (ValueError, OverflowError) as exc:
            errors["month"] = str(exc)
            m = None
        if m is None and not errors:
            errors["month"] = "no bills in this region yet; give a month YYYY-MM"
        if not errors:
            values["month"] = month_str(m)
            try:
                d = coll_q.dashboard(eng, user.actor(), region, m)
            except InputError as exc:
                errors[exc.field or "region"] = exc.reason
            except PermissionDenied as exc:
                errors["region"] = str(exc)
                code = 403
            if d and d["by_scheme"]:
                tr = i18n.translations(i18n.pick(request.cookies.get("lang"))).gettext
                labels = {k: tr(k) for k in list(d["by_scheme"]) + ["assessed", "billed",
                                                                      "collected"]}
                chart = base64.b64encode(chart_svg(d["by_scheme"], labels).encode()).decode()
    else:
        errors["region"] = "a six-digit region code"
    return render(request, "staff/collection.html", {
        "user": user, "d": d, "chart": chart, "errors": errors if region or month else {},
        "values": values, "choices": choices}, status=code if code != 200 else
        422 if errors and (region or month) else 200)


def _district_choices(region: str, scope: str) -> list[tuple[str, str]]:
    """(code, name) to pick from when ``region`` is above district level: the provinces for
    ``national``, else the current districts under it; only those in ``scope``."""
    if region == regions.NATIONAL:
        codes = [c for c in regions.all_known_codes(current_only=True) if c.endswith("0000")]
    elif regions.is_region_code(region) and region.endswith("00"):
        codes = [c for c in regions.county_codes() if regions.within(c, region)]
    else:
        return []
    return [(c, regions.name(c) or c) for c in sorted(codes) if regions.within(c, scope)]


def chart_svg(by_scheme: dict[str, dict], labels: dict[str, str]) -> str:
    """Grouped bars per scheme (assessed / billed / collected), as an SVG string."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    have = {f.name for f in font_manager.fontManager.ttflist}
    fam = [f for f in ("WenQuanYi Micro Hei", "Noto Sans CJK SC") if f in have] + ["DejaVu Sans"]
    schemes = list(by_scheme)
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.add_subplot()
    width = 0.27
    for i, (k, color) in enumerate((("assessed", "#5b6773"), ("billed", "#d9822b"),
                                    ("collected", "#1b7a3d"))):
        vals = [by_scheme[s][k] / 100 for s in schemes]
        ax.bar([x + (i - 1) * width for x in range(len(schemes))], vals, width,
               label=labels.get(k, k), color=color)
    ax.set_xticks(range(len(schemes)), [labels.get(s, s) for s in schemes], fontfamily=fam)
    ax.legend(prop={"family": fam})
    ax.set_ylabel("¥", fontfamily=fam)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def person_section(eng, actor, person_id: int) -> dict | None:
    if not policy.has(actor, "collection.read") and actor.role not in ("benefits_clerk",):
        return None
    rows = declarations.declarations(eng, actor, person_id)
    return {"template": "staff/_declarations.html", "declarations": rows,
            "contributions": coll_q.contributions_of(eng, person_id)}


# ---------------------------------------------------------------- employer

@router.get("/employer/declare")
def declare_form(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    return _declare(request, user, eng, {}, {"year": str(dt.date.today().year)})


def _declare(request, user, eng, errors, values, status=200, done=None, report=None):
    staff, _ = queries.employees(eng, user.actor(), user.employer_id, limit=200, after=None,
                               current_only=True, purpose="employer portal: declaration form")
    return render(request, "employer/declare.html", {
        "user": user, "staff": staff, "errors": errors, "values": values, "done": done,
        "report": report}, status=status)


@router.post("/employer/declare")
async def declare(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    f = await request.form()
    values = {k: (f.get(k) or "").strip() for k in ("person_id", "year", "wage")}
    errors = {}
    year = _year(values["year"], errors)
    if not values["person_id"].isdigit():
        errors["person_id"] = "choose an employee"
    if not _WAGE.match(values["wage"]):
        errors["wage"] = "an amount in yuan, e.g. 8500 or 8500.50"
    if errors:
        return _declare(request, user, eng, errors, values, status=422)
    pid = int(values["person_id"])
    try:
        with eng.connect() as conn:
            access.check_person(conn, user.actor(), pid)
        done = declarations.declare_wage(eng, user.actor(), person_id=pid, employer_id=user.employer_id,
                                 year=year, wage_fen=to_fen(values["wage"]), source="web")
    except (InputError, InvariantError) as exc:
        fld = {"wage": "wage", "year": "year"}.get(getattr(exc, "field", None), "person_id")
        return _declare(request, user, eng, {fld: getattr(exc, "reason", str(exc))}, values,
                        status=422)
    return _declare(request, user, eng, {}, values, done=done.as_dict())


@router.post("/employer/declare/upload")
async def declare_upload(request: Request, user: User = Depends(employer_user),
                         eng=Depends(engine)):
    f = await request.form()
    dry = f.get("dry_run") is not None
    values = {"year": (f.get("year") or "").strip(), "dry_run": dry}
    errors = {}
    year = _year(values["year"], errors, key="upload_year")
    upload = f.get("file")
    data = await upload.read() if hasattr(upload, "read") else b""
    name = Path(getattr(upload, "filename", "") or "").name
    if not data:
        errors["file"] = "choose a CSV file: citizen_id,uscc,wage"
    elif len(data) > 10 * 1024 * 1024:
        errors["file"] = "at most 10 MiB"
    if errors:
        return _declare(request, user, eng, errors, values, status=422)
    tmp = Path(tempfile.mkdtemp(prefix="shebao-decl-"))
    path = tmp / (name or "declarations.csv")
    path.write_bytes(data)
    try:
        firm = queries.employer_detail(eng, user.actor(), user.employer_id)
        _only_own_rows(path, firm["uscc"])
        report = declarations.upload_declarations(eng, user.actor(), path, year=year,
                                          dry_run=dry).as_dict()
    except InputError as exc:
        return _declare(request, user, eng, {"file": str(exc).replace(str(path), name)}, values,
                        status=422)
    report["file"] = name
    return _declare(request, user, eng, {}, values, report=report)


def _only_own_rows(path: Path, uscc: str) -> None:
    """An employer's file may name only the employer itself."""
    import csv
    import io
    text = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            rows = list(csv.DictReader(io.StringIO(text.decode(enc))))
            break
        except (UnicodeDecodeError, csv.Error):
            rows = []
    for i, r in enumerate(rows, start=2):
        if (r.get("uscc") or "").strip().upper() not in ("", uscc):
            raise InputError(f"row {i} names another employer ({r.get('uscc')}); upload only "
                             f"your own employees", field="file")


def _year(text: str, errors: dict, key: str = "year") -> int | None:
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        errors[key] = "a year, e.g. 2025"
        return None
    return int(text)


@router.get("/employer/bills")
def bills(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    items, _ = coll_q.bills_of_employer(eng, user.actor(), user.employer_id, limit=120, after=None)
    return render(request, "employer/bills.html", {"user": user, "bills": items})


@router.get("/employer/bills/{bill_id}")
def bill_view(request: Request, bill_id: RecordId, user: User = Depends(employer_user),
              eng=Depends(engine)):
    b = coll_q.bill_detail(eng, user.actor(), bill_id)
    return render(request, "employer/bill.html", {"user": user, "b": b})
