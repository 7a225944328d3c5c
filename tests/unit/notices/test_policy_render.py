"""Pure parts of delivery: backoff, quiet hours across midnight, templates in both languages."""
import datetime as dt

import pytest

from shebao.core.errors import InputError
from shebao.notices.policy import Policy, parse_hhmm, quiet_until
from shebao.notices.render import TEMPLATES, catalogue_ids, render, used_ids
from shebao.rules import load_rules

UTC = dt.timezone.utc


def test_policy_comes_from_the_parameter_and_backs_off_exponentially_with_a_cap():
    p = Policy.from_rules(load_rules(), dt.date(2026, 12, 1))
    assert (p.max_attempts, p.backoff_base_seconds, p.lease_seconds) == (8, 30, 300)
    # 30 × 2^(n−1): 30, 60, 120, 240 s …, capped at 21600 s (6 h)
    assert [p.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert p.backoff(20).total_seconds() == 21600
    assert not p.is_dead(7) and p.is_dead(8)


def test_quiet_hours_cross_midnight_in_local_time():
    q = (dt.time(22, 0), dt.time(8, 0))
    # 15:00 UTC = 23:00 Shanghai: quiet until 08:00 Shanghai next day = 00:00 UTC
    assert quiet_until(dt.datetime(2026, 12, 4, 15, 0, tzinfo=UTC), *q, "Asia/Shanghai") \
        == dt.datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    # 19:00 UTC = 03:00 Shanghai on the 5th: same end, 08:00 that morning
    assert quiet_until(dt.datetime(2026, 12, 4, 19, 0, tzinfo=UTC), *q, "Asia/Shanghai") \
        == dt.datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    # 02:00 UTC = 10:00 Shanghai: not quiet
    assert quiet_until(dt.datetime(2026, 12, 5, 2, 0, tzinfo=UTC), *q, "Asia/Shanghai") is None
    # a daytime window 12:00–14:00, at 12:30 Shanghai (04:30 UTC) → until 06:00 UTC
    assert quiet_until(dt.datetime(2026, 12, 5, 4, 30, tzinfo=UTC), dt.time(12), dt.time(14),
                       "Asia/Shanghai") == dt.datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    assert quiet_until(dt.datetime(2026, 12, 5, 4, 30, tzinfo=UTC), None, None, "UTC") is None


def test_quiet_hours_refuse_bad_times_naming_the_field():
    assert parse_hhmm("07:05", "x") == dt.time(7, 5)
    assert parse_hhmm("", "x") is None
    for bad in ("24:00", "7", "07:60", "０７:００"):
        with pytest.raises(InputError) as e:
            parse_hhmm(bad, "quiet_start")
        assert e.value.field == "quiet_start"


def test_every_notice_text_has_a_chinese_translation():
    assert used_ids() - catalogue_ids() == set()


def test_render_chinese_by_default_english_on_request_with_money_and_dates():
    data = {"amount_fen": 123456, "bills": 2, "late_fee_fen": 617, "as_of_date": "2026-11-15"}
    zh = render("arrears.notice", data, None)
    assert zh.lang == "zh_CN" and zh.subject == "社会保险费欠缴提醒"
    assert "¥1,234.56" in zh.body and "2026年11月15日" in zh.body
    en = render("arrears.notice", data, "en")
    assert en.subject == "Contributions overdue"
    assert "1,234.56" in en.body and "November 15, 2026" in en.body
    # missing data renders empty, an unknown template the generic text (never an error)
    assert render("payment.made", {}, "en").body == ":  was paid on ."
    assert "x.unknown" in render("x.unknown", {}, "zh_CN").body
    assert set(TEMPLATES) >= {"case.received", "case.decided", "contribution.statement",
                              "arrears.notice", "payment.made", "certification.due"}


def test_fast_money_matches_babel_in_both_languages():
    from decimal import Decimal

    from babel.numbers import format_currency

    from shebao.notices.render import money
    for fen in (0, 5, 100, 123456, 100000000, 987654321012, -250):
        for lang, loc in (("zh_CN", "zh_CN"), ("en", "en_US")):
            assert money(fen, lang) == format_currency(Decimal(fen) / 100, "CNY", locale=loc)
