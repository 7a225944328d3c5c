"""The documented example files parse as documented."""
from pathlib import Path

from shebao.formats import receipts_csv

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "collection"


def test_receipts_example_parses():
    recs = receipts_csv.read((FIX / "receipts_example.csv").read_bytes(), "receipts_example.csv")
    assert [(r.row, r.e2e_id[-3:], r.amount_fen) for r in recs] == [
        (2, "001", 294697118), (3, "042", 149200), (4, "", 12345)]


def test_declarations_example_has_the_upload_columns():
    head = (FIX / "declarations_example.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.split(",")[:3] == ["citizen_id", "uscc", "wage"]
