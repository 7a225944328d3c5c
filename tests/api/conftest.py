import os
import shutil

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

from shebao.channels.sample import build_world  # noqa: E402
from shebao.channels.web import create_app  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def app(engine):
    return create_app(mode="dev", engine=engine, login_rate_limit=100000)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory, _sqlite_template):
    """One migrated SQLite database with the sample world, shared by a module (schemathesis)."""
    path = tmp_path_factory.mktemp("st") / "shebao.db"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    w = build_world(eng)
    yield eng, w
    eng.dispose()
