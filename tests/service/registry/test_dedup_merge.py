"""Duplicates: dedup run merges the sure pairs and queues the doubtful; a merge keeps both
records, a merged ID finds the survivor, and the merge can be undone; imports are checked
against the registry before they write."""
import datetime as dt

from sqlalchemy import func, select

from shebao.core.actor import SYSTEM, Actor
from shebao.registry import queries as registry_queries
from shebao.registry import bulk, dedup, importer, merge, service as s
from shebao.registry.tables import dedup_candidate, enrolment, person, person_merge

CLERK = Actor(id="clerk-9", role="collection_clerk")
A_ID = "310104198001010017"
A_TYPO = "310104198010010017"   # legacy copy: two digits of the birth month/day transposed
                                # (invalid check character, as every single typo is)


def _legacy(engine, rows):
    """Load legacy records as they came (bypassing validation), like a migration would."""
    with engine.begin() as c:
        run = bulk.new_run(c, SYSTEM, "legacy", "legacy.dbf", "0" * 64, None)
        return bulk.insert_persons(c, SYSTEM, run, rows, source="legacy", valid_from=dt.date(
            2010, 1, 1), reason="migration")


def _setup(engine):
    a = s.register_person(engine, CLERK, citizen_id=A_ID, name="张伟", hukou_region="310104",
                          residence_region="310104", phone="13800138001",
                          address="上海市徐汇区漕溪北路1号")
    ids = _legacy(engine, [
        dict(citizen_id=A_TYPO, name="章伟", sex="M", birth_date=dt.date(1980, 1, 1),
             hukou_region="310104", residence_region="310104", phone="13800138001",
             address="上海市徐汇区漕溪北路1号", status="active"),
        # another 张伟 born the same day, next door, but with his own valid ID: doubtful
        dict(citizen_id="310110198001010014", name="张伟", sex="M",
             birth_date=dt.date(1980, 1, 1), hukou_region="310104",
             address="上海市徐汇区漕溪北路1号302室", residence_region="310110",
             status="active"),
        dict(citizen_id="440524188001010014", name="李娜", sex="M",
             birth_date=dt.date(1880, 1, 1), hukou_region="440524", status="deceased"),
    ])
    b = ids[A_TYPO]
    s.enrol(engine, CLERK, b, "resident_medical", "310104", "resident", dt.date(2015, 1, 1))
    return a, b, ids["310110198001010014"]


def test_run_merges_sure_pairs_queues_doubtful_and_undo_restores(engine):
    a, b, c = _setup(engine)
    res = dedup.run(engine, CLERK)
    assert res.persons == 4 and res.merged == 1 and res.queued == 1
    with engine.connect() as conn:
        cand = conn.execute(select(dedup_candidate)).mappings().all()
        moved = conn.execute(select(enrolment.c.person_id, enrolment.c.origin_person_id)).one()
    assert [(x["person_a"], x["person_b"], x["status"]) for x in cand] == [(a, c, "pending")]
    lower, upper = dedup.thresholds()
    # A~C scores in between, and B~C (above the upper threshold) is held back: a cluster never
    # joins two valid citizen IDs (A's and C's) without a clerk
    assert lower <= cand[0]["match_probability"]
    assert tuple(moved) == (a, b)                  # enrolment now on the survivor, origin kept
    found = s.find_person(engine, CLERK, A_TYPO, purpose="benefit check")
    assert found["id"] == a and found["merged_ids"] == [A_TYPO]
    with engine.connect() as conn:                 # the CLI's lookup follows the merge too
        assert registry_queries.person_id_of(conn, A_TYPO) == a
    with engine.connect() as conn:
        gone = conn.execute(select(person).where(person.c.id == b)).mappings().one()
        mid = conn.execute(select(person_merge.c.id)).scalar()
    assert (gone["status"], gone["merged_into"], gone["name"]) == ("merged", a, "章伟")
    # a second run changes nothing: merged records are out, the queued pair stays queued
    again = dedup.run(engine, CLERK)
    assert (again.merged, again.queued) == (0, 0)
    merge.undo_merge(engine, CLERK, mid, reason="different people after all")
    with engine.connect() as conn:
        back = conn.execute(select(person).where(person.c.id == b)).mappings().one()
        owner = conn.execute(select(enrolment.c.person_id)).scalar()
        status = conn.execute(select(dedup_candidate.c.status).where(
            dedup_candidate.c.person_b == b)).scalar()
    assert (back["status"], back["merged_into"], owner) == ("active", None, b)
    assert s.find_person(engine, CLERK, A_TYPO, purpose="x")["id"] == b
    assert s.find_person(engine, CLERK, A_ID, purpose="x")["merged_ids"] == []
    assert status == "distinct"


def test_merge_refused_when_enrolments_would_overlap(engine):
    a, b, _ = _setup(engine)
    s.enrol(engine, CLERK, a, "resident_medical", "310104", "resident", dt.date(2016, 1, 1))
    import pytest

    with pytest.raises(merge.MergeRefused, match="overlap"):
        merge.merge_persons(engine, CLERK, a, b, reason="test")
    res = dedup.run(engine, CLERK)
    assert res.merged == 0 and res.merge_refused == 1
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(dedup_candidate).where(
            dedup_candidate.c.status == "pending")).scalar()
    assert n == 2


def test_review_decision_merge_and_distinct(engine):
    a, b, c = _setup(engine)
    dedup.run(engine, CLERK, auto_merge=False)
    q = merge.review_queue(engine, CLERK)
    assert len(q) == 3 and q[0]["match_probability"] >= q[1]["match_probability"]
    assert q[0]["citizen_id_a"].startswith("310104") and "*" in q[0]["citizen_id_a"]
    by_pair = {(r["person_a"], r["person_b"]): r["id"] for r in q}
    mid = merge.decide(engine, CLERK, by_pair[(a, b)], "merge", note="same person", survivor_id=a)
    assert mid is not None
    assert merge.decide(engine, CLERK, by_pair[(a, c)], "distinct", note="other man") is None
    assert merge.review_queue(engine, CLERK) == []      # (b, c) superseded by the merge
    with engine.connect() as conn:
        st = conn.execute(select(dedup_candidate.c.status).where(
            dedup_candidate.c.id == by_pair[(b, c)])).scalar()
    assert st == "superseded"


def test_import_checks_new_rows_against_the_registry(engine, tmp_path):
    _setup(engine)
    f = tmp_path / "new.csv"
    f.write_text(
        "citizen_id,name,phone,address,hukou_region\n"
        # same name, birth date, phone, address as 张伟 but another (valid) ID: a duplicate
        "310104198001010033,张伟,13800138001,上海市徐汇区漕溪北路1号,310104\n"
        "310115199001010010,陈静,13700000001,上海市浦东新区1号,310115\n", encoding="utf-8")
    res = importer.import_persons(engine, SYSTEM, f)
    assert res.inserted == 1 and res.rejected == 1
    assert "probable duplicate of registered person" in res.problems[0].reason
    assert (tmp_path / "new.errors.csv").exists()


def test_undone_merge_is_not_redone_by_the_next_run(engine):
    a, b, _ = _setup(engine)
    dedup.run(engine, CLERK)
    with engine.connect() as conn:
        mid = conn.execute(select(person_merge.c.id)).scalar()
    merge.undo_merge(engine, CLERK, mid, reason="two people")
    dedup.run(engine, CLERK)
    with engine.connect() as conn:
        assert conn.execute(select(person.c.merged_into).where(person.c.id == b)).scalar() != a
        assert conn.execute(select(func.count()).select_from(person_merge).where(
            person_merge.c.survivor_id == a, person_merge.c.undone_at.is_(None))).scalar() == 0
