"""Test harness: every database test runs on SQLite *and* on the real PostgreSQL.

Migrations run once per session into a template (a SQLite file; a PostgreSQL template
database); each test gets a fresh copy, so tests see the real schema, triggers and
constraints and never each other's rows. PostgreSQL tests are skipped only when no server can
be reached, with the reason shown in the summary; `.ci/run` makes sure one can.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text

from shebao.db.engine import make_engine
from shebao.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("SHEBAO_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin():
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _pg_template(worker_id="master"):
    try:
        admin = _pg_admin()
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        if os.environ.get("SHEBAO_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required (SHEBAO_REQUIRE_POSTGRES) but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    name = f"shebao_tmpl_{os.getpid()}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    yield admin, name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A freshly migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        tmpl = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "shebao.db"
        shutil.copy(tmpl, path)
        yield f"sqlite:///{path}"
        return
    admin, tmpl = request.getfixturevalue("_pg_template")
    name = f"shebao_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
    yield _pg_url(name)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
