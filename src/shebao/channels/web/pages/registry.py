"""Registry pages: staff search, person view and registration, employers, bulk import with a
dry run; the citizen's contact details and statements; the employer's employees."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shebao.collection import enrolment  # imports and hires open the accounts (#19)
from shebao.registry import hiring, queries
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.core.money import fen_to_yuan_str
from shebao.registry import model as reg_model
from shebao.security import policy
from shebao.security.service import User

from .. import pagination
from ..api import registry as api_reg
from ..deps import engine
from ..render import render
from . import benefits as benefits_pages
from . import collection as collection_pages
from . import supervision as supervision_pages
from . import medical as medical_pages
from .record import statements
from .common import RecordId, citizen_user, employer_user, form, redirect, user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/persons", "Persons", 10, "person.read"),
                 ("/staff/employers", "Employers", 20, "employer.read"),
                 ("/staff/import", "Import", 30, "registry.import"),
                 ("/staff/employment-requests", "Enrolment requests", 35, "employment.approve")],
       "citizen": [("/me/contact", "Contact details", 70, None),
                   ("/me/employment-requests", "Employers asking to enrol me", 75, None)],
       "employer": [("/employer/employees", "Employees", 10, None)]}

PERSON_FIELDS = ("citizen_id", "name", "pension_region", "residence_region", "hukou_region",
                 "phone", "address")


def _purpose(request: Request, default: str) -> str:
    p = (request.query_params.get("purpose") or "").strip()[:200]
    return p or default


# ---------------------------------------------------------------- staff: persons

PURPOSES = ("counter enquiry", "registration", "contribution query", "benefit claim",
            "inspection", "correction requested by the person")


@router.get("/staff/persons")
def persons(request: Request, q: str = "", cursor: str | None = None, purpose: str = "",
            user: User = Depends(user_with("person.read")), eng=Depends(engine)):
    from urllib.parse import urlencode
    errors, rows, nxt = {}, [], None
    purpose = purpose.strip()[:200]
    try:
        rows, nxt = queries.search_persons(eng, user.actor(), q[:65], limit=50,
                                         after=pagination.decode(cursor),
                                         purpose=purpose or "back-office search")
    except InputError as exc:
        errors[exc.field or "q"] = exc.reason
    next_url = "/staff/persons?" + urlencode({"q": q, "purpose": purpose,
                                              "cursor": pagination.encode(nxt)}) if nxt else None
    return render(request, "staff/persons.html", {
        "user": user, "rows": rows, "q": q, "purpose": purpose, "purposes": PURPOSES,
        "errors": errors, "next_url": next_url}, status=422 if errors else 200)


@router.get("/staff/persons/new")
def person_new(request: Request, user: User = Depends(user_with("person.write"))):
    return render(request, "staff/person_new.html", {
        "user": user, "values": {"pension_region": user.scope if user.scope.isdigit() else ""}})


@router.post("/staff/persons/new")
async def person_create(request: Request, user: User = Depends(user_with("person.write")),
                        eng=Depends(engine)):
    f = await form(request)
    values = {k: f.get(k, "") for k in PERSON_FIELDS}
    data = {k: (v or None) for k, v in values.items()}
    errors, status = {}, 422
    for k in ("citizen_id", "name"):
        if not data[k]:
            errors[k] = "required"
    if not errors:
        try:
            pid = api_reg.register_person(eng, user.actor(), data)
        except InputError as exc:
            errors[exc.field or "_form"] = exc.reason
        except PermissionDenied as exc:
            errors[getattr(exc, "field", None) or "_form"] = str(exc)
            status = 403
        except ConflictError as exc:
            errors["citizen_id"] = str(exc)
        else:
            return redirect(request, f"/staff/persons/{pid}?registered=1")
    return render(request, "staff/person_new.html", {"user": user, "values": values,
                                                     "errors": errors}, status=status)


@router.get("/staff/persons/{person_id}")
def person_view(request: Request, person_id: RecordId,
                user: User = Depends(user_with("person.read")), eng=Depends(engine)):
    actor = user.actor()
    why = _purpose(request, "back-office person view")
    d = queries.person_detail(eng, actor, person_id, purpose=why)
    history = queries.person_history(eng, actor, person_id, purpose=why)
    sts = statements(eng, actor, person_id, purpose=why) \
        if policy.has(actor, "account.read") else {}
    extra = bureau_sections(eng, actor, person_id)
    return render(request, "staff/person.html", {
        "user": user, "d": d, "p": d["person"], "history": history, "statements": sts,
        "extra": extra, "registered": request.query_params.get("registered")})


def bureau_sections(eng, actor, person_id: int) -> list[dict]:
    """Sections contributed by the collection and benefits pages."""
    out = []
    for fn in (collection_pages.person_section, benefits_pages.person_section,
               supervision_pages.person_section, medical_pages.person_section):
        sec = fn(eng, actor, person_id)
        if sec:
            out.append(sec)
    return out


# ---------------------------------------------------------------- staff: employers

@router.get("/staff/employers")
def employers(request: Request, q: str = "", cursor: str | None = None,
              user: User = Depends(user_with("employer.read")), eng=Depends(engine)):
    errors, rows, nxt = {}, [], None
    try:
        rows, nxt = queries.search_employers(eng, user.actor(), q[:121], limit=50,
                                           after=pagination.decode(cursor))
    except InputError as exc:
        errors[exc.field or "q"] = exc.reason
    next_url = f"/staff/employers?q={q}&cursor={pagination.encode(nxt)}" if nxt else None
    return render(request, "staff/employers.html", {"user": user, "rows": rows, "q": q,
                                                    "errors": errors, "next_url": next_url})


@router.get("/staff/employers/{employer_id}")
def employer_view(request: Request, employer_id: RecordId, cursor: str | None = None,
                  user: User = Depends(user_with("employer.read")), eng=Depends(engine)):
    actor = user.actor()
    firm = queries.employer_detail(eng, actor, employer_id)
    staff, nxt = queries.employees(eng, actor, employer_id, limit=100,
                                 after=pagination.decode(cursor),
                                 purpose="back-office employer view")
    return render(request, "staff/employer.html", {
        "user": user, "f": firm, "staff": staff,
        "blacklisted": supervision_pages.employer_flag(eng, employer_id),
        "next_url": f"/staff/employers/{employer_id}?cursor={pagination.encode(nxt)}"
        if nxt else None})


# ---------------------------------------------------------------- staff: bulk import

IMPORT_KINDS = ("persons", "employers", "employment")
MAX_UPLOAD = 20 * 1024 * 1024


@router.get("/staff/import")
def import_form(request: Request, user: User = Depends(user_with("registry.import"))):
    return render(request, "staff/import.html", {"user": user, "kinds": IMPORT_KINDS,
                                                 "values": {"kind": "persons", "dry_run": True}})


@router.post("/staff/import")
async def import_run(request: Request, user: User = Depends(user_with("registry.import")),
                     eng=Depends(engine)):
    from shebao.registry import importer
    f = await request.form()
    kind = str(f.get("kind") or "")
    dry = f.get("dry_run") is not None
    upload = f.get("file")
    values = {"kind": kind, "dry_run": dry}
    errors = {}
    if kind not in IMPORT_KINDS:
        errors["kind"] = f"one of {', '.join(IMPORT_KINDS)}"
    data = await upload.read() if hasattr(upload, "read") else b""
    name = Path(getattr(upload, "filename", "") or "").name
    if not data:
        errors["file"] = "choose a CSV or XLSX file"
    elif len(data) > MAX_UPLOAD:
        errors["file"] = "at most 20 MiB"
    elif not name.lower().endswith((".csv", ".xlsx", ".txt")):
        errors["file"] = "a .csv or .xlsx file"
    result = None
    if not errors:
        fn = {"persons": importer.import_persons, "employers": importer.import_employers,
              "employment": enrolment.import_employment}[kind]
        result, problem = run_upload(fn, eng, user.actor(), name, data, dry)
        if problem:
            errors["file"] = problem
    return render(request, "staff/import.html", {
        "user": user, "kinds": IMPORT_KINDS, "values": values, "errors": errors,
        "result": result}, status=422 if errors else 200)


def run_upload(fn, eng, actor, name: str, data: bytes, dry: bool
               ) -> tuple[dict | None, str | None]:
    """Run an importer on an uploaded file: (result, None) or (None, problem). The importer
    reads a path and writes ``<file>.errors.csv`` beside it, so the upload goes to a private
    temp dir that is removed whatever happens (dry run, refusal, crash); the clerk sees the
    problems on the page, and no message names a server path."""
    tmp = Path(tempfile.mkdtemp(prefix="shebao-import-"))
    try:
        path = tmp / (hashlib.sha256(data).hexdigest()[:12] + "-" + name)
        path.write_bytes(data)
        try:
            result = fn(eng, actor, path, dry_run=dry).as_json()
        except InputError as exc:
            where = ", ".join(([f"row {exc.row}"] if exc.row is not None else [])
                              + ([f"field '{exc.field}'"] if exc.field else []))
            msg = f"{name}: {where + ': ' if where else ''}{exc.reason}"
            return None, msg.replace(str(path), name).replace(str(tmp), "")
        result.update(file=name, error_file=None)
        return result, None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- enrolment requests

@router.get("/staff/employment-requests")
def hire_requests(request: Request, user: User = Depends(user_with("employment.approve")),
                  eng=Depends(engine)):
    return _requests(request, user, eng, "staff/hire_requests.html")


def _requests(request, user, eng, template, errors=None, flash=None, status=200):
    return render(request, template, {
        "user": user, "rows": hiring.pending_requests(eng, user.actor()),
        "errors": errors or {}, "flash": flash}, status=status)


async def _decide(request, user, eng, template, request_id: int, approve: bool):
    f = await form(request)
    try:
        if approve:
            enrolment.confirm_hire(eng, user.actor(), request_id)
        else:
            hiring.refuse_hire(eng, user.actor(), request_id, reason=f.get("reason", ""))
    except (InputError, InvariantError) as exc:
        return _requests(request, user, eng, template,
                         {getattr(exc, "field", None) or "_form":
                          getattr(exc, "reason", str(exc))}, status=422)
    return _requests(request, user, eng, template, flash="✓")


@router.post("/staff/employment-requests/{request_id}/approve")
async def hire_approve(request: Request, request_id: RecordId,
                       user: User = Depends(user_with("employment.approve")),
                       eng=Depends(engine)):
    return await _decide(request, user, eng, "staff/hire_requests.html", request_id, True)


@router.post("/staff/employment-requests/{request_id}/refuse")
async def hire_refuse(request: Request, request_id: RecordId,
                      user: User = Depends(user_with("employment.approve")),
                      eng=Depends(engine)):
    return await _decide(request, user, eng, "staff/hire_requests.html", request_id, False)


@router.get("/me/employment-requests")
def my_requests(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    return _requests(request, user, eng, "citizen/requests.html")


@router.post("/me/employment-requests/{request_id}/confirm")
async def my_confirm(request: Request, request_id: RecordId,
                     user: User = Depends(citizen_user), eng=Depends(engine)):
    return await _decide(request, user, eng, "citizen/requests.html", request_id, True)


@router.post("/me/employment-requests/{request_id}/refuse")
async def my_refuse(request: Request, request_id: RecordId,
                    user: User = Depends(citizen_user), eng=Depends(engine)):
    return await _decide(request, user, eng, "citizen/requests.html", request_id, False)


# ---------------------------------------------------------------- citizen

@router.get("/me/contact")
def contact(request: Request, user: User = Depends(citizen_user), eng=Depends(engine)):
    p = api_reg._self(eng, user.actor(), "contact details")
    return render(request, "citizen/contact.html", {
        "user": user, "channels": reg_model.NOTIFY_CHANNELS,
        "values": {"phone": p["phone"] or "", "address": p["address"] or "",
                   "notify_channels": (p["notify_channels"] or "").split(",")}})


@router.post("/me/contact")
async def contact_save(request: Request, user: User = Depends(citizen_user),
                       eng=Depends(engine)):
    data = await request.form()
    values = {"phone": (data.get("phone") or "").strip(),
              "address": (data.get("address") or "").strip(),
              "notify_channels": [c for c in data.getlist("notify_channels")
                                  if c in reg_model.NOTIFY_CHANNELS]}
    ctx = {"user": user, "channels": reg_model.NOTIFY_CHANNELS, "values": values}
    try:
        api_reg.update_contact(eng, user.actor(), values["phone"], values["address"],
                               values["notify_channels"])
    except (InputError, InvariantError) as exc:
        ctx["errors"] = {getattr(exc, "field", None) or "_form": getattr(exc, "reason", str(exc))}
        return render(request, "citizen/contact.html", ctx, status=422)
    ctx["saved"] = True
    return render(request, "citizen/contact.html", ctx)


def _my_statement(eng, user: User, scheme: str):
    if scheme not in ("pension", "medical"):
        raise InputError("scheme must be pension or medical", field="scheme")
    sts = statements(eng, user.actor(), user.person_id, purpose="citizen portal: statement")
    if scheme not in sts:
        raise InputError("no statement for this scheme", field="scheme")
    from shebao.registry.service import get_person
    person = get_person(eng, user.actor(), user.person_id, purpose="citizen portal: statement")
    return person, sts[scheme]


@router.get("/me/statement/{scheme}.pdf")
def statement_pdf(scheme: str, user: User = Depends(citizen_user), eng=Depends(engine)):
    from shebao.channels.pdf import text_pdf
    from shebao.core.ids import mask_id
    person, st = _my_statement(eng, user, scheme)
    rows = [[ln.effective_date.isoformat(), ln.region, ln.source[:18],
             fen_to_yuan_str(ln.amount), fen_to_yuan_str(ln.balance)] for ln in st.lines]
    pdf = text_pdf(f"个人账户对账单 {scheme} · {person['name']} · {mask_id(person['citizen_id'])}",
                   ["日期 date", "地区 region", "来源 source", "金额 amount", "余额 balance"],
                   rows, f"期末余额 closing balance: {fen_to_yuan_str(st.closing_balance)}  "
                         f"({dt.date.today().isoformat()})")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statement-{scheme}.pdf"'})


@router.get("/me/statement/{scheme}")
def statement(request: Request, scheme: str, user: User = Depends(citizen_user),
              eng=Depends(engine)):
    person, st = _my_statement(eng, user, scheme)
    return render(request, "citizen/statement.html", {
        "user": user, "person": person, "statement": st, "scheme": scheme,
        "today": dt.date.today()})


# ---------------------------------------------------------------- employer

@router.get("/employer/employees")
def employees(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    return _employees(request, user, eng, {}, {})


def _employees(request, user, eng, errors, values, status=200, flash=None, pending=False):
    staff, _ = queries.employees(eng, user.actor(), user.employer_id, limit=200, after=None,
                               purpose="employer portal: employee list")
    return render(request, "employer/employees.html", {
        "user": user, "staff": staff, "errors": errors, "values": values, "flash": flash,
        "pending": pending,
        "reasons": sorted(reg_model.LEAVE_REASONS)}, status=status)


@router.post("/employer/employees")
async def hire(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    f = await form(request)
    values = {k: f.get(k, "") for k in ("citizen_id", "name", "start_date", "monthly_wage")}
    errors = {}
    start = _date(values["start_date"], "start_date", errors)
    if not values["citizen_id"]:
        errors["citizen_id"] = "required"
    wage = values["monthly_wage"] or None
    if wage is not None:
        import re
        if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", wage):
            errors["monthly_wage"] = "an amount in yuan, e.g. 8500 or 8500.50"
    if not errors:
        try:
            row = api_reg.hire(eng, user.actor(), user.employer_id, values["citizen_id"],
                               start, wage, name=values["name"] or None)
        except (InputError, InvariantError, ConflictError) as exc:
            errors[getattr(exc, "field", None) or "_form"] = getattr(exc, "reason", str(exc))
        else:
            if row.get("status") == "pending":
                return _employees(request, user, eng, {}, {}, pending=True)
            return _employees(request, user, eng, {}, {}, flash=f"+ {row['name']}")
    return _employees(request, user, eng, errors, values, status=422)


@router.post("/employer/employees/{employment_id}/end")
async def leave(request: Request, employment_id: RecordId, user: User = Depends(employer_user),
                eng=Depends(engine)):
    f = await form(request)
    errors = {}
    end = _date(f.get("end_date", ""), f"end_date_{employment_id}", errors)
    reason = f.get("leave_reason", "")
    if reason not in reg_model.LEAVE_REASONS:
        errors[f"leave_reason_{employment_id}"] = "choose a reason"
    if not errors:
        try:
            api_reg.end_spell(eng, user.actor(), employment_id, end, reason)
        except (InputError, InvariantError) as exc:
            errors[f"end_date_{employment_id}"] = getattr(exc, "reason", str(exc))
        except PermissionDenied:
            raise
        else:
            return _employees(request, user, eng, {}, {}, flash="✓")
    return _employees(request, user, eng, errors, {}, status=422)


def _date(text: str, field: str, errors: dict):
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[field] = "a date YYYY-MM-DD"
        return None
