"""The catalogue items of the existing businesses (#18): every one in force, with its SAR limit
(rules-2 §11), documents, channels, a legal basis, a permission the policy knows and minutes."""
import datetime as dt

import pytest

from shebao.cases import catalogue
from shebao.security import policy

LIMITS = {  # rules-2 §11: SAR registration 10 WD, changes 10 WD; the statement is [M] 1 WD
    "registry.person_registration": 10, "registry.employer_registration": 10,
    "registry.employer_change": 10, "registry.enrolment": 10,
    "registry.employment_request": 10, "collection.base_declaration": 10,
    "collection.contribution_statement": 1, "benefit.payroll_bank_account": 10,
    "benefit.pension": 20,
}


@pytest.mark.parametrize("code", sorted(LIMITS))
def test_item(code):
    it = catalogue.item(code, "310104", dt.date(2026, 1, 1))
    assert (it.limit, it.limit_unit) == (LIMITS[code], "working_days")
    assert it.documents and it.channels and "经办条例" in it.reference
    assert it.permission in policy.PERMISSIONS
    assert it.standard_minutes > 0
