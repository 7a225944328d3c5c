"""Database adapter: engine, shared metadata, migrations (Alembic)."""
from .engine import database_url, make_engine, metadata, is_postgres, is_sqlite

__all__ = ["database_url", "make_engine", "metadata", "is_postgres", "is_sqlite"]
