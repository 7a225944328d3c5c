"""Pytest fixtures of the sample world, shared by the channel test suites (imported by their
conftest.py; needs the ``_sqlite_template`` / ``_pg_template`` fixtures of ``tests/conftest.py``).

The sample world (``shebao.devtools.sample_world.build_world``) is built once per backend and
test process into a template database; each test gets a fresh copy (a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests see the real schema and data and never
each other's rows.
"""
from __future__ import annotations

import pytest

from shebao.db.engine import make_engine
from shebao.devtools.sample_world import build_world
from shebao.devtools.scratch_db import scratch_database


@pytest.fixture(scope="session")
def _world_sqlite(tmp_path_factory, _sqlite_template):
    with scratch_database("sqlite", template=_sqlite_template, prefix="world",
                          directory=tmp_path_factory.mktemp("world")) as url:
        eng = make_engine(url)
        world = build_world(eng)
        eng.dispose()
        yield url.removeprefix("sqlite:///"), world


@pytest.fixture(scope="session")
def _world_pg(_pg_template):
    admin, tmpl = _pg_template
    with scratch_database("postgresql", template=tmpl, admin=admin, prefix="shebao_world") as url:
        eng = make_engine(url)
        world = build_world(eng)
        eng.dispose()
        yield admin, url.rsplit("/", 1)[1], world


@pytest.fixture(params=["sqlite", "postgresql"])
def world_engine(request, tmp_path):
    """(engine, world): a fresh copy of the sample world on each backend."""
    if request.param == "sqlite":
        src, world = request.getfixturevalue("_world_sqlite")
        copy = scratch_database("sqlite", template=src, directory=tmp_path, prefix="shebao")
    else:
        admin, tmpl, world = request.getfixturevalue("_world_pg")
        copy = scratch_database("postgresql", template=tmpl, admin=admin, prefix="shebao_w")
    with copy as url:
        eng = make_engine(url)
        yield eng, world
        eng.dispose()


@pytest.fixture
def engine(world_engine):
    """Overrides the root ``engine``: the sample world's database."""
    return world_engine[0]


@pytest.fixture
def world(world_engine):
    return world_engine[1]
