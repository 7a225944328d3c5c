"""The batch paths' fast forms agree with the plain ones, on both databases: the assessment's
chunk read (enrolment rows read plainly, packed where the database can, and grouped by numpy)
against a grouping query written here as the reference; the database helpers collection
relies on (id blocks, text COPY, JSON list parameters, driver tuples, local settings); a bill
changed after payment."""
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import text

from shebao.collection import assess as A
from shebao.collection import model
from shebao.registry import queries as registry_queries
from shebao.devtools.synthetic_population import load_population
from shebao.core.periods import month_end
from shebao.db.bulk import fetch_tuples, insert_columns, json_list, json_rows_sql, new_ids
from shebao.db.dialect import pg_settings

REGION = "310104"
JULY = dt.date(2025, 7, 1)


def _oddities(conn, pop) -> None:
    """Turn a clean synthetic population into one with every case the grouping must handle."""
    x = conn.execute
    # spells without a wage; enrolments ended before the month, starting after it, suspended
    x(text("UPDATE employment SET wage_fen = NULL WHERE id % 7 = 0"))
    x(text("UPDATE enrolment SET end_date = :d, status = 'ended' WHERE id % 11 = 0"),
      {"d": dt.date(2025, 6, 30)})
    x(text("UPDATE enrolment SET end_date = :d, status = 'ended' WHERE id % 23 = 0"),
      {"d": dt.date(2025, 7, 15)})
    x(text("UPDATE enrolment SET start_date = :d WHERE id % 13 = 0"), {"d": dt.date(2025, 8, 1)})
    x(text("UPDATE enrolment SET status = 'suspended' WHERE id % 17 = 0"))
    # a scheme the assessment does not know; an enrolment in another region
    x(text("INSERT INTO enrolment (person_id, origin_person_id, scheme, region, kind, "
           "employer_id, employment_id, start_date, end_date, status, source, created_at, "
           "created_by) SELECT person_id, origin_person_id, 'long_term_care', region, kind, "
           "employer_id, employment_id, start_date, NULL, 'active', 'test', created_at, 'test' "
           "FROM enrolment WHERE id % 19 = 0 AND scheme = 'pension'"))
    x(text("UPDATE enrolment SET region = '310101' WHERE id % 29 = 0"))
    # a second employer (its own spell) for some employees; one spell named by an enrolment of
    # another person (outside the chunk of its owner)
    emp2 = x(text("SELECT MAX(id) FROM employer")).scalar_one()
    x(text("INSERT INTO employment (person_id, origin_person_id, employer_id, start_date, "
           "wage_fen, wage_year, source, created_at, created_by) SELECT person_id, "
           "origin_person_id, :e, start_date, 2 * wage_fen, wage_year, 'test', created_at, "
           "'test' FROM employment WHERE id % 5 = 0 AND employer_id <> :e"), {"e": emp2})
    x(text("INSERT INTO enrolment (person_id, origin_person_id, scheme, region, kind, "
           "employer_id, employment_id, start_date, end_date, status, source, created_at, "
           "created_by) SELECT s.person_id, s.origin_person_id, 'medical', :r, 'employee', "
           "s.employer_id, s.id, s.start_date, :end, 'active', 'test', s.created_at, 'test' "
           "FROM employment s WHERE s.employer_id = :e AND s.source = 'test'"),
      {"r": REGION, "e": emp2, "end": dt.date(2025, 12, 31)})
    far = x(text("SELECT MAX(id) FROM employment")).scalar_one()
    x(text("UPDATE enrolment SET employment_id = :s WHERE id = (SELECT MIN(id) FROM "
           "enrolment WHERE kind = 'employee' AND employment_id IS NOT NULL)"), {"s": far})
    # declarations: several per key (the latest effective, then the highest id, wins), one
    # superseded, one from after the month
    for d, k in ((dt.date(2025, 1, 1), 1), (dt.date(2025, 7, 1), 2), (dt.date(2025, 7, 1), 3),
                 (dt.date(2025, 3, 1), 4), (dt.date(2025, 9, 1), 5)):
        x(text("INSERT INTO base_declaration (region, kind, person_id, employer_id, year, "
               "effective_from, wage_fen, base_fen, clamp, reason, source, declared_by, "
               "declared_at, superseded_by) SELECT :r, 'employee', person_id, employer_id, "
               "2025, :d, wage_fen + :k, wage_fen, 0, 'test', 'test', 'test', created_at, "
               "CASE WHEN :k = 3 THEN 1 END FROM employment WHERE id % 3 = 0 "
               "AND wage_fen IS NOT NULL"), {"r": REGION, "d": d, "k": k})
    x(text("INSERT INTO base_declaration (region, kind, person_id, year, effective_from, "
           "chosen_fen, base_fen, clamp, reason, source, declared_by, declared_at) "
           "SELECT region, kind, person_id, 2025, start_date, 800000, 800000, 0, 'test', "
           "'test', 'test', created_at FROM enrolment WHERE kind IN ('flexible', 'resident') "
           "AND scheme IN ('pension', 'resident_pension') AND id % 2 = 0"))


def _plain(conn, sql, p, ncols):
    """The query's rows in its own order, through the driver's tuples."""
    return np.array(conn.execute(text(sql), p).all(), dtype=np.int64).reshape(-1, ncols)


FLAGS = model.COLLECTED_SCHEMES
# the reference: the enrolments in force, grouped per person × kind × employer by SQL
GROUPED_SQL = f"""
SELECT e.person_id, e.k, e.employer_id, COALESCE(s.wage_fen, -1) AS wage,
       {", ".join(f"e.f_{s}" for s in FLAGS)}
FROM (
  SELECT person_id,
         CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END AS k,
         COALESCE(employer_id, 0) AS employer_id,
         MAX(COALESCE(employment_id, 0)) AS employment_id,
         {", ".join(f"MAX(CASE WHEN scheme = '{s}' THEN 1 ELSE 0 END) AS f_{s}" for s in FLAGS)}
  FROM enrolment
  WHERE person_id >= :lo AND person_id < :hi AND region = :r
    AND status IN ('active', 'ended') AND kind IN ('employee', 'flexible', 'resident')
    AND start_date <= :mend AND (end_date IS NULL OR end_date >= :mstart)
  GROUP BY person_id, kind, employer_id
) e LEFT JOIN employment s ON s.id = e.employment_id
ORDER BY e.person_id, e.k, e.employer_id"""

DECL_SQL = """
SELECT person_id, CASE kind WHEN 'employee' THEN 0 WHEN 'flexible' THEN 1 ELSE 2 END AS k,
       COALESCE(employer_id, 0), year, COALESCE(wage_fen, chosen_fen, 0)
FROM base_declaration
WHERE person_id >= :lo AND person_id < :hi AND region = :r AND superseded_by IS NULL
  AND effective_from <= :mstart
ORDER BY person_id, kind, employer_id, effective_from, id"""


def test_chunk_read_matches_the_grouping_query(engine):
    pop = load_population(engine, REGION, 400, seed=3)
    with engine.begin() as conn:
        _oddities(conn, pop)
    with engine.connect() as conn:
        seen = 0
        for lo in range(pop.first_person_id, pop.last_person_id + 1, 90):
            p = {"lo": lo, "hi": lo + 90, "r": REGION, "mstart": JULY, "mend": month_end(JULY)}
            rows, decl = A.read_chunk(conn, REGION, lo, lo + 90, JULY)
            assert np.array_equal(rows, _plain(conn, GROUPED_SQL, p, rows.shape[1]))
            assert np.array_equal(decl, _plain(conn, DECL_SQL, p, 5))
            seen += len(rows)
        assert seen > 400
    # and the assessment of the whole region still adds up
    r = A.assess(engine, _actor(), REGION, JULY, chunk_size=90)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT SUM(total_fen) FROM contribution")).scalar_one() \
            == r.total_fen > 0


def _actor():
    from shebao.core.actor import Actor
    return Actor(id="test", role="administrator")


def test_group_enrolments_by_hand():
    raw = np.array([[5, 0, 9, 3, 0], [5, 0, 9, 4, 1], [2, 1, 0, 0, 0], [5, 0, 7, 0, -1],
                    [2, 1, 0, 0, 1], [5, 0, 9, 0, 3]], dtype=np.int64)
    rows, spell = registry_queries.group_enrolments(raw, len(FLAGS))
    assert rows[:, 0:3].tolist() == [[2, 1, 0], [5, 0, 7], [5, 0, 9]]
    assert rows[:, 4:].tolist() == [[1, 1, 0, 0, 0, 0, 0], [0] * 7, [1, 1, 0, 1, 0, 0, 0]]
    assert spell.tolist() == [0, 0, 4]
    empty, sp = registry_queries.group_enrolments(np.zeros((0, 5), np.int64), len(FLAGS))
    assert empty.shape == (0, 4 + len(FLAGS)) and len(sp) == 0


def test_match_packs_keys_or_falls_back():
    rng = np.random.default_rng(7)
    for hi in (3, 10**6, 2**62):
        b = np.unique(rng.integers(-hi, hi, (60, 3)), axis=0)
        b = b[rng.permutation(len(b))]
        a = np.concatenate([b[rng.integers(0, len(b), 40)], rng.integers(-hi, hi, (40, 3))])
        got = model.match_rows(a, b)
        for i, row in enumerate(a.tolist()):
            hit = [j for j, r in enumerate(b.tolist()) if r == row]
            assert got[i] == (hit[0] if hit else -1)
    assert model.match_rows(np.zeros((0, 3), np.int64), b).tolist() == []


def _scratch(conn):
    conn.execute(text("CREATE TABLE bd_t (id INTEGER PRIMARY KEY, a BIGINT NOT NULL, "
                      "d DATE NOT NULL, s VARCHAR(40), n BIGINT)"))


def test_driver_tuples(engine):
    with engine.begin() as conn:
        _scratch(conn)
        conn.execute(text("INSERT INTO bd_t (id, a, d, s, n) VALUES (1, -5, '2025-07-01', 'x', "
                          "NULL), (2, 4611686018427387904, '2025-07-02', NULL, 3)"))
        assert fetch_tuples(conn, "SELECT id, s FROM bd_t WHERE id <= :k ORDER BY id",
                            {"k": 2, "unused": 1}) == [(1, "x"), (2, None)]


def test_new_ids_are_fresh_ascending_and_usable(engine):
    with engine.begin() as conn:
        ids = new_ids(conn, "bill", 5)
        assert ids.tolist() == sorted(set(ids.tolist())) and len(ids) == 5
        assert len(new_ids(conn, "bill", 0)) == 0
        conn.execute(text(
            "INSERT INTO bill (region, month, payer_type, payer_id, e2e_id, total_fen, "
            "paid_fen, status, due_date, created_at, updated_at) VALUES ('310104', :m, 'E', 1, "
            "'X1', 1, 0, 'open', :m, :t, :t)"), {"m": JULY, "t": dt.datetime(2025, 7, 1)})
        top = conn.execute(text("SELECT MAX(id) FROM bill")).scalar_one()
        assert new_ids(conn, "bill", 2)[0] > top


def test_text_copy_escapes_texts_keeps_nulls_and_dates(engine):
    names = ["plain", "tab\there", "new\nline", "back\\slash", "carriage\r", "中文"]
    with engine.begin() as conn:
        _scratch(conn)
        n = insert_columns(conn, "bd_t", [("id", "i8"), ("a", "i8"), ("d", "date"),
                                          ("s", "T"), ("n", "i8")], {
            "id": np.arange(1, 7), "a": np.array([1, -2, 3, 2**62, 0, 7]),
            "d": np.array([0, 20270, 20271, 20272, 20273, 20274]), "s": names,
            "s?": np.array([False, False, False, False, False, True]), "n": 9,
            "n?": np.array([True, False, False, False, False, False])})
        assert n == 6
        rows = conn.execute(text("SELECT id, a, d, s, n FROM bd_t ORDER BY id")).all()
    assert [r[3] for r in rows] == names[:5] + [None]
    assert [r[4] for r in rows] == [None, 9, 9, 9, 9, 9]
    assert [str(r[2])[:10] for r in rows] == ["1970-01-01", "2025-07-01", "2025-07-02",
                                              "2025-07-03", "2025-07-04", "2025-07-05"]
    assert [r[1] for r in rows] == [1, -2, 3, 2**62, 0, 7]


def test_json_list_parameter_keeps_values_and_positions(engine):
    vals = ["a", "", "中文", 'q"uote', "a"]
    with engine.connect() as conn:
        got = conn.execute(text(f"SELECT value, ord FROM {json_rows_sql(conn)} ORDER BY ord"),
                           {"vals": json_list(vals)}).all()
    assert [(r[0], int(r[1])) for r in got] == [(v, i + 1) for i, v in enumerate(vals)]


def test_pg_settings_apply_inside_and_restore_after(engine):
    with engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            with pg_settings(conn, work_mem="64MB"):
                pass
            return
        conn.exec_driver_sql("SET LOCAL work_mem = '5MB'")
        with pg_settings(conn, work_mem="64MB", jit="off"):
            assert conn.exec_driver_sql("SHOW work_mem").scalar() == "64MB"
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "5MB"


def test_a_bill_changed_after_payment_keeps_what_was_paid(engine, world, tmp_path):
    from shebao.collection import bank, bills, declarations
    from shebao.collection.reconcile import reconcile

    clerk = _actor()
    A.assess(engine, clerk, REGION, JULY)
    bills.make_bills(engine, clerk, REGION, JULY)
    x = bank.export_bank(engine, clerk, REGION, JULY, out_dir=tmp_path)
    st = bank.simulate_bank(x.path, shares=(1.0, 0.0, 0.0), stranger=False)
    r = bank.import_bank(engine, clerk, st, region=REGION, kept_dir=tmp_path / "kept")
    assert r.new == 2 and r.partial == 0
    e2e = f"SB{REGION}202507E{world['employer']:010d}"
    before = bills.get_bill(engine, clerk, e2e_id=e2e, with_persons=False)
    assert before["status"] == "paid" and before["paid"] == before["total"] == "2775.12"
    # a late declaration raises the employee's base: the bill changes, what was paid stays
    declarations.declare_wage(engine, clerk, person_id=world["employee"],
                         employer_id=world["employer"], year=2025, wage_fen=1_000_000)
    A.assess(engine, clerk, REGION, JULY)
    b = bills.make_bills(engine, clerk, REGION, JULY)
    assert (b.bills, b.new, b.changed) == (2, 0, 1)
    after = bills.get_bill(engine, clerk, e2e_id=e2e, with_persons=False)
    assert (after["total"], after["paid"], after["status"]) == ("3720.00", "2775.12", "partial")
    lines = {ln["scheme"]: (ln["amount"], ln["paid"]) for ln in after["lines"]}
    assert lines["pension"] == ("2400.00", "1790.40")      # 24% of 10000.00; paid: of 7460.00
    assert reconcile(engine, clerk, REGION, JULY).ok
    assert bills.make_bills(engine, clerk, REGION, JULY).changed == 0
