"""The bulk importer's shared parts: column aliases, the result record, row problems, run
bookkeeping, and the two duties every import kind has — the actor's region scope on every row
(:func:`out_of_scope`) and an audit row per person or employer changed (:func:`audit_changes`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shebao.core.actor import Actor
from shebao.core.ids import mask_id, mask_name
from shebao.security import audit, policy

from . import bulk
from .fileio import Problem, Sheet, parse_date_cell, write_error_file

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




# --------------------------------------------------------------------------- scope and audit

def out_of_scope(actor: Actor, region: str | None) -> str | None:
    """The reason a row touching ``region`` is refused for ``actor``, or None when in scope.
    The row never reaches the database; the reason goes to the error file."""
    if policy.in_region(actor, region):
        return None
    if not region:
        return "no region to check against your scope; not imported"
    return f"region {region} is outside your scope {actor.scope}; not imported"


def require_import(actor: Actor) -> None:
    policy.require(actor, "registry.import")


# person fields whose values the audit detail keeps only masked (the log is permanent and
# readable by inspectors; the version tables hold the clear values)
_MASKED = {"phone": mask_id, "bank_account": mask_id, "address": mask_name, "name": mask_name}


def audit_value(field_name: str, value):
    if value is None:
        return None
    mask = _MASKED.get(field_name)
    return mask(str(value)) if mask else value


def audit_changes(conn, actor: Actor, action: str, subject_type: str, run_id: int,
                  sheet: Sheet, changes: list[tuple[int, dict | None, dict]]) -> int:
    """One audit row per changed subject: ``(subject id, old values or None when created,
    new values)``, with the import run and the file's hash, in one bulk append."""
    base = {"import_run_id": run_id, "file": sheet.path.name, "sha256": sheet.sha256}
    entries = []
    for sid, old, new in changes:
        fields = sorted(k for k, v in new.items() if v is not None or old is not None)
        detail = {**base, "change": "created" if old is None else "updated",
                  "new": {k: audit_value(k, new[k]) for k in fields}}
        if old is not None:
            detail["old"] = {k: audit_value(k, old.get(k)) for k in fields}
        entries.append((sid, fields, detail))
    return audit.record_many(conn, actor, action, subject_type, entries,
                             purpose=f"bulk import run {run_id}")
