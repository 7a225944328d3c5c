"""A throw-away, freshly migrated database for one benchmark run (shared by the bench scripts).

SQLite: a file in a new temporary folder. PostgreSQL: a new database created through the admin
URL and dropped (WITH FORCE) when the run ends, unless ``keep``.
"""
from __future__ import annotations

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from shebao.db.engine import make_engine
from shebao.db.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(backend: str, *, pg_admin: str = PG_ADMIN, prefix: str = "shebao_bench",
                     keep: bool = False, migrate: bool = True):
    """Yield the URL of an empty database on ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=prefix + '_')) / 'bench.db'}"
        if migrate:
            upgrade(url)
        yield url
        return
    admin = make_engine(pg_admin, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.rsplit("/", 1)[0] + "/" + name
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        if not keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
