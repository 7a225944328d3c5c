"""Bulk import respects the actor's region scope on every row (persons, employers, employment,
hukou; insert and update; dry run too), and audits every changed person one row each."""
import csv
import json

import pytest
from sqlalchemy import select

from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import PermissionDenied
from shebao.core.ids import ric_check_char
from shebao.registry import importer
from shebao.registry.tables import employer, employment, person
from shebao.security import audit
from shebao.security.tables import audit_log

def cid(first17):
    return first17 + ric_check_char(first17)


OUTSIDER = cid("31010119900101001")
NEWCOMER = cid("31010419920202002")
CLERK_XUHUI = Actor(id="clerk-310104", role="collection_clerk", scope="310104")


def write(path, header, *rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def person_row(engine, cid):
    with engine.connect() as c:
        return c.execute(select(person).where(person.c.citizen_id == cid)).mappings().first()


def errors_of(path):
    with (path.parent / (path.stem + ".errors.csv")).open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_clerk_import_of_persons_refuses_out_of_scope_rows_on_insert_and_update(
        engine, fixture_file, tmp_path):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    before = person_row(engine, "310110199003150023")        # 王芳, Yangpu (310110)
    f = write(tmp_path / "u.csv",
              ["citizen_id", "name", "phone", "address", "residence_region"],
              ["310110199003150023", "王芳", "13999999999", "attacker address", "310104"],
              [OUTSIDER, "外区居民", "", "", "310101"],
              ["310104198001010017", "张伟", "13912345678", "", "310101"],
              ["310104198001010017", "张伟", "", "", ""],
              [NEWCOMER, "本区新人", "", "", "310104"])
    dry = importer.import_persons(engine, CLERK_XUHUI, f, dry_run=True)
    assert dry.rejected == 4 and dry.inserted == 1
    assert {p.row for p in dry.problems} == {2, 3, 4, 5}
    res = importer.import_persons(engine, CLERK_XUHUI, f)
    assert (res.inserted, res.updated, res.rejected) == (1, 0, 4)
    after = person_row(engine, "310110199003150023")
    assert dict(after) == dict(before)                       # nothing written for row 2
    assert person_row(engine, OUTSIDER) is None
    assert person_row(engine, "310104198001010017")["residence_region"] == "310104"
    errs = {int(r["row"]): r for r in errors_of(f)}
    assert "outside your scope 310104" in errs[2]["reason"] and errs[2]["column"] == "citizen_id"
    assert errs[3]["column"] == "residence_region" and "310101" in errs[3]["reason"]
    assert errs[4]["column"] == "residence_region"           # moving a person out of scope
    assert "repeats row" in errs[5]["reason"]


def test_clerk_import_of_employers_and_employment_checks_the_employers_region(
        engine, fixture_file, tmp_path):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    res = importer.import_employers(engine, CLERK_XUHUI, fixture_file("employers.csv"))
    assert res.inserted == 1                         # only the 310104 employer
    problems = {p.row: p for p in res.problems}
    assert problems[3].column == "region" and "outside your scope" in problems[3].reason
    importer.import_employers(engine, SYSTEM, fixture_file("employers.csv"))
    # the 310110 employer, now registered: an update by the Xuhui clerk is refused too
    f = write(tmp_path / "e.csv", ["uscc", "name", "region", "industry"],
              ["91110108551385082Q", "改名公司", "310104", "47"])
    upd = importer.import_employers(engine, CLERK_XUHUI, f)
    assert upd.updated == 0 and upd.problems[0].column == "uscc"
    with engine.connect() as c:
        assert c.execute(select(employer.c.name).where(
            employer.c.uscc == "91110108551385082Q")).scalar() == "上海建筑工程有限公司"
    emp = importer.import_employment(engine, CLERK_XUHUI, fixture_file("employment.csv"))
    assert any(p.row == 3 and p.column == "uscc" and "outside your scope" in p.reason
               for p in emp.problems)
    with engine.connect() as c:
        uscc_of = dict(c.execute(select(employer.c.id, employer.c.uscc)).all())
        spells = c.execute(select(employment.c.employer_id)).scalars().all()
    assert spells and {uscc_of[e] for e in spells} == {"91350100M000100Y43"}


def test_clerk_hukou_import_refuses_persons_out_of_scope(engine, fixture_file):
    importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    res = importer.import_hukou(engine, CLERK_XUHUI, fixture_file("hukou.csv"))
    out = {p.row for p in res.problems if "outside your scope" in p.reason}
    assert out == {4, 5}                 # Yangpu and Pudong persons
    assert res.deaths == 0               # the Pudong death is not recorded by this clerk
    assert person_row(engine, "310115197512310032")["status"] == "active"


def test_import_needs_the_import_right(engine, fixture_file):
    with pytest.raises(PermissionDenied):
        importer.import_persons(engine, Actor(id="i", role="inspector", scope="310104"),
                                fixture_file("persons.csv"))


def test_every_imported_person_change_is_audited_with_old_and_new(engine, fixture_file,
                                                                 tmp_path):
    res = importer.import_persons(engine, SYSTEM, fixture_file("persons.csv"))
    zw = person_row(engine, "310104198001010017")
    f = write(tmp_path / "c.csv", ["citizen_id", "name", "phone", "residence_region"],
              ["310104198001010017", "张伟", "13912345678", "310105"])
    upd = importer.import_persons(engine, SYSTEM, f)
    assert upd.updated == 1
    with engine.connect() as c:
        rows = c.execute(select(audit_log).where(
            audit_log.c.subject_type == "person", audit_log.c.subject_id == str(zw["id"]))
            .order_by(audit_log.c.id)).mappings().all()
        created = c.execute(select(audit_log).where(
            audit_log.c.action == "registry.person.import")).mappings().all()
        assert audit.verify(c).ok
    assert len(created) == res.inserted + 1                 # 5 created + 1 updated
    assert [r["action"] for r in rows] == ["registry.person.import"] * 2
    d = json.loads(rows[1]["detail"])
    assert rows[1]["fields"] == "phone,residence_region"
    assert d["old"]["residence_region"] == "310104" and d["new"]["residence_region"] == "310105"
    assert d["new"]["phone"] != "13912345678" and d["new"]["phone"].startswith("139")  # masked
    assert d["import_run_id"] == upd.run_id and len(d["sha256"]) == 64
    assert json.loads(rows[0]["detail"])["change"] == "created"
