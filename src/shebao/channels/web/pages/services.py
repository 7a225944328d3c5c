"""Citizen applications online and the yearly personal rights statement (权益记录单).

``/me/apply`` lists the catalogue items in force in the citizen's region that a person may
apply for online (``service.items.*`` with channel ``online`` and subject ``person``) and
the citizen's own applications; applying opens the case through ``shebao.cases`` (channel
online, due date from the item's limit) with the documents uploaded, in one transaction.
``/me/rights-statement`` is the yearly statement: the year's contribution months with their
bases and shares, the months to date, the individual-account balances at the year's end; as
a page and as PDF.
"""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shebao.cases import catalogue, queries as case_queries, service as cases
from shebao.collection.queries import contributions_of
from shebao.core.errors import InputError
from shebao.core.ids import mask_id
from shebao.core.money import fen_to_yuan_str
from shebao.registry import queries as reg_queries
from shebao.security.service import User

from .. import i18n
from ..deps import engine
from ..render import render
from .common import citizen_user, redirect
from .record import statements

router = APIRouter(include_in_schema=False)
NAV = {"citizen": [("/me/apply", "Apply online", 20, None),
                   ("/me/rights-statement", "Rights statement", 30, None)]}
MAX_FILES = 8


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def _region(user: User) -> str:
    return user.scope


def online_items(user: User, on: dt.date | None = None):
    return [it for it in catalogue.items(_region(user), on or _today(), channel="online")
            if it.subject == "person"]


def _services_page(request: Request, eng, user: User, *, errors=None, opened=None,
                   code: int = 200):
    lang = i18n.pick(request.cookies.get("lang"))
    items = online_items(user)
    names = {it.code: (it.name_zh if lang == "zh_CN" else it.name_en) for it in items}
    mine = case_queries.list_cases(eng, person_id=user.person_id, limit=100)
    mine.sort(key=lambda c: c.id, reverse=True)
    return render(request, "citizen/apply.html", {
        "user": user, "items": items, "names": names, "cases": mine, "errors": errors or {},
        "opened": opened}, status=code)


@router.get("/me/apply")
def services(request: Request, opened: int | None = None,
             user: User = Depends(citizen_user), eng=Depends(engine)):
    return _services_page(request, eng, user, opened=opened)


@router.post("/me/apply/{code}")
async def apply(code: str, request: Request, user: User = Depends(citizen_user),
                eng=Depends(engine)):
    if code not in {it.code for it in online_items(user)}:
        return _services_page(request, eng, user, code=422, errors={
            "_form": InputError("this service cannot be applied for online",
                                field="item").reason})
    data = await request.form()
    files = [(k[len("doc_"):], v) for k, v in data.multi_items()
             if k.startswith("doc_") and hasattr(v, "filename") and v.filename][:MAX_FILES]
    note = (data.get("note") or "").strip()[:500]
    actor = user.actor()
    try:
        with eng.begin() as conn:
            cid = cases.open_case(conn, actor, item=code, region=_region(user),
                                  subject_type="person", subject_id=user.person_id,
                                  person_id=user.person_id, channel="online",
                                  detail={"note": note} if note else None)
            for kind, f in files:
                cases.attach(conn, actor, cid, kind=kind, filename=f.filename,
                             content=await f.read(),
                             content_type=f.content_type or "application/octet-stream")
    except InputError as exc:
        return _services_page(request, eng, user, code=422,
                              errors={"_form": f"{exc.field or ''}: {exc.reason}".lstrip(": ")})
    return redirect(request, f"/me/apply?opened={cid}")


# ------------------------------------------------------------------ the rights statement
def rights_statement(eng, user: User, year: int) -> dict:
    """The year's record of the signed-in citizen (access checked and audited by the
    registry and the ledger)."""
    if not 1990 <= year <= _today().year:
        raise InputError("year out of range", field="year", value=year)
    actor = user.actor()
    d = reg_queries.person_detail(eng, actor, user.person_id,
                                  purpose="citizen portal: rights statement")
    sts = statements(eng, actor, user.person_id, purpose="citizen portal: rights statement")
    rows = contributions_of(eng, user.person_id, limit=1200)
    months = sorted((r for r in rows if r["month"].startswith(f"{year}-")),
                    key=lambda r: r["month"])
    to_date = {r["month"] for r in rows if r["month"] <= f"{year}-12"}
    end = dt.date(year, 12, 31)
    balances = {}
    for scheme, st in sts.items():
        bal = 0
        for ln in st.lines:
            if ln.effective_date <= end:
                bal = ln.balance
        balances[scheme] = bal
    return {"person": d["person"], "year": year, "months": months,
            "months_in_year": len({r["month"] for r in months}),
            "months_to_date": len(to_date), "balances": balances}


def _year(request: Request, year: int | None) -> int:
    return year if year is not None else _today().year - 1


@router.get("/me/rights-statement")
def rights_page(request: Request, year: int | None = None, user: User = Depends(citizen_user),
                eng=Depends(engine)):
    y = _year(request, year)
    return render(request, "citizen/rights.html", {
        "user": user, "s": rights_statement(eng, user, y), "today": _today(),
        "years": list(range(_today().year - 1, _today().year - 11, -1))})


@router.get("/me/rights-statement/{year}.pdf")
def rights_pdf(year: int, request: Request, user: User = Depends(citizen_user),
               eng=Depends(engine)):
    from shebao.channels.pdf import text_pdf

    s = rights_statement(eng, user, year)
    lang = i18n.pick(request.cookies.get("lang"))
    _ = i18n.translations(lang).gettext
    fmt = i18n.Fmt(lang)
    p = s["person"]
    title = f"{_('Personal rights statement')} {year} · {p['name']} · {mask_id(p['citizen_id'])}"
    header = [_("Month"), _("Region"), _("Base"), _("Employee share"), _("Employer share")]
    rows = [[r["month"], r["region"], r["base"], r["employee"], r["employer"]]
            for r in s["months"]]
    bal = "; ".join(f"{_(k)} {fmt.money(v)}" for k, v in sorted(s["balances"].items()))
    footer = (f"{_('Months contributed in the year')}: {s['months_in_year']}    "
              f"{_('Months to date')}: {s['months_to_date']}    "
              f"{_('Account balance at the end of the year')}: {bal or fen_to_yuan_str(0)}")
    pdf = text_pdf(title, header, rows, footer)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="rights-statement-{year}.pdf"'})
