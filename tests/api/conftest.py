import os
import shutil

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

from shebao.channels.web import create_app  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402


from tests.support.world import (_world_pg, _world_sqlite, engine, world,  # noqa: E402,F401
                                     world_engine)


@pytest.fixture
def app(engine):
    return create_app(mode="dev", engine=engine, login_rate_limit=100000)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory, _world_sqlite):
    """One SQLite copy of the sample world, shared by a module (schemathesis)."""
    src, w = _world_sqlite
    path = tmp_path_factory.mktemp("st") / "shebao.db"
    shutil.copy(src, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng, w
    eng.dispose()
