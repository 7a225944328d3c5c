"""Bulk import on SQLite and PostgreSQL: dry run, error file, idempotency, encodings, XLSX,
employers, employment spells with enrolments, household-registration cross-check."""
import csv
import datetime as dt

import pytest
from sqlalchemy import func, select

from shebao.core.actor import SYSTEM
from shebao.core.errors import InputError
from shebao.registry import importer
from shebao.registry.tables import (employer, employment, enrolment, hukou_mismatch, person,
                                    person_version)
from shebao.security.tables import audit_log


def count(engine, table, *where):
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_dry_run_reports_every_problem_and_writes_nothing(engine, fixture_file):
    path = fixture_file("persons.csv")
    res = importer.import_persons(engine, SYSTEM, path, dry_run=True)
    assert (res.rows, res.inserted, res.rejected) == (10, 5, 5)
    by_row = {}
    for p in res.problems:
        by_row.setdefault(p.row, set()).add(p.column)
    assert by_row == {7: {"citizen_id"}, 8: {"citizen_id"}, 9: {"name"}, 10: {"sex"},
                      11: {"hukou_region", "phone"}}
    assert "check character" in next(p.reason for p in res.problems if p.row == 7)
    assert count(engine, person) == 0 and count(engine, audit_log) == 0
    assert not (path.parent / "persons.errors.csv").exists()


def test_real_run_writes_valid_rows_and_error_file_and_is_idempotent(engine, fixture_file):
    path = fixture_file("persons.csv")
    original = path.read_bytes()
    res = importer.import_persons(engine, SYSTEM, path)
    assert (res.inserted, res.rejected) == (5, 5)
    assert count(engine, person) == 5 and count(engine, person_version) == 5
    err = path.parent / "persons.errors.csv"
    with err.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rows] == [7, 8, 9, 10, 11]
    assert rows[3]["reason"].startswith("disagrees with the citizen ID")
    assert rows[3]["name"] == "周杰"                 # the original row is kept for the clerk
    assert path.read_bytes() == original            # the input is never touched
    with engine.connect() as c:
        zw = c.execute(select(person).where(person.c.name == "张伟")).mappings().one()
    assert (zw["sex"], zw["birth_date"], zw["source"]) == ("M", dt.date(1980, 1, 1),
                                                         "import:persons.csv")
    again = importer.import_persons(engine, SYSTEM, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert count(engine, person) == 5 and count(engine, person_version) == 5


def test_changed_contact_opens_a_new_version_and_renamed_id_is_refused(engine, tmp_path,
                                                                      fixture_file):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    f = tmp_path / "update.csv"
    f.write_text("身份证号,姓名,手机\n310104198001010017,张伟,13911112222\n"
                 "310104198505050020,李丽,13800138002\n", encoding="utf-8")
    res = importer.import_persons(engine, SYSTEM, f)
    assert (res.updated, res.rejected) == (1, 1)
    assert "registered under another name" in res.problems[0].reason
    with engine.connect() as c:
        vers = c.execute(select(person_version.c.version, person_version.c.phone,
                                person_version.c.valid_to)
                         .join(person, person.c.id == person_version.c.person_id)
                         .where(person.c.citizen_id == "310104198001010017")
                         .order_by(person_version.c.version)).all()
        lina = c.execute(select(person.c.name).where(
            person.c.citizen_id == "310104198505050020")).scalar()
    assert [v.phone for v in vers] == ["13800138001", "13911112222"]
    assert vers[0].valid_to is not None and vers[1].valid_to is None
    assert lina == "李娜"                              # nothing silently changed


def test_gb18030_file_is_detected(engine, fixture_file):
    res = importer.import_persons(engine, SYSTEM, fixture_file("persons_gb18030.csv"))
    assert res.encoding == "gb18030" and res.inserted == 3
    with engine.connect() as c:
        assert set(c.execute(select(person.c.name)).scalars()) == {"张伟", "李娜", "王芳"}


def test_xlsx_import_and_numeric_id_column_refused(engine, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["citizen_id", "name", "phone"])
    ws.append(["310104198001010017", "张伟", "13800138001"])
    good = tmp_path / "p.xlsx"
    wb.save(good)
    assert importer.import_persons(engine, SYSTEM, good).inserted == 1
    ws.append([310104198505050020, "李娜", "13800138002"])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    with pytest.raises(InputError, match="holds numbers, not text"):
        importer.import_persons(engine, SYSTEM, bad)


def test_unknown_column_and_bad_encoding_are_clear_errors(engine, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("citizen_id,name,salary\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown column 'salary'") as exc:
        importer.import_persons(engine, SYSTEM, f)
    assert exc.value.file == str(f)
    g = tmp_path / "y.csv"
    g.write_bytes(b"citizen_id,name\n310104198001010017,\x81\x30\xff\xff\n")
    with pytest.raises(InputError, match="cannot be read as UTF-8 or GB18030"):
        importer.import_persons(engine, SYSTEM, g)


def test_employers_risk_class_from_rules_and_bad_rows(engine, fixture_file):
    res = importer.import_employers(engine, SYSTEM, fixture_file("employers.csv"))
    assert (res.inserted, res.rejected) == (3, 2)
    assert {p.column for p in res.problems} == {"uscc", "industry"}
    with engine.connect() as c:
        got = dict(c.execute(select(employer.c.industry_code, employer.c.risk_class)).all())
        tiers = dict(c.execute(select(employer.c.industry_code, employer.c.float_tier_pct)).all())
    assert got == {"65": 1, "47": 6, "06": 8}
    assert tiers == {"65": 100, "47": 120, "06": 50}
    assert importer.import_employers(engine, SYSTEM,
                                     fixture_file("employers.csv")).unchanged == 3


def test_employment_spells_enrol_and_invariants(engine, fixture_file):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    importer.import_employers(engine, SYSTEM, fixture_file("employers.csv"))
    res = importer.import_employment(engine, SYSTEM, fixture_file("employment.csv"))
    assert (res.inserted, res.rejected) == (3, 3)
    reasons = {p.row: p.reason for p in res.problems}
    assert "before the start date" in reasons[5]
    assert "non-negative amount" in reasons[6]
    assert "overlap" in reasons[7]                  # same employer, overlapping spell
    with engine.connect() as c:
        sp = c.execute(select(employment).order_by(employment.c.start_date)).mappings().all()
        assert [s["wage_fen"] for s in sp] == [900050, 800000, 1200000]
        assert sp[0]["involuntary"] is True and sp[0]["leave_reason"] == "dismissal"
        open_pension = c.execute(select(func.count()).select_from(enrolment).where(
            enrolment.c.scheme == "pension", enrolment.c.end_date.is_(None))).scalar()
    assert open_pension == 2 and count(engine, enrolment) == 15
    again = importer.import_employment(engine, SYSTEM, fixture_file("employment.csv"))
    assert (again.inserted, again.unchanged) == (0, 3)
    assert count(engine, enrolment) == 15


def test_hukou_cross_check_reports_mismatches_and_records_death(engine, fixture_file):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    importer.import_employers(engine, SYSTEM, fixture_file("employers.csv"))
    importer.import_employment(engine, SYSTEM, fixture_file("employment.csv"))
    dry = importer.import_hukou(engine, SYSTEM, fixture_file("hukou.csv"), dry_run=True)
    assert dry.deaths == 1 and count(engine, hukou_mismatch) == 0
    res = importer.import_hukou(engine, SYSTEM, fixture_file("hukou.csv"))
    fields = sorted((m["row"], m["field"]) for m in res.mismatches)
    assert fields == [(3, "name"), (4, "hukou_region"), (6, "not_registered")]
    assert count(engine, hukou_mismatch) == 3
    with engine.connect() as c:
        liu = c.execute(select(person).where(person.c.citizen_id == "310115197512310032")
                        ).mappings().one()
        li = c.execute(select(person.c.name).where(person.c.citizen_id == "310104198505050020")
                       ).scalar()
        ver = c.execute(select(person_version.c.source).where(
            person_version.c.person_id == liu["id"], person_version.c.version == 2)).scalar()
    assert (liu["status"], liu["death_date"]) == ("deceased", dt.date(2025, 3, 1))
    assert ver == "hukou:hukou.csv"
    assert li == "李娜"                              # a mismatch never overwrites
    again = importer.import_hukou(engine, SYSTEM, fixture_file("hukou.csv"))
    assert again.deaths == 0


def test_error_file_neutralises_spreadsheet_formulas(engine, tmp_path):
    # The error file is opened by clerks in a spreadsheet: a name like =HYPERLINK(…) must not
    # become a live formula there (security probe, CSV formula injection).
    path = tmp_path / "evil.csv"
    path.write_text("citizen_id,name,sex,birth_date,hukou_region,residence_region,phone,address,"
                    "bank_account\n"
                    '310104198001010018,"=HYPERLINK(""http://evil.example"",""x"")",男,1980-01-01,'
                    "310104,310104,13800138001,@SUM(A1),\n", encoding="utf-8")
    res = importer.import_persons(engine, SYSTEM, path)
    assert res.rejected == 1
    with (tmp_path / "evil.errors.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[0]["address"] == "'@SUM(A1)"
    assert rows[0]["row"] == "2"
