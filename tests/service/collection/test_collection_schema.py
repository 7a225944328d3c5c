"""Collection's schema specifics (the generic migration = tables.py check is tests/service/db)."""
from sqlalchemy import inspect, text


def test_receipts_and_late_fee_charges_have_their_unique_keys(engine):
    insp = inspect(engine)
    assert "uq_receipt_bank_ref" in {u["name"] for u in insp.get_unique_constraints("receipt")}
    assert "uq_late_fee_charge_key" in {u["name"] for u in
                                        insp.get_unique_constraints("late_fee_charge")}


def test_contribution_has_a_person_index_and_paid_bill_columns_none(engine):
    insp = inspect(engine)
    ix = {i["name"]: i["column_names"] for i in insp.get_indexes("contribution")}
    assert ix["ix_contribution_person"] == ["person_id", "month"]
    assert ix["ix_contribution_payer_month"] == ["payer_id", "month"]
    assert ix["ix_contribution_region_month_person"] == ["region", "month", "person_id"]
    paid_cols = {"paid_fen", "status", "last_paid_on", "updated_at"}
    for table in ("bill", "bill_line"):
        for i in insp.get_indexes(table):
            assert not paid_cols & set(i["column_names"]), (table, i)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            opts = dict(conn.execute(text(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('bill', "
                "'bill_line')")).all())
        assert opts == {"bill": ["fillfactor=50"], "bill_line": ["fillfactor=50"]}
