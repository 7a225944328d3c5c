from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shebao.core.money import apply_rate, fen_to_yuan_str, round_half_up, to_fen


@pytest.mark.parametrize("yuan, fen", [
    ("2984.155", 298416),   # .xx5 goes up
    ("2984.165", 298417),
    ("2984.154999", 298415),
    ("-0.005", -1),         # ties away from zero, as Decimal ROUND_HALF_UP
    ("-0.004", 0),
    ("0.005", 1),
    ("12345678901234567.01", 1234567890123456701),  # beyond float precision, still exact
])
def test_to_fen_half_up(yuan, fen):
    assert to_fen(yuan) == fen


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        to_fen(0.1)


def test_arrays_round_like_scalars():
    num = np.array([5, 15, 25, -5, -15, 4, 6], dtype=np.int64)
    got = round_half_up(num, 10)
    assert got.tolist() == [1, 2, 3, -1, -2, 0, 1]
    assert got.tolist() == [round_half_up(int(n), 10) for n in num]


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_matches_decimal(num, den):
    expected = int((Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) \
        if abs(num) < 10**15 else None
    exact = Fraction(num, den)
    got = round_half_up(num, den)
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    if expected is not None:
        assert got == expected


def test_apply_rate_exact_on_arrays():
    base = np.array([746100, 477500, 1000000], dtype=np.int64)
    assert apply_rate(base, Decimal("0.005")).tolist() == [3731, 2388, 5000]


def test_yuan_strings():
    assert fen_to_yuan_str(298416) == "2984.16"
    assert fen_to_yuan_str(-5) == "-0.05"
    assert fen_to_yuan_str(0) == "0.00"


def test_money_text_must_be_ascii_digits():
    # Decimal() alone takes full-width and other Unicode digits: "１０００" would become 1000.00.
    for text in ("１０００", "1０00", "١٠٠٠", "100.５0"):
        with pytest.raises(ValueError, match="ASCII"):
            to_fen(text)
    assert to_fen("1000") == 100000


def test_parse_yuan_and_api_fields_refuse_full_width_digits():
    from shebao.collection.declarations import parse_yuan
    from shebao.core.errors import InputError
    from shebao.rules.calculators import fields
    with pytest.raises(InputError) as e:
        parse_yuan("１０００", field="wage", file="w.csv", row=3)
    assert e.value.field == "wage"
    with pytest.raises(InputError) as e:
        fields.decimal({"wage": "１０００"}, "wage")
    assert e.value.field == "wage"
    assert parse_yuan("1,000.50", field="wage") == 100050
