import datetime as dt

import pytest

from shebao.cases import catalogue, model
from shebao.core.errors import ConflictError, InputError


def test_transitions_follow_the_lifecycle():
    assert model.next_status("submit_decision", model.IN_PROGRESS) == model.PENDING_CHECK
    assert model.next_status("approve_decision", model.PENDING_CHECK) == model.DECIDED
    assert model.next_status("note", model.CLOSED) == model.CLOSED
    with pytest.raises(ConflictError, match="cannot be withdraw"):
        model.next_status("withdraw", model.DECIDED)
    with pytest.raises(ConflictError):
        model.next_status("approve_decision", model.IN_PROGRESS)


def test_catalogue_items_are_complete_and_dated():
    items = catalogue.items("310104", dt.date(2026, 1, 5))
    assert {"registry.person_change", "benefit.pension"} <= {i.code for i in items}
    for it in items:   # every shipped item parses and has a limit, a basis and a permission
        assert it.limit >= 0 and it.reference and it.permission
    before = {i.code for i in catalogue.items("310104", dt.date(2020, 1, 1))}
    assert "registry.person_change" not in before   # its limit is the 2023 条例's
    with pytest.raises(InputError, match="no service item"):
        catalogue.item("nonsense", "310104", dt.date(2026, 1, 5))
