"""benefits.model: the bank's report of our payments mapped to outcomes."""
import datetime as dt

import pytest

from shebao.benefits.model import outcomes_of_csv, outcomes_of_statement
from shebao.core.errors import InputError
from shebao.formats import camt053, returns_csv


def test_camt053_round_trip_and_csv():
    data = camt053.build_payments("S1", "31050161393600000001", dt.date(2025, 11, 6),
                                  [("E1", 432120, None), ("E2", 500000, "AC04")])
    got = outcomes_of_statement(camt053.read_payments(data))
    assert [(o.end_to_end_id, o.status, o.amount_fen, o.reason) for o in got] == [
        ("E1", "paid", 432120, None), ("E2", "failed", 500000, "AC04")]
    rows = outcomes_of_csv(returns_csv.read(
        "end_to_end_id,status,reason\nE1,paid,\nE2,failed,AC01\n".encode()))
    assert [(o.status, o.reason) for o in rows] == [("paid", None), ("failed", "AC01")]
    with pytest.raises(InputError) as info:
        returns_csv.read(b"end_to_end_id,status\nE1,maybe\n")
    assert (info.value.field, info.value.row) == ("status", 2)


def test_case_status_allows_only_its_actions():
    from shebao.benefits.model import EDITABLE, require_status
    from shebao.core.errors import ConflictError

    require_status({"id": 1, "status": "computed"}, ("computed",), "submitted")
    with pytest.raises(ConflictError) as info:
        require_status({"id": 1, "status": "open", "missing": '["history"]'}, ("computed",),
                       "submitted")
    assert "only a computed case can be submitted (missing: " in str(info.value)
    with pytest.raises(ConflictError) as info:
        require_status({"id": 2, "status": "approved"}, EDITABLE, "changed")
    assert "case 2 is approved: it can no longer change" in str(info.value)

