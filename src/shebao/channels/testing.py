"""Pytest fixtures shared by the channel test suites (imported by their conftest.py; needs the
``_sqlite_template`` / ``_pg_template`` fixtures of ``tests/conftest.py``).

The sample world (``sample.build_world``) is built once per backend and test process into a
template database; each test gets a fresh copy (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL), so tests see the real schema and data and never each other's rows.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text

from shebao.db.engine import make_engine

from .sample import build_world

PG_ADMIN_URL = os.environ.get("SHEBAO_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(scope="session")
def _world_sqlite(tmp_path_factory, _sqlite_template):
    path = tmp_path_factory.mktemp("world") / "world.db"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    world = build_world(eng)
    eng.dispose()
    return path, world


@pytest.fixture(scope="session")
def _world_pg(_pg_template):
    admin, tmpl = _pg_template
    name = f"shebao_world_{os.getpid()}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
    eng = make_engine(_pg_url(name))
    world = build_world(eng)
    eng.dispose()
    yield admin, name, world
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def world_engine(request, tmp_path):
    """(engine, world): a fresh copy of the sample world on each backend."""
    if request.param == "sqlite":
        src, world = request.getfixturevalue("_world_sqlite")
        path = tmp_path / "shebao.db"
        shutil.copy(src, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng, world
        eng.dispose()
        return
    admin, tmpl, world = request.getfixturevalue("_world_pg")
    name = f"shebao_w_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
    eng = make_engine(_pg_url(name))
    yield eng, world
    eng.dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(world_engine):
    """Overrides the root ``engine``: the sample world's database."""
    return world_engine[0]


@pytest.fixture
def world(world_engine):
    return world_engine[1]
