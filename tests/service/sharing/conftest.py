import os

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

from tests.support.world import (_world_pg, _world_sqlite, engine, world,  # noqa: E402,F401
                                 world_engine)
