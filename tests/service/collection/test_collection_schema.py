"""Migration 0004 (hand-written) and collection/tables.py describe the same schema."""
from sqlalchemy import inspect

from shebao.collection import tables

COLLECTION = ["base_declaration", "declaration_upload", "contribution", "assessment_run",
              "assessment_chunk", "bill", "bill_line", "bank_export", "bank_import", "receipt",
              "receipt_alloc", "arrears_flag", "late_fee_charge"]


def test_migration_matches_table_definitions(engine):
    insp = inspect(engine)
    for name in COLLECTION:
        table = tables.metadata.tables[name]
        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(db_cols) == set(table.c.keys()), name
        for col in table.c:
            assert db_cols[col.name]["nullable"] == col.nullable, (name, col.name)
        model_ix = {ix.name for ix in table.indexes}
        db_ix = {ix["name"] for ix in insp.get_indexes(name)}
        assert model_ix <= db_ix, (name, model_ix - db_ix)
    uq = {u["name"] for u in insp.get_unique_constraints("receipt")}
    assert "uq_receipt_bank_ref" in uq
    assert "uq_late_fee_charge_key" in {u["name"] for u in
                                        insp.get_unique_constraints("late_fee_charge")}
