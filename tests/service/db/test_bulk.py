"""The batch paths' bulk reader and writer agree on both databases (PostgreSQL reads through a
binary COPY whose fixed-width records numpy parses in place)."""
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import text

from shebao.db.bulk import fetch_int_matrix, insert_columns


def _table(conn):
    conn.execute(text("CREATE TABLE bulk_t (a BIGINT NOT NULL, b INTEGER NOT NULL, "
                      "s SMALLINT NOT NULL, d DATE NOT NULL, n BIGINT)"))


def test_round_trip_with_parameters_and_casts(engine):
    a = np.array([5, -3, 2**40, 7], dtype=np.int64)
    with engine.begin() as conn:
        _table(conn)
        insert_columns(conn, "bulk_t", [("a", "i8"), ("b", "i4"), ("s", "i2"), ("d", "date")],
                       {"a": a, "b": a % 1000, "s": np.arange(4), "d": dt.date(2025, 7, 1)})
        got = fetch_int_matrix(conn, "SELECT a, b, s, CAST(:k AS INTEGER) FROM bulk_t "
                                     "WHERE d = :d AND a > :lo ORDER BY a",
                               {"d": dt.date(2025, 7, 1), "lo": -3, "k": 9, "unused": 1}, 4,
                               order_by="c0")
    assert got.dtype == np.int64
    # a = -3 is excluded by the parameter; sorted by a
    assert got.tolist() == [[5, 5, 0, 9], [7, 7, 3, 9], [2**40, 2**40 % 1000, 2, 9]]


def test_empty_result_has_the_asked_width(engine):
    with engine.begin() as conn:
        _table(conn)
        assert fetch_int_matrix(conn, "SELECT a, b FROM bulk_t", {}, 2).shape == (0, 2)


def test_nulls_are_refused_not_read_as_numbers(engine):
    with engine.begin() as conn:
        _table(conn)
        insert_columns(conn, "bulk_t", [("a", "i8"), ("b", "i4"), ("s", "i2"), ("d", "date")],
                       {"a": np.array([1]), "b": np.array([1]), "s": np.array([1]),
                        "d": dt.date(2025, 7, 1)})
        with pytest.raises((ValueError, TypeError)):
            fetch_int_matrix(conn, "SELECT a, n FROM bulk_t", {}, 2)


def test_stage_is_emptied_and_refilled_within_a_transaction(engine):
    cols = [("k", "i8"), ("d", "date")]
    with engine.begin() as conn:
        from shebao.db.bulk import day_number, stage

        assert stage(conn, "bulk_stage", cols, {"k": np.array([3, 1, 2]),
                                                "d": dt.date(2025, 7, 1)}) == 3
        day = day_number(dt.date(2025, 1, 2))
        assert stage(conn, "bulk_stage", cols, {"k": np.array([9, 8]),
                                                "d": np.array([day, day])}) == 2
        got = conn.execute(text("SELECT k, d FROM bulk_stage ORDER BY k")).all()
    assert [(k, str(d)) for k, d in got] == [(8, "2025-01-02"), (9, "2025-01-02")]


def test_insert_rows_and_fetch_rows_by_keys(engine):
    from shebao.db.bulk import fetch_rows_by_keys, insert_rows
    from shebao.registry.tables import import_run

    t = dt.datetime(2025, 7, 1, 8, 30, tzinfo=dt.timezone.utc)
    rows = [{"kind": "persons", "file_name": f"f{i}.csv", "file_sha256": str(i) * 64,
             "encoding": None if i % 2 else "utf-8", "dry_run": bool(i % 2), "actor": "t",
             "started_at": t} for i in range(1, 4)]
    with engine.begin() as conn:
        assert insert_rows(conn, import_run, rows) == 3
        got = fetch_rows_by_keys(conn, import_run, "file_name", ["f2.csv", "f3.csv", "", "zz"])
    assert sorted(got) == ["f2.csv", "f3.csv"]
    assert got["f2.csv"]["encoding"] == "utf-8" and got["f3.csv"]["encoding"] is None
    assert got["f3.csv"]["dry_run"] is True
    at = got["f2.csv"]["started_at"]
    assert at.replace(tzinfo=at.tzinfo or dt.timezone.utc) == t


def test_texts_of_any_content_round_trip_and_read_beside_integers(engine):
    # the text COPY escapes backslash, tab, newline and carriage return (and nothing else);
    # NULLs by mask; fetch_ints_and_text reads the texts in the integers' row order
    from shebao.db.bulk import fetch_ints_and_text, stage

    texts = ['plain', 'back\\slash "quoted"', 'tab\there', 'two\nlines', 'cr\rend', '档案 \\N',
             '{"json": "a\\"b"}', '']
    with engine.begin() as conn:
        stage(conn, "bulk_texts", [("k", "i8"), ("t", "T"), ("u", "T")],
              {"k": np.arange(len(texts)), "t": texts, "u": texts,
               "u?": np.array([i % 2 == 1 for i in range(len(texts))])})
        got = conn.execute(text("SELECT k, t, u FROM bulk_texts ORDER BY k")).all()
        m, back = fetch_ints_and_text(conn, "SELECT k, k * 2, t FROM bulk_texts", {}, 2)
    assert [r[1] for r in got] == texts
    assert [r[2] for r in got] == [None if i % 2 else t for i, t in enumerate(texts)]
    order = np.argsort(m[:, 0])
    assert m[order].tolist() == [[i, 2 * i] for i in range(len(texts))]
    assert [back[i] for i in order] == texts
