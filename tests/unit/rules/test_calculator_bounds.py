"""Calculator inputs are bounded (issue #11.5): out-of-range numbers and dates name the field."""
import pytest

from shebao.core.errors import InputError
from shebao.rules import load_rules
from shebao.rules.calculators import calculate, fields
from shebao.rules.formulas.retirement import birth_range


@pytest.mark.parametrize("wage", ["1e20", "1e308", "12345678901234567890", 10 ** 30])
def test_huge_wage_names_the_field(wage):
    with pytest.raises(InputError) as e:
        calculate("contribution", {"region": "310000", "month": "2025-08", "wage": wage,
                                   "kind": "flexible"})
    assert e.value.field == "wage"


@pytest.mark.parametrize("birth", ["9999-12-31", "0001-01-01"])
def test_birth_date_outside_the_schedule_names_the_field(birth):
    with pytest.raises(InputError) as e:
        calculate("retirement-age", {"birth_date": birth, "category": "male"})
    assert e.value.field == "birth_date"


def test_the_bounds_come_from_the_schedule_and_the_column_range():
    lo, hi = birth_range(load_rules(), "male")
    assert lo.year == 1978 - 60 and hi.year < 9999           # 1978 schedule; men retired at 60
    last = calculate("retirement-age", {"birth_date": hi.isoformat(), "category": "male"})
    assert last["retirement_date"] <= "9999-12-31"
    assert fields.MAX_MONEY * 100 * 10 ** 8 < 2 ** 63        # amount × rate numerator fits int64
    with pytest.raises(InputError) as e:
        fields.integer({"months": 2 ** 40}, "months")
    assert e.value.field == "months"
