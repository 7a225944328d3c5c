"""Test harness: every database test runs on SQLite *and* on the real PostgreSQL.

Migrations run once per session into a template (a SQLite file; a PostgreSQL template
database); each test gets a fresh copy, so tests see the real schema, triggers and
constraints and never each other's rows. PostgreSQL tests are skipped only when no server can
be reached, with the reason shown in the summary; `.ci/run` makes sure one can.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from shebao.db.engine import make_engine
from shebao.devtools.scratch_db import PG_ADMIN_URL, pg_admin, scratch_database

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def _pg_template(worker_id="master"):
    try:
        admin = pg_admin()
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        if os.environ.get("SHEBAO_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required (SHEBAO_REQUIRE_POSTGRES) but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    with scratch_database("postgresql", admin=admin, prefix="shebao_tmpl") as url:
        yield admin, url.rsplit("/", 1)[1]
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    with scratch_database("sqlite", prefix="template",
                          directory=tmp_path_factory.mktemp("tmpl")) as url:
        yield url.removeprefix("sqlite:///")


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A freshly migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        copy = scratch_database("sqlite", template=request.getfixturevalue("_sqlite_template"),
                                directory=tmp_path, prefix="shebao")
    else:
        admin, tmpl = request.getfixturevalue("_pg_template")
        copy = scratch_database("postgresql", template=tmpl, admin=admin, prefix="shebao_t")
    with copy as url:
        yield url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
