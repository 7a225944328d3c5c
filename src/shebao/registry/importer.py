"""Bulk import: ``shebao import persons|employers|employment|hukou FILE [--dry-run]``.

One function per kind; each validates every row first (collecting every problem with row,
column, value and reason), then — unless it is a dry run, which writes nothing at all —
writes the valid rows in one transaction with one audit record, and writes the rejected rows
with their reasons to ``<input>.errors.csv`` beside the input (the input is never touched).

Idempotent: a row equal to what is stored is counted ``unchanged``; importing the same file
twice changes nothing. A person row whose citizen ID is registered with the same identity
(name, sex, birth date) but other contact data opens a new version (``updated``); a different
name for a registered ID is refused (a correction needs a clerk and a reason). New persons are
checked against the existing population by the dedup model before they are written: a probable
duplicate (≥ upper threshold) is rejected naming the existing record; a possible one (between
the thresholds) is written and queued for review.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.ids import mask_id, parse_citizen_id, parse_uscc
from shebao.core.money import to_fen
from shebao.security import audit

from . import bulk, model
from .fileio import Problem, Sheet, parse_date_cell, read_sheet, write_error_file
from .service import (_division, allowed_float_tiers, end_open_activity, now,
                      _apply_person_change)
from .tables import employer, employment, enrolment, hukou_mismatch, person, person_version

PERSON_ALIASES = {
    "citizen_id": "citizen_id", "id_number": "citizen_id", "ssn": "citizen_id",
    "身份证号": "citizen_id", "身份证号码": "citizen_id", "公民身份号码": "citizen_id",
    "社会保障号码": "citizen_id",
    "name": "name", "姓名": "name",
    "sex": "sex", "gender": "sex", "性别": "sex",
    "birth_date": "birth_date", "出生日期": "birth_date",
    "hukou_region": "hukou_region", "户籍地": "hukou_region", "户籍区划": "hukou_region",
    "residence_region": "residence_region", "居住地": "residence_region",
    "phone": "phone", "mobile": "phone", "手机": "phone", "手机号": "phone", "联系电话": "phone",
    "address": "address", "地址": "address", "联系地址": "address",
    "notify_channels": "notify_channels", "通知方式": "notify_channels",
    "bank_name": "bank_name", "开户行": "bank_name", "开户银行": "bank_name",
    "bank_account": "bank_account", "银行账号": "bank_account",
}
EMPLOYER_ALIASES = {
    "uscc": "uscc", "统一社会信用代码": "uscc", "name": "name", "单位名称": "name",
    "region": "region", "所在区划": "region", "industry": "industry",
    "industry_code": "industry", "行业代码": "industry", "float_tier": "float_tier",
    "浮动费率": "float_tier", "bank_name": "bank_name", "开户行": "bank_name",
    "bank_account": "bank_account", "银行账号": "bank_account",
}
EMPLOYMENT_ALIASES = {
    "citizen_id": "citizen_id", "身份证号": "citizen_id", "uscc": "uscc",
    "统一社会信用代码": "uscc", "start_date": "start_date", "入职日期": "start_date",
    "end_date": "end_date", "离职日期": "end_date", "leave_reason": "leave_reason",
    "离职原因": "leave_reason", "involuntary": "involuntary", "非本人意愿": "involuntary",
    "wage": "wage", "上年月平均工资": "wage", "wage_year": "wage_year", "工资年度": "wage_year",
    "enrol": "enrol", "参保": "enrol",
}
HUKOU_ALIASES = {
    "citizen_id": "citizen_id", "身份证号": "citizen_id", "公民身份号码": "citizen_id",
    "name": "name", "姓名": "name", "sex": "sex", "性别": "sex", "birth_date": "birth_date",
    "出生日期": "birth_date", "hukou_region": "hukou_region", "户籍地": "hukou_region",
    "death_date": "death_date", "死亡日期": "death_date",
}
_SEX = {"m": "M", "f": "F", "男": "M", "女": "F", "1": "M", "2": "F", "male": "M",
        "female": "F"}
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"0", "false", "no", "n", "否"}


@dataclass
class ImportResult:
    kind: str
    file: str
    encoding: str
    dry_run: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    queued_for_review: int = 0
    problems: list[Problem] = field(default_factory=list)
    error_file: str | None = None
    run_id: int | None = None
    mismatches: list[dict] = field(default_factory=list)
    deaths: int = 0

    def as_json(self) -> dict:
        return {"kind": self.kind, "file": self.file, "encoding": self.encoding,
                "dry_run": self.dry_run, "rows": self.rows, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "queued_for_review": self.queued_for_review,
                "deaths_recorded": self.deaths, "mismatches": self.mismatches,
                "error_file": self.error_file, "run_id": self.run_id,
                "problems": [p.as_json() for p in self.problems]}


class _Rows:
    """Iterate a sheet's records with their file row numbers, collecting problems."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.problems: list[Problem] = []
        self.bad_rows: set[int] = set()

    def __iter__(self):
        overlong = self.sheet.extra.get("overlong", set())
        for rn, rec in zip(self.sheet.row_numbers, self.sheet.records()):
            if rn in overlong:
                self.add(rn, "*", "", "more cells than the header has columns")
                continue
            yield rn, rec

    def add(self, rn: int, column: str, value, reason: str) -> None:
        self.problems.append(Problem(rn, column, value, reason))
        self.bad_rows.add(rn)


def _date(rows: _Rows, rn, rec, col, required=False):
    v = rec.get(col)
    if v is None:
        if required:
            rows.add(rn, col, v, "is required")
        return None
    try:
        d = parse_date_cell(v)
    except ValueError as exc:
        rows.add(rn, col, v, str(exc))
        return None
    if d > dt.date.today() + dt.timedelta(days=366) or d.year < 1900:
        rows.add(rn, col, v, "impossible date")
        return None
    return d


def _finish(conn, actor, result: ImportResult, sheet: Sheet, rows: _Rows, run_id: int,
            action: str) -> None:
    result.problems = sorted(rows.problems, key=lambda p: p.row)
    result.rejected = len(rows.bad_rows)
    err = write_error_file(sheet, result.problems)
    result.error_file = str(err) if err else None
    result.run_id = run_id
    bulk.finish_run(conn, run_id, rows=result.rows, inserted=result.inserted,
                    updated=result.updated, unchanged=result.unchanged,
                    rejected=result.rejected, error_file=result.error_file)
    audit.record(conn, actor, action, "import_run", run_id,
                 detail={"file": sheet.path.name, "sha256": sheet.sha256,
                         "encoding": sheet.encoding, "rows": result.rows,
                         "inserted": result.inserted, "updated": result.updated,
                         "unchanged": result.unchanged, "rejected": result.rejected,
                         "queued_for_review": result.queued_for_review,
                         "deaths": result.deaths})


# --------------------------------------------------------------------------- persons

class _Cid:
    __slots__ = ("normalized", "error", "birth_date", "sex", "valid")

    def __init__(self, normalized, error, birth_date, sex):
        self.normalized, self.error, self.birth_date, self.sex = normalized, error, birth_date, sex
        self.valid = normalized is not None


def _person_record(rows: _Rows, rn: int, rec: dict) -> dict | None:
    n_before = len(rows.problems)
    cid = _Cid(*model.fast_citizen_id(rec.get("citizen_id")))
    if rec.get("citizen_id") is None:
        rows.add(rn, "citizen_id", None, "is required")
    elif not cid.valid:
        rows.add(rn, "citizen_id", rec["citizen_id"], f"invalid citizen ID: {cid.error}")
    name = (rec.get("name") or "").strip()
    if not name:
        rows.add(rn, "name", rec.get("name"), "is required")
    elif len(name) > 64:
        rows.add(rn, "name", name, "longer than 64 characters")
    sex = None
    if rec.get("sex") is not None:
        sex = _SEX.get(rec["sex"].strip().lower())
        if sex is None:
            rows.add(rn, "sex", rec["sex"], "must be M/F (男/女)")
        elif cid.valid and sex != cid.sex:
            rows.add(rn, "sex", rec["sex"], f"disagrees with the citizen ID ({cid.sex})")
    birth = _date(rows, rn, rec, "birth_date")
    if birth is not None and cid.valid and birth != cid.birth_date:
        rows.add(rn, "birth_date", rec["birth_date"],
                 f"disagrees with the citizen ID ({cid.birth_date})")
    out = {"citizen_id": cid.normalized, "name": name, "sex": cid.sex,
           "birth_date": cid.birth_date}
    for col in ("hukou_region", "residence_region"):
        v = rec.get(col)
        if v is not None and not model.valid_region(v):
            rows.add(rn, col, v, "not a six-digit GB/T 2260 region code")
        out[col] = v
    phone = model.normalize_phone(rec.get("phone"))
    if not model.valid_phone(phone):
        rows.add(rn, "phone", rec.get("phone"), "not a mainland mobile number (1[3-9] + 9 digits)")
    out["phone"] = phone
    out["address"] = (rec.get("address") or None) and rec["address"][:200]
    acct = (rec.get("bank_account") or "").replace(" ", "") or None
    if not model.valid_bank_account(acct):
        rows.add(rn, "bank_account", rec.get("bank_account"), "must be 12–30 digits")
    out["bank_account"] = acct
    out["bank_name"] = rec.get("bank_name")
    ch = rec.get("notify_channels")
    if ch:
        chans = [c.strip().lower() for c in ch.replace("，", ",").split(",") if c.strip()]
        bad = [c for c in chans if c not in model.NOTIFY_CHANNELS]
        if bad:
            rows.add(rn, "notify_channels", ch, f"unknown channel(s) {bad}")
        ch = ",".join(chans)
    out["notify_channels"] = ch or None
    return out if len(rows.problems) == n_before else None


CONTACT_FIELDS = ("hukou_region", "residence_region", "phone", "address", "notify_channels",
                  "bank_name", "bank_account")


def import_persons(engine, actor: Actor, path, *, dry_run: bool = False,
                   check_duplicates: bool = True) -> ImportResult:
    """Import persons from CSV/XLSX (columns: see PERSON_ALIASES; citizen_id and name
    required). See the module docstring for the rules."""
    sheet = read_sheet(path, PERSON_ALIASES, {"citizen_id", "name"},
                       numeric_unsafe={"citizen_id", "bank_account"})
    res = ImportResult("persons", str(sheet.path), sheet.encoding, dry_run, rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for rn, rec in rows:
        r = _person_record(rows, rn, rec)
        if r is None:
            continue
        if r["citizen_id"] in seen:
            rows.add(rn, "citizen_id", r["citizen_id"], f"repeats row {seen[r['citizen_id']]}")
            continue
        seen[r["citizen_id"]] = rn
        recs.append((rn, r))
    today = dt.date.today()
    source = f"import:{sheet.path.name}"
    with engine.begin() as conn:
        existing = bulk.fetch_by_keys(conn, person, "citizen_id", (r["citizen_id"]
                                                                  for _, r in recs))
        new, changes = [], []
        for rn, r in recs:
            cur = existing.get(r["citizen_id"])
            if cur is None:
                new.append((rn, r))
                continue
            if cur["status"] == "merged":
                rows.add(rn, "citizen_id", mask_id(r["citizen_id"]),
                         f"this ID was merged into person #{cur['merged_into']}; import onto "
                         f"the surviving record")
                continue
            if cur["name"] != r["name"]:
                rows.add(rn, "name", r["name"],
                         f"citizen ID is registered under another name ({cur['name']}); a "
                         f"name correction needs a clerk and a reason")
                continue
            diff = {k: r[k] for k in CONTACT_FIELDS if r[k] is not None and r[k] != cur[k]}
            if diff:
                changes.append((cur, diff))
            else:
                res.unchanged += 1
        review: list[tuple[str, int, float, float, str]] = []
        if check_duplicates and new:
            from .dedup import check_against_registry

            verdicts = check_against_registry(conn, [r for _, r in new], today)
            kept = []
            for (rn, r), v in zip(new, verdicts):
                if v is not None and v.decision == "duplicate":
                    rows.add(rn, "*", mask_id(r["citizen_id"]),
                             f"probable duplicate of registered person #{v.person_id} "
                             f"(match probability {v.probability:.4f}); not imported — "
                             f"check with the holder of that record")
                    continue
                if v is not None and v.decision == "review":
                    review.append((r["citizen_id"], v.person_id, v.probability, v.weight,
                                   v.detail))
                kept.append((rn, r))
            new = kept
        res.inserted, res.updated = len(new), len(changes)
        res.queued_for_review = len(review)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "persons", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        ids = bulk.insert_persons(conn, actor, run_id, [r for _, r in new], source=source,
                                  valid_from=today, reason="bulk import")
        bulk.update_persons(conn, actor, run_id, changes, source=source, valid_from=today,
                            reason="bulk import: contact data changed")
        if review:
            from .dedup import queue_pairs

            queue_pairs(conn, [(ids[c], pid, p, w, d) for c, pid, p, w, d in review],
                        found_by=f"import:{run_id}")
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.persons")
    return res


# --------------------------------------------------------------------------- employers

def import_employers(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Import employers (uscc, name, region, industry required; float_tier as a multiplier
    such as 1.2 or a percent such as 120; risk class from the industry via the rules)."""
    sheet = read_sheet(path, EMPLOYER_ALIASES, {"uscc", "name", "region", "industry"},
                       numeric_unsafe={"uscc", "bank_account"})
    res = ImportResult("employers", str(sheet.path), sheet.encoding, dry_run,
                       rows=len(sheet.rows))
    rows = _Rows(sheet)
    today = dt.date.today()
    from shebao.rules.loader import load_rules

    rules = load_rules()
    recs, seen = [], {}
    for rn, rec in rows:
        n0 = len(rows.problems)
        cc = parse_uscc(rec.get("uscc"))
        if not cc.valid:
            rows.add(rn, "uscc", rec.get("uscc"), f"invalid unified social credit code: "
                     f"{cc.error}")
        name = (rec.get("name") or "").strip()
        if not name:
            rows.add(rn, "name", rec.get("name"), "is required")
        region = rec.get("region")
        if not model.valid_region(region) or region is None:
            rows.add(rn, "region", region, "not a six-digit GB/T 2260 region code")
            region = None
        rc = None
        if region is not None:
            table = rules.value("registry.industry_risk_class", region, today)
            div = _division(rec.get("industry"))
            rc = table.get(div)
            if rc is None:
                rows.add(rn, "industry", rec.get("industry"),
                         "not a GB/T 4754-2011 industry division (two digits 01–96)")
        tier = 100
        if rec.get("float_tier"):
            try:
                d = Decimal(rec["float_tier"].strip().rstrip("%"))
                tier_d = d * 100 if d < 10 else d
                if tier_d != tier_d.to_integral_value():
                    raise InvalidOperation
                tier = int(tier_d)
            except InvalidOperation:
                rows.add(rn, "float_tier", rec["float_tier"], "not a multiplier like 1.2")
                tier = None
        if rc is not None and tier is not None:
            allowed = allowed_float_tiers(int(rc), region, today)
            if tier not in allowed:
                rows.add(rn, "float_tier", rec.get("float_tier"),
                         f"tier {tier}% not allowed for risk class {rc} (allowed {allowed})")
        acct = (rec.get("bank_account") or "").replace(" ", "") or None
        if not model.valid_bank_account(acct):
            rows.add(rn, "bank_account", rec.get("bank_account"), "must be 12–30 digits")
        if len(rows.problems) > n0:
            continue
        if cc.normalized in seen:
            rows.add(rn, "uscc", cc.normalized, f"repeats row {seen[cc.normalized]}")
            continue
        seen[cc.normalized] = rn
        recs.append((rn, {"uscc": cc.normalized, "name": name, "region": region,
                          "industry_code": _division(rec.get("industry")),
                          "risk_class": int(rc), "float_tier_pct": tier,
                          "bank_name": rec.get("bank_name"), "bank_account": acct,
                          "status": "active"}))
    source = f"import:{sheet.path.name}"
    with engine.begin() as conn:
        existing = bulk.fetch_by_keys(conn, employer, "uscc", (r["uscc"] for _, r in recs))
        new, changes = [], []
        for rn, r in recs:
            cur = existing.get(r["uscc"])
            if cur is None:
                new.append(r)
                continue
            diff = {k: v for k, v in r.items() if k != "uscc" and k != "status"
                    and v is not None and cur[k] != v}
            if diff:
                changes.append((cur, diff))
            else:
                res.unchanged += 1
        res.inserted, res.updated = len(new), len(changes)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "employers", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        bulk.insert_employers(conn, actor, run_id, new, source=source, valid_from=today,
                              reason="bulk import")
        bulk.update_employers(conn, actor, run_id, changes, source=source, valid_from=today,
                              reason="bulk import: employer data changed")
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.employers")
    return res


# --------------------------------------------------------------------------- employment

def _resolve_person_ids(conn, cids) -> dict[str, dict]:
    """citizen_id → current person row (following merges to the survivor)."""
    found = bulk.fetch_by_keys(conn, person, "citizen_id", cids)
    survivors = {r["merged_into"] for r in found.values() if r["status"] == "merged"}
    if survivors:
        by_id = {}
        ids = list(survivors)
        for i in range(0, len(ids), 900):
            for r in conn.execute(select(person).where(person.c.id.in_(ids[i:i + 900]))
                                  ).mappings():
                by_id[r["id"]] = dict(r)
        for k, r in list(found.items()):
            if r["status"] == "merged" and r["merged_into"] in by_id:
                found[k] = by_id[r["merged_into"]]
    return found


def _intervals_for(conn, table, person_ids, extra_cols):
    out: dict = {}
    ids = list(person_ids)
    cols = [table.c.id, table.c.person_id, table.c.start_date, table.c.end_date,
            *[table.c[c] for c in extra_cols]]
    for i in range(0, len(ids), 900):
        for r in conn.execute(select(*cols).where(table.c.person_id.in_(ids[i:i + 900]))):
            out.setdefault((r.person_id, *[getattr(r, c) for c in extra_cols]), []).append(
                (r.id, model.Interval(r.start_date, r.end_date), r))
    return out


def import_employment(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Import employment spells (citizen_id, uscc, start_date required; end_date,
    leave_reason, involuntary, wage in yuan = declared average monthly wage of the previous
    year, wage_year, enrol = yes/no). Unless ``enrol`` is no, each spell enrols the person as
    an employee in the five employee schemes in the employer's region. An open spell in the
    registry that the file now ends is ended (with its enrolments)."""
    sheet = read_sheet(path, EMPLOYMENT_ALIASES, {"citizen_id", "uscc", "start_date"},
                       numeric_unsafe={"citizen_id", "uscc"})
    res = ImportResult("employment", str(sheet.path), sheet.encoding, dry_run,
                       rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs = []
    for rn, rec in rows:
        n0 = len(rows.problems)
        cid = parse_citizen_id(rec.get("citizen_id"))
        if not cid.valid:
            rows.add(rn, "citizen_id", rec.get("citizen_id"), f"invalid citizen ID: {cid.error}")
        cc = parse_uscc(rec.get("uscc"))
        if not cc.valid:
            rows.add(rn, "uscc", rec.get("uscc"), f"invalid credit code: {cc.error}")
        start = _date(rows, rn, rec, "start_date", required=True)
        end = _date(rows, rn, rec, "end_date")
        if start and end and end < start:
            rows.add(rn, "end_date", rec["end_date"], f"before the start date {start}")
        reason = rec.get("leave_reason")
        if reason is not None and reason not in model.LEAVE_REASONS:
            rows.add(rn, "leave_reason", reason, f"must be one of {sorted(model.LEAVE_REASONS)}")
        if reason is not None and end is None:
            rows.add(rn, "leave_reason", reason, "given without an end date")
        invol = None
        if rec.get("involuntary") is not None:
            v = rec["involuntary"].strip().lower()
            if v in _TRUE:
                invol = True
            elif v in _FALSE:
                invol = False
            else:
                rows.add(rn, "involuntary", rec["involuntary"], "must be yes/no")
        elif reason is not None:
            invol = model.LEAVE_REASONS.get(reason)
        wage_fen = None
        if rec.get("wage") is not None:
            try:
                wage_fen = to_fen(rec["wage"].replace(",", ""))
                if wage_fen < 0:
                    raise ValueError
            except (ValueError, TypeError):
                rows.add(rn, "wage", rec["wage"], "not a non-negative amount in yuan (8000.00)")
        wage_year = None
        if rec.get("wage_year") is not None:
            if not rec["wage_year"].isdigit() or not 1990 <= int(rec["wage_year"]) <= 2100:
                rows.add(rn, "wage_year", rec["wage_year"], "not a year")
            else:
                wage_year = int(rec["wage_year"])
        enrol_flag = True
        if rec.get("enrol") is not None:
            v = rec["enrol"].strip().lower()
            if v not in _TRUE | _FALSE:
                rows.add(rn, "enrol", rec["enrol"], "must be yes/no")
            enrol_flag = v in _TRUE
        if len(rows.problems) == n0:
            recs.append((rn, dict(citizen_id=cid.normalized, uscc=cc.normalized, start=start,
                                  end=end, leave_reason=reason, involuntary=invol,
                                  wage_fen=wage_fen, wage_year=wage_year, enrol=enrol_flag)))
    source = f"import:{sheet.path.name}"
    t = now()
    with engine.begin() as conn:
        persons = _resolve_person_ids(conn, (r["citizen_id"] for _, r in recs))
        employers = bulk.fetch_by_keys(conn, employer, "uscc", (r["uscc"] for _, r in recs))
        pids = {p["id"] for p in persons.values()}
        spells = _intervals_for(conn, employment, pids, ["employer_id"])
        enrols = _intervals_for(conn, enrolment, pids, ["scheme"])
        new_spells, new_enrols, ends = [], [], []
        for rn, r in recs:
            p = persons.get(r["citizen_id"])
            if p is None:
                rows.add(rn, "citizen_id", mask_id(r["citizen_id"]), "person not registered "
                         "(import persons first)")
                continue
            e = employers.get(r["uscc"])
            if e is None:
                rows.add(rn, "uscc", r["uscc"], "employer not registered (import employers "
                         "first)")
                continue
            if p["status"] in ("deceased",) and (r["start"] > p["death_date"]):
                rows.add(rn, "start_date", r["start"],
                         f"starts after the person's death on {p['death_date']}")
                continue
            key = (p["id"], e["id"])
            same = [x for x in spells.get(key, []) if x[1].start == r["start"]]
            if same:
                sid, iv, _ = same[0]
                if iv.end == r["end"]:
                    res.unchanged += 1
                elif iv.end is None and r["end"] is not None:
                    ends.append((rn, sid, r))
                else:
                    rows.add(rn, "end_date", r["end"], f"spell #{sid} from {iv.start} is "
                             f"recorded with end {iv.end or 'open'}; a correction needs a "
                             f"clerk")
                continue
            new_iv = model.Interval(r["start"], r["end"])
            clash = [x for x in spells.get(key, []) if x[1].overlaps(new_iv)]
            if clash:
                rows.add(rn, "start_date", r["start"], f"overlaps spell #{clash[0][0]} with "
                         f"the same employer ({clash[0][1].start}–{clash[0][1].end or 'open'})")
                continue
            enr_rows = []
            if r["enrol"]:
                bad = None
                for scheme in model.EMPLOYEE_SCHEMES:
                    c = [x for x in enrols.get((p["id"], scheme), []) if x[1].overlaps(new_iv)]
                    if c:
                        bad = (scheme, c[0])
                        break
                if bad:
                    rows.add(rn, "start_date", r["start"],
                             f"the {bad[0]} enrolment it opens would overlap enrolment "
                             f"#{bad[1][0]} ({bad[1][1].start}–{bad[1][1].end or 'open'}); "
                             f"end that one first")
                    continue
                for scheme in model.EMPLOYEE_SCHEMES:
                    enrols.setdefault((p["id"], scheme), []).append((-rn, new_iv, None))
                    enr_rows.append(scheme)
            spells.setdefault(key, []).append((-rn, new_iv, None))
            new_spells.append((rn, p, e, r, enr_rows))
        res.inserted, res.updated = len(new_spells), len(ends)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "employment", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        bulk.bulk_insert(conn, employment, [dict(
            person_id=p["id"], origin_person_id=p["id"], employer_id=e["id"],
            start_date=r["start"], end_date=r["end"], leave_reason=r["leave_reason"],
            involuntary=r["involuntary"], wage_fen=r["wage_fen"], wage_year=r["wage_year"],
            source=source, import_run_id=run_id, created_at=t, created_by=actor.id,
            ended_at=t if r["end"] else None, ended_by=actor.id if r["end"] else None)
            for _, p, e, r, _ in new_spells])
        sid_of = {(x.person_id, x.employer_id, x.start_date): x.id for x in conn.execute(
            select(employment.c.id, employment.c.person_id, employment.c.employer_id,
                   employment.c.start_date).where(employment.c.import_run_id == run_id))}
        for _, p, e, r, schemes in new_spells:
            sid = sid_of[(p["id"], e["id"], r["start"])]
            for scheme in schemes:
                new_enrols.append(dict(
                    person_id=p["id"], origin_person_id=p["id"], scheme=scheme,
                    region=e["region"], kind="employee", employer_id=e["id"],
                    employment_id=sid, start_date=r["start"], end_date=r["end"],
                    status="active" if r["end"] is None else "ended",
                    end_reason=(f"employment ended: {r['leave_reason'] or 'other'}"
                                if r["end"] else None),
                    source=source, import_run_id=run_id, created_at=t, created_by=actor.id))
        bulk.bulk_insert(conn, enrolment, new_enrols)
        for rn, sid, r in ends:
            conn.execute(update(employment).where(employment.c.id == sid).values(
                end_date=r["end"], leave_reason=r["leave_reason"] or "other",
                involuntary=r["involuntary"] if r["involuntary"] is not None else False,
                ended_at=t, ended_by=actor.id))
            conn.execute(update(enrolment).where(and_(
                enrolment.c.employment_id == sid, enrolment.c.end_date.is_(None))).values(
                end_date=r["end"], status="ended",
                end_reason=f"employment ended: {r['leave_reason'] or 'other'}", ended_at=t,
                ended_by=actor.id))
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.employment")
    return res


# --------------------------------------------------------------------------- hukou

def import_hukou(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Cross-check an extract of the public-security household registry (citizen_id, name,
    sex, birth_date, hukou_region, death_date). Mismatches (name, sex, birth date, hukou
    region, not registered) are reported and stored in ``hukou_mismatch``; they never
    overwrite the registry. A death date marks the person deceased from that date (open
    spells and enrolments end on it), with the extract recorded as the source."""
    sheet = read_sheet(path, HUKOU_ALIASES, {"citizen_id"}, numeric_unsafe={"citizen_id"})
    res = ImportResult("hukou", str(sheet.path), sheet.encoding, dry_run, rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs = []
    for rn, rec in rows:
        cid = parse_citizen_id(rec.get("citizen_id"))
        if not cid.valid:
            rows.add(rn, "citizen_id", rec.get("citizen_id"), f"invalid citizen ID: {cid.error}")
            continue
        birth = _date(rows, rn, rec, "birth_date")
        death = _date(rows, rn, rec, "death_date")
        sex = None
        if rec.get("sex") is not None:
            sex = _SEX.get(rec["sex"].strip().lower())
            if sex is None:
                rows.add(rn, "sex", rec["sex"], "must be M/F (男/女)")
                continue
        if death is not None and death > dt.date.today():
            rows.add(rn, "death_date", rec["death_date"], "in the future")
            continue
        region = rec.get("hukou_region")
        if region is not None and not model.valid_region(region):
            rows.add(rn, "hukou_region", region, "not a six-digit GB/T 2260 region code")
            continue
        recs.append((rn, cid.normalized, (rec.get("name") or "").strip() or None, sex, birth,
                     region, death))
    mism: list[dict] = []
    deaths = []
    with engine.begin() as conn:
        found = bulk.fetch_by_keys(conn, person, "citizen_id", (r[1] for r in recs))
        for rn, cid, name, sex, birth, region, death in recs:
            p = found.get(cid)
            if p is None:
                mism.append(dict(row=rn, citizen_id=cid, person_id=None, field="not_registered",
                                 registry_value=None, hukou_value=name))
                continue
            if p["status"] == "merged":
                p = conn.execute(select(person).where(person.c.id == p["merged_into"])
                                 ).mappings().first() or p
            for fld, hv, rv in (("name", name, p["name"]), ("sex", sex, p["sex"]),
                                ("birth_date", birth, p["birth_date"]),
                                ("hukou_region", region, p["hukou_region"])):
                if hv is not None and hv != rv:
                    mism.append(dict(row=rn, citizen_id=cid, person_id=p["id"], field=fld,
                                     registry_value=None if rv is None else str(rv),
                                     hukou_value=str(hv)))
            if death is not None:
                if p["status"] == "deceased" and p["death_date"] == death:
                    res.unchanged += 1
                elif p["birth_date"] and death < p["birth_date"]:
                    rows.add(rn, "death_date", death, "before the birth date")
                else:
                    deaths.append((rn, p, death))
            else:
                res.unchanged += 1
        res.mismatches = [{k: (mask_id(v) if k == "citizen_id" else v) for k, v in m.items()}
                          for m in mism]
        res.deaths = len(deaths)
        res.updated = len(deaths)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "hukou", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        source = f"hukou:{sheet.path.name}"
        for rn, p, death in deaths:
            cur = conn.execute(select(person).where(person.c.id == p["id"])).mappings().one()
            vf = conn.execute(select(person_version.c.valid_from).where(and_(
                person_version.c.person_id == p["id"],
                person_version.c.version == cur["version"]))).scalar_one()
            _apply_person_change(conn, actor, dict(cur), {"status": "deceased",
                                                          "status_date": death,
                                                          "death_date": death},
                                 max(death, vf), "death reported by the household registry",
                                 source, run_id)
            ended = end_open_activity(conn, actor, p["id"], death, "death")
            audit.record(conn, actor, "registry.person.death", "person", p["id"],
                         fields=["status", "death_date"], purpose="household-registry extract",
                         detail={"death_date": death, "source": source, **ended})
        bulk.bulk_insert(conn, hukou_mismatch, [{**m, "import_run_id": run_id} for m in mism],
                         columns=["import_run_id", "row", "citizen_id", "person_id", "field",
                                  "registry_value", "hukou_value"])
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.hukou")
    return res
