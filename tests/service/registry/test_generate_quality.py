"""The synthetic region, and the data quality report over it."""
import datetime as dt

from sqlalchemy import func, select

from shebao.core.actor import SYSTEM
from shebao.registry import bulk, service as s
from shebao.devtools.generate_region import generate_region
from shebao.registry.quality import report
from shebao.registry.tables import employer, employment, enrolment, person


def test_generated_region_is_plausible_and_consistent(engine):
    res = generate_region(engine, SYSTEM, people=600, employers=30, region="310000", seed=3,
                          duplicate_share=0.02)
    assert (res.persons, res.duplicates, res.employers) == (612, 12, 30)
    with engine.connect() as c:
        kinds = dict(c.execute(select(enrolment.c.kind, func.count()).group_by(
            enrolment.c.kind)).all())
        wages = c.execute(select(employment.c.wage_fen).where(
            employment.c.end_date.is_(None))).scalars().all()
        classes = set(c.execute(select(employer.c.risk_class)).scalars())
        accts = c.execute(select(func.count()).select_from(employer).where(
            employer.c.bank_account.is_(None))).scalar()
        regions = set(c.execute(select(person.c.residence_region)).scalars())
        dead_open = c.execute(select(func.count()).select_from(enrolment).join(
            person, person.c.id == enrolment.c.person_id).where(
            person.c.status == "deceased", enrolment.c.end_date.is_(None))).scalar()
    assert set(kinds) == {"employee", "flexible", "resident", "student"}
    assert wages and all(isinstance(w, int) and 200_000 <= w <= 20_000_000 for w in wages)
    assert len(classes) >= 3 and accts == 0
    assert all(r.startswith("31") for r in regions)
    assert dead_open == 0


def test_quality_report_counts_and_masks(engine):
    a = s.register_person(engine, SYSTEM, citizen_id="310104198001010017", name="张伟",
                          hukou_region="310104", residence_region="310104")
    with engine.begin() as c:
        run = bulk.new_run(c, SYSTEM, "legacy", "legacy", "0" * 64, None)
        ids = bulk.insert_persons(c, SYSTEM, run, [
            dict(citizen_id="310104198001010010", name="张伟", sex="M",       # bad check char
                 birth_date=dt.date(1980, 1, 1), status="active"),
            dict(citizen_id="310104198505050020", name="李娜", sex="M",       # sex ≠ ID
                 birth_date=dt.date(1985, 5, 6), hukou_region="310104",      # birth ≠ ID
                 residence_region="310104", status="active"),
        ], source="legacy", valid_from=dt.date(2010, 1, 1), reason="migration")
    li = ids["310104198505050020"]
    s.enrol(engine, SYSTEM, a, "resident_medical", "310104", "resident", dt.date(2020, 1, 1))
    s.enrol(engine, SYSTEM, li, "resident_medical", "310104", "resident", dt.date(2020, 1, 1))
    s.record_death(engine, SYSTEM, li, dt.date(2023, 1, 1), source="test")
    with engine.begin() as c:   # legacy overlap and post-death activity, loaded as they came
        for start, end in ((dt.date(2019, 1, 1), dt.date(2020, 6, 30)),
                           (dt.date(2023, 3, 1), None)):
            c.execute(enrolment.insert().values(
                person_id=li, origin_person_id=li, scheme="resident_pension", region="310104",
                kind="resident", start_date=start, end_date=end,
                status="active" if end is None else "ended", source="legacy",
                created_at=s.now(), created_by="legacy"))
        c.execute(enrolment.insert().values(
            person_id=a, origin_person_id=a, scheme="resident_medical", region="310104",
            kind="resident", start_date=dt.date(2018, 1, 1), end_date=dt.date(2020, 6, 30),
            status="ended", source="legacy", created_at=s.now(), created_by="legacy"))
    rep = report(engine, SYSTEM)
    ch = rep["checks"]
    assert rep["persons"] == 3
    assert ch["invalid_citizen_id"]["count"] == 1
    assert ch["invalid_citizen_id"]["samples"][0]["citizen_id"] == "310104********0010"
    assert ch["id_birth_date_mismatch"]["count"] == 1
    assert ch["id_sex_mismatch"]["count"] == 1
    assert ch["missing_hukou_region"]["count"] == 1
    assert ch["overlapping_enrolments"]["count"] == 1
    assert ch["overlapping_enrolments"]["samples"][0]["person_id"] == a
    assert ch["deceased_open_enrolments"]["count"] == 1
    assert ch["suspected_duplicates"]["same_pinyin_and_birth_date_groups"] == 1
