"""The banks' CSV formats: receipts (collection accounts) and payment statuses (payouts)."""
import pytest

from shebao.core.errors import InputError
from shebao.formats import receipts_csv, returns_csv


@pytest.mark.parametrize("line,field", [
    ("B1,E,12.345,CNY,2025-08-15,", "amount"), ("B1,E,abc,CNY,2025-08-15,", "amount"),
    ("B1,E,-5,CNY,2025-08-15,", "amount"), ("B1,E,5,USD,2025-08-15,", "currency"),
    ("B1,E,5,CNY,2025-13-15,", "booked_on"), (",E,5,CNY,2025-08-15,", "bank_ref"),
    ("B1,E,5,CNY", "*")])
def test_receipt_csv_refusals_name_row_and_field(line, field):
    data = ("bank_ref,e2e_id,amount,currency,booked_on,payer_account\n"
            "B0,E,1.00,CNY,2025-08-15,\n" + line + "\n").encode()
    with pytest.raises(InputError) as e:
        receipts_csv.read(data, "r.csv")
    assert (e.value.file, e.value.row, e.value.field) == ("r.csv", 3, field)


def test_returns_csv_reads_statuses_and_names_the_bad_row():
    rows = returns_csv.read("end_to_end_id,status,reason\nE1,paid,\nE2,failed,AC01\n".encode())
    assert [(r.row, r.end_to_end_id, r.status, r.reason) for r in rows] == [
        (2, "E1", "paid", None), (3, "E2", "failed", "AC01")]
    with pytest.raises(InputError) as info:
        returns_csv.read(b"end_to_end_id,status\nE1,maybe\n")
    assert (info.value.field, info.value.row) == ("status", 2)
