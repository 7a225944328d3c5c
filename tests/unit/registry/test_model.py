"""Pure registry logic: intervals, IDs, pinyin keys, file decoding, generator building blocks."""
import datetime as dt

import numpy as np
import pytest

from shebao.core.errors import InputError, InvariantError
from shebao.core.ids import parse_citizen_id, parse_uscc
from shebao.devtools import synthetic_people as generate
from shebao.registry import dedup, fileio, model


def test_intervals_inclusive_and_open():
    a = model.Interval(dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert a.overlaps(model.Interval(dt.date(2020, 12, 31), None))
    assert not a.overlaps(model.Interval(dt.date(2021, 1, 1), None))
    with pytest.raises(InvariantError, match="overlaps #7"):
        model.check_no_overlap(model.Interval(dt.date(2019, 1, 1), None), [(7, a)], "x")
    with pytest.raises(InvariantError, match="after the person's death"):
        model.check_alive(dt.date(2024, 1, 2), dt.date(2024, 1, 1), "enrolment")


def test_pinyin_key_meets_homophones_and_latin():
    assert model.pinyin_key("张伟") == model.pinyin_key("章伟") == model.pinyin_key("Zhang Wei")
    assert model.pinyin_key("李娜") != model.pinyin_key("张伟")
    assert model.pinyin_key("") is None


@pytest.mark.parametrize("raw", ["11010519491231002X", "11010519491231002x", "440524188001010014",
                                 "310104198001010010", "3101041980010100", "31010419800230001X",
                                 "110105491231002"])
def test_fast_id_check_agrees_with_core(raw):
    core = parse_citizen_id(raw)
    norm, err, birth, sex = model.fast_citizen_id(raw)
    assert (norm is not None) == core.valid
    if core.valid:
        assert (norm, birth, sex) == (core.normalized, core.birth_date, core.sex)
    else:
        assert err == core.error


def test_vectorised_id_validity():
    got = dedup.valid_ids(["11010519491231002X", "11010519491321002X", None, "", "123"])
    assert got.tolist() == [True, False, False, False, False]


def test_generated_ids_and_credit_codes_are_valid_and_from_real_areas():
    rng = np.random.default_rng(1)
    areas = np.array(generate.counties_in("310000")[:5])
    assert "310104" in generate.counties_in("310000")
    birth = np.array(["1980-01-01", "1990-02-28", "2000-12-31", "1955-06-15", "2020-02-29"],
                     dtype="datetime64[D]")
    male = np.array([True, False, True, False, True])
    ids = generate.build_ids(areas, birth, male, rng)
    for cid, m, a in zip(ids, male, areas):
        p = parse_citizen_id(str(cid))
        assert p.valid and p.sex == ("M" if m else "F") and cid[:6] == a
    for code in generate.build_uscc(areas, rng):
        assert parse_uscc(str(code)).valid


def test_synthetic_population_has_known_duplicates():
    pop = generate.synth_people(2000, "310000", seed=5, duplicate_share=0.02,
                                today=dt.date(2026, 1, 1))
    assert len(pop) == 2040 and (pop.original_of >= 0).sum() == 40
    originals = pop.citizen_id[:2000]
    assert len(set(originals)) == 2000
    assert all(parse_citizen_id(c).valid for c in originals[:200])
    dups = [c for c in pop.citizen_id[2000:]]
    assert not any(parse_citizen_id(c).valid for c in dups)   # every legacy copy has a typo


def test_decode_utf8_bom_gb18030_and_garbage(tmp_path):
    text = "姓名\n张伟\n"
    assert fileio.decode(("\ufeff" + text).encode("utf-8"), tmp_path) == (text, "utf-8-sig")
    assert fileio.decode(text.encode("gb18030"), tmp_path) == (text, "gb18030")
    with pytest.raises(InputError, match="cannot be read"):
        fileio.decode(b"\x81\x30\xff\xff", tmp_path)


@pytest.mark.parametrize("raw,want", [("2024-05-01", dt.date(2024, 5, 1)),
                                      ("2024/5/1", dt.date(2024, 5, 1)),
                                      ("20240501", dt.date(2024, 5, 1)),
                                      ("2024年5月1日", dt.date(2024, 5, 1))])
def test_dates_in_common_spellings(raw, want):
    assert fileio.parse_date_cell(raw) == want


def test_impossible_date_is_refused():
    with pytest.raises(ValueError, match="not a real calendar date"):
        fileio.parse_date_cell("2023-02-29")


def test_risk_class_table_covers_every_division():
    from shebao.rules.loader import load_rules

    table = load_rules().value("registry.industry_risk_class", "310104", dt.date(2025, 1, 1))
    assert sorted(table) == [f"{i:02d}" for i in range(1, 97)]
    assert set(table.values()) == set(range(1, 9))
    assert (table["65"], table["06"], table["25"], table["50"]) == (1, 8, 7, 5)


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    f = tmp_path / "big.csv"
    f.write_text("citizen_id,name\n" + "310104198001010017,张伟\n" * 100, encoding="utf-8")
    monkeypatch.setattr(fileio, "MAX_BYTES", 1024)
    with pytest.raises(InputError, match="the limit is"):
        fileio.read_sheet(f, {"citizen_id": "citizen_id", "name": "name"}, {"citizen_id"})


# ---------------------------------------------------------------- names and employment dates

@pytest.mark.parametrize("bad", ["\u200b", "\u200b\u200c\ufeff", "a\u202egnp.exe",
                                  "\u0000abc", "张\u2066三", "x\u0007y", " \u00ad ", "\u0301"])
def test_names_refuse_control_bidi_and_invisible_characters(bad):
    with pytest.raises(InputError) as e:
        model.check_name(bad, "name")
    assert e.value.field == "name"


def test_names_keep_ordinary_letters_and_emoji_sequences():
    assert model.check_name("  张三 ") == "张三"
    assert model.check_name("Zoë O'Neil-Åberg") == "Zoë O'Neil-Åberg"
    assert model.check_name("👩\u200d🔧") == "👩\u200d🔧"      # a joiner inside visible text


BOUNDS = model.DateBounds(min_age=16, earliest_year=1950, max_days_ahead=92,
                           today=dt.date(2026, 12, 4))


@pytest.mark.parametrize("start,birth,field", [
    (dt.date(1900, 1, 1), None, "start_date"),
    (dt.date(9999, 12, 31), None, "start_date"),
    (dt.date(2099, 1, 1), None, "start_date"),
    (dt.date(2027, 3, 7), None, "start_date"),                  # 93 days ahead
    (dt.date(2000, 2, 28), dt.date(1984, 2, 29), "start_date"),  # a day before 16
])
def test_implausible_employment_starts_are_refused(start, birth, field):
    with pytest.raises(InputError) as e:
        model.check_employment_dates(start, None, birth, BOUNDS)
    assert e.value.field == field


def test_plausible_employment_dates_pass():
    model.check_employment_dates(dt.date(2027, 3, 6), None, None, BOUNDS)
    model.check_employment_dates(dt.date(2000, 3, 1), dt.date(2030, 1, 31),
                                  dt.date(1984, 2, 29), BOUNDS)
