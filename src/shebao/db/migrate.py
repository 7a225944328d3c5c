"""Apply migrations programmatically (``shebao db upgrade``)."""
from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config

from .engine import database_url


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("shebao.db") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str | None = None) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
