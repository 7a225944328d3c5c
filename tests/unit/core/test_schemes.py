"""core.schemes and core.regions.check_region: the one vocabulary and the one region check."""
import pytest

from shebao.core import schemes
from shebao.core.errors import InputError
from shebao.core.regions import check_region


def test_check_region_the_strict_rule():
    assert check_region("310101") == "310101"
    for bad, why in [("31010", "six-digit"), (" 310101", "six-digit"), (310101, "six-digit"),
                     (None, "six-digit"), ("national", "six-digit"),
                     ("999999", "not a known")]:
        with pytest.raises(InputError, match=why) as exc:
            check_region(bad, field="residence_region")
        assert exc.value.field == "residence_region"


def test_every_package_speaks_core_vocabulary():
    from shebao.collection import model as cm
    from shebao.ledger import model as lm
    from shebao.registry import model as rm

    assert lm.SCHEMES is rm.SCHEMES is schemes.SCHEMES
    assert cm.COLLECTED_SCHEMES == schemes.EMPLOYEE_SCHEMES + ("resident_pension",
                                                             "resident_medical")
    assert set(cm.COLLECTED_SCHEMES) <= set(schemes.SCHEMES)
    assert tuple(lm.KINDS) == schemes.ACCOUNT_KINDS
    assert set(schemes.INDIVIDUAL_SCHEMES) <= set(schemes.SCHEMES)
    assert set(schemes.KIND_PAYER) <= set(schemes.PERSON_KINDS)
    assert set(schemes.KIND_PAYER.values()) == set(schemes.PAYER_TYPES)


def test_check_scheme():
    assert schemes.check_scheme("medical") == "medical"
    with pytest.raises(InputError, match="unknown scheme") as exc:
        schemes.check_scheme("dental")
    assert exc.value.field == "scheme"
