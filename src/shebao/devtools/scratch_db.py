"""Throw-away databases for tests and benchmarks: the one helper behind ``tests/conftest.py``,
``tests/support/world.py`` and ``bench/``.

SQLite: a file (a copy of a template file, or freshly migrated). PostgreSQL: a database created
through the admin URL (``CREATE DATABASE … TEMPLATE`` for a copy, else freshly migrated),
dropped ``WITH (FORCE)`` when the block ends unless ``keep``.

    with scratch_database("postgresql") as url: …                    # empty, migrated
    with scratch_database("sqlite", template=path, directory=tmp) as url: …   # a copy
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine

from shebao.db.engine import make_engine
from shebao.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("SHEBAO_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_url(dbname: str, admin_url: str = PG_ADMIN_URL) -> str:
    """The URL of database ``dbname`` on the admin URL's server."""
    return admin_url.rsplit("/", 1)[0] + "/" + dbname


def pg_admin(admin_url: str = PG_ADMIN_URL) -> Engine:
    """An AUTOCOMMIT engine on the server's maintenance database (CREATE/DROP DATABASE)."""
    return make_engine(admin_url, isolation_level="AUTOCOMMIT")


@contextmanager
def scratch_database(backend: str, *, template: str | Path | None = None,
                     admin: Engine | str | None = None, prefix: str = "shebao_scratch",
                     directory: str | Path | None = None, keep: bool = False,
                     migrate: bool = True) -> Iterator[str]:
    """Yield the URL of a new database on ``backend`` ("sqlite" or "postgresql").

    ``template``: a SQLite file or a PostgreSQL database name to copy; without one the new
    database is migrated (unless ``migrate=False``). ``admin``: a ``pg_admin()`` engine to reuse,
    or the admin URL to make one from (default ``PG_ADMIN_URL``). ``directory``: where the SQLite file goes (default a
    new temporary folder)."""
    if backend == "sqlite":
        folder = Path(directory) if directory else Path(tempfile.mkdtemp(prefix=prefix + "_"))
        path = folder / f"{prefix}_{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        if template is not None:
            shutil.copy(template, path)
        elif migrate:
            upgrade(url)
        try:
            yield url
        finally:
            if not keep:
                path.unlink(missing_ok=True)
        return
    if backend != "postgresql":
        raise ValueError(f"backend {backend!r}: sqlite or postgresql")
    own = not isinstance(admin, Engine)
    if own:
        admin = pg_admin(admin or PG_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'
                       + (f' TEMPLATE "{template}"' if template is not None else "")))
    url = pg_url(name, admin.url.render_as_string(hide_password=False))
    try:
        if template is None and migrate:
            upgrade(url)
        yield url
    finally:
        if not keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if own:
            admin.dispose()
