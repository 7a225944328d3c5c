"""Collection's schema specifics (the generic migration = tables.py check is tests/service/db)."""
from sqlalchemy import inspect


def test_receipts_and_late_fee_charges_have_their_unique_keys(engine):
    insp = inspect(engine)
    assert "uq_receipt_bank_ref" in {u["name"] for u in insp.get_unique_constraints("receipt")}
    assert "uq_late_fee_charge_key" in {u["name"] for u in
                                        insp.get_unique_constraints("late_fee_charge")}
