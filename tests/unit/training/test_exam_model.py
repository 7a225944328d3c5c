"""Exams: random draw with shuffled options, scoring (rounded down, never into a pass),
certificate codes and who is due."""
import datetime as dt
import random

import pytest

from shebao.core.errors import InputError
from shebao.training import model


def test_draw_is_random_but_complete():
    bank = {i: 4 for i in range(1, 21)}
    a = model.draw(bank, 5, random.Random(1))
    b = model.draw(bank, 5, random.Random(2))
    assert len(set(a.question_ids)) == 5 and set(a.question_ids) <= set(bank)
    assert a.question_ids != b.question_ids
    assert all(sorted(o) == [0, 1, 2, 3] for o in a.option_orders)
    with pytest.raises(InputError):
        model.draw({1: 4}, 2, random.Random(0))


def test_score_rounds_down_and_compares_with_the_pass_mark():
    # 2 of 3 right = 66.67% → 66: fails a 67% mark, passes 60%
    assert model.score([1, 0, None], [1, 0, 2], 67) == model.Score(2, 3, 66, False)
    assert model.score([1, 0, None], [1, 0, 2], 60).passed
    assert model.score([0, 0, 0], [1, 1, 1], 1).pct == 0
    with pytest.raises(InputError):
        model.score([1], [1, 2], 50)


def test_codes_and_validity():
    c = model.new_code()
    assert len(c) == model.CODE_LENGTH and not set(c) & set("01OIL")
    assert model.normalise_code(" ab-cd ef ") == "ABCDEF"
    assert model.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert model.add_months(dt.date(2026, 12, 4), 24) == dt.date(2028, 12, 4)


def test_due():
    on = dt.date(2026, 12, 4)
    got = model.due({1, 2, 3, 4}, {2: dt.date(2026, 12, 3), 3: dt.date(2026, 12, 20),
                                   4: dt.date(2027, 6, 1)}, on, warn_days=30)
    assert got == {1: "missing", 2: "expired", 3: "expiring"}
