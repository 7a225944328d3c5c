import os

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

from tests.support.web import web_client  # noqa: E402
from tests.support.world import (_world_pg, _world_sqlite, engine, world,  # noqa: E402,F401
                                     world_engine)
from shebao.channels.web import create_app  # noqa: E402


@pytest.fixture
def app(engine):
    return create_app(mode="dev", engine=engine, login_rate_limit=1000)


@pytest.fixture
def login(app, world):
    """login("collection_clerk-310101") → a TestClient signed in through the form."""
    def _login(username):
        return web_client(app, username, world.passwords[username])
    return _login
