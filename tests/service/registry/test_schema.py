"""Migration 0002 (hand-written) and registry/tables.py describe the same schema."""
from sqlalchemy import inspect

from shebao.registry import tables

REGISTRY = ["import_run", "person", "person_version", "employer", "employer_version",
            "employment", "enrolment", "hukou_mismatch", "dedup_candidate", "person_merge"]


def test_migration_matches_table_definitions(engine):
    insp = inspect(engine)
    for name in REGISTRY:
        table = tables.metadata.tables[name]
        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(db_cols) == set(table.c.keys()), name
        for col in table.c:
            assert db_cols[col.name]["nullable"] == col.nullable, (name, col.name)
        model_ix = {ix.name for ix in table.indexes}
        db_ix = {ix["name"] for ix in insp.get_indexes(name)}
        assert model_ix <= db_ix, (name, model_ix - db_ix)
    uniq = {ix["name"]: ix for ix in insp.get_indexes("enrolment")}["uq_enrolment_one_open"]
    assert uniq["unique"] and uniq["column_names"] == ["person_id", "scheme"]
