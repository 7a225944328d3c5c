import datetime as dt

import pytest

from shebao.cases import catalogue
from shebao.core.errors import InputError
from shebao.core.workdays import Calendar, add_limit, add_working_days, working_days_between

D = dt.date


def test_plain_weeks_skip_weekends():
    cal = Calendar()
    assert add_working_days(D(2026, 12, 4), 1, cal) == D(2026, 12, 7)   # Fri -> Mon
    assert add_working_days(D(2026, 12, 4), 0, cal) == D(2026, 12, 4)
    assert working_days_between(D(2026, 12, 4), D(2026, 12, 11), cal) == 5


def test_national_day_2025_with_makeup_sunday():
    # 2025-09-26 is a Friday. Working days after it: Sun 09-28 (调休 make-up day) 1,
    # Mon 29 2, Tue 30 3, Oct 1–8 holiday, Thu 10-09 4, Fri 10-10 5.
    cal = catalogue.calendar("310104", D(2025, 9, 1))
    assert add_working_days(D(2025, 9, 26), 5, cal) == D(2025, 10, 10)
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 10), cal) == 5
    assert not cal.is_working_day(D(2025, 10, 6))    # a Monday inside the holiday
    assert cal.is_working_day(D(2025, 10, 11))       # a Saturday worked


def test_limits_in_days_and_bad_units():
    cal = Calendar()
    assert add_limit(D(2026, 1, 31), 30, "days", cal) == D(2026, 3, 2)
    with pytest.raises(InputError):
        add_limit(D(2026, 1, 31), 30, "weeks", cal)
    with pytest.raises(InputError):
        add_working_days(D(2026, 1, 31), -1, cal)
