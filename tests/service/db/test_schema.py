"""Every hand-written migration and the package's tables.py describe the same schema.

One check over the whole shared metadata (every package's tables), on both databases:
the same columns, the same nullability (primary keys aside: SQLite reports its rowid key
as nullable), every named index present, every unique key present.
"""
import importlib
from pathlib import Path

from sqlalchemy import inspect

from shebao.db.engine import metadata

# every package that declares tables (a new package's tables.py is checked without edits here)
PACKAGES = sorted(p.parent.name for p in
                  (Path(__file__).resolve().parents[3] / "src" / "shebao").glob("*/tables.py"))
for _pkg in PACKAGES:
    importlib.import_module(f"shebao.{_pkg}.tables")


# Columns whose nullability differs by dialect on purpose (reason given).
DIALECT_SPECIFIC = {
    ("ledger_entry", "pg_xact"): "NOT NULL with a txid_current() default on PostgreSQL, where "
                                 "the posting trigger compares it; unused on SQLite",
}


def _unique_keys(insp, name):
    keys = {tuple(ix["column_names"]) for ix in insp.get_indexes(name) if ix["unique"]}
    return keys | {tuple(u["column_names"]) for u in insp.get_unique_constraints(name)}


def test_every_migrated_table_matches_its_definition(engine):
    insp = inspect(engine)
    assert len(metadata.tables) >= 40  # all packages' tables were loaded
    for name, table in metadata.tables.items():
        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(db_cols) == set(table.c.keys()), name
        for col in table.c:
            if not col.primary_key and (name, col.name) not in DIALECT_SPECIFIC:
                assert db_cols[col.name]["nullable"] == col.nullable, (name, col.name)
        db_ix = {ix["name"] for ix in insp.get_indexes(name)}
        assert {ix.name for ix in table.indexes} <= db_ix, name
        md_unique = {tuple(c.name for c in ix.columns) for ix in table.indexes if ix.unique}
        md_unique |= {tuple(c.name for c in u.columns) for u in table.constraints
                      if u.__class__.__name__ == "UniqueConstraint"}
        assert md_unique <= _unique_keys(insp, name), name
