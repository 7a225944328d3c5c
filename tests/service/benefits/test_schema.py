"""Migration 0005 and shebao.benefits.tables describe the same columns and unique indexes."""
from sqlalchemy import inspect

from shebao.benefits import tables as t

NAMES = ["pension_history", "pension_case", "pension_award", "pension_award_amount",
         "indexation_run", "payroll_run", "payment", "bank_return", "living_certification",
         "overpayment"]


def test_migration_matches_tables(engine):
    insp = inspect(engine)
    for name in NAMES:
        db_cols = {c["name"]: c["nullable"] for c in insp.get_columns(name)}
        md = t.metadata.tables[name]
        assert db_cols == {c.name: (c.nullable and not c.primary_key) or
                           (c.primary_key and engine.dialect.name == "sqlite" and db_cols[c.name])
                           for c in md.columns}, name
        db_unique = {tuple(ix["column_names"]) for ix in insp.get_indexes(name) if ix["unique"]}
        db_unique |= {tuple(u["column_names"]) for u in insp.get_unique_constraints(name)}
        md_unique = {tuple(c.name for c in ix.columns) for ix in md.indexes if ix.unique}
        md_unique |= {tuple(c.name for c in u.columns) for u in md.constraints
                      if u.__class__.__name__ == "UniqueConstraint"}
        assert md_unique <= db_unique, name
