"""db.dialect: the intention-named helpers behave on both databases."""
import datetime as dt

from sqlalchemy import select, text

from shebao.db import dialect
from shebao.registry.tables import import_run


def _setting(conn, name):
    return conn.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar_one()


def test_planner_settings_apply_inside_and_are_put_back(engine):
    with engine.begin() as conn:
        pg = dialect.copies_in_bulk(conn)
        before = _setting(conn, "enable_hashjoin") if pg else None
        with dialect.for_index_probes(conn):
            if pg:
                assert _setting(conn, "enable_hashjoin") == "off"
                assert _setting(conn, "enable_mergejoin") == "off"
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        with dialect.for_single_pass_aggregate(conn), dialect.for_short_queries(conn):
            if pg:
                assert _setting(conn, "work_mem") == "64MB"
                assert _setting(conn, "jit") == "off"
        if pg:
            assert _setting(conn, "enable_hashjoin") == before


def test_locks_month_and_pairs(engine):
    with engine.begin() as conn:
        dialect.xact_lock(conn, 0x5EBA0001, "assess:310101:2025-07")
        dialect.xact_lock(conn, 0x5EBA0001, "assess:310101:2025-07")   # re-entrant
        conn.execute(text("CREATE TEMP TABLE dl_t (a INTEGER, b INTEGER, d DATE)"))
        conn.execute(text("INSERT INTO dl_t VALUES (1, 2, :d), (3, 4, :e)"),
                     {"d": dt.date(2025, 7, 31), "e": dt.date(2025, 12, 1)})
        months = conn.execute(text(f"SELECT {dialect.month_of(conn, 'd')} FROM dl_t "
                                   f"ORDER BY a")).scalars().all()
        assert months == [7, 12]
        from sqlalchemy import Integer, column, table
        t = table("dl_t", column("a", Integer), column("b", Integer))
        got = conn.execute(select(t.c.a).where(dialect.pairs_in(conn, t.c.a, t.c.b,
                                                                 [(3, 4), (1, 3)]))).scalars()
        assert list(got) == [3]
        stmt = dialect.for_update(conn, select(import_run.c.id))
        assert ("FOR UPDATE" in str(stmt.compile(conn))) == dialect.copies_in_bulk(conn)
        assert conn.execute(stmt).all() == []
        dialect.refresh_statistics_if_grown(conn, "import_run", 20_000)


def test_index_hint_only_where_the_planner_needs_one(engine):
    with engine.connect() as conn:
        hint = dialect.index_hint(conn, "ix_enrolment_person_scheme")
        assert hint == ("" if dialect.copies_in_bulk(conn) else
                        " INDEXED BY ix_enrolment_person_scheme")
        conn.execute(text(f"SELECT count(*) FROM enrolment{hint}")).scalar_one()
