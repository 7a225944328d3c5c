from shebao.core import regions
from shebao.core.ids import mask_id, mask_phone, parse_citizen_id, parse_uscc


def test_lineage_and_scope():
    assert regions.lineage("310104") == ["310104", "310100", "310000", "national"]
    assert regions.within("310104", "310000")
    assert not regions.within("310104", "310101")
    assert regions.parent("national") is None


def test_unknown_area_is_a_warning_not_a_rejection():
    # 999999 is no real area; the rest of the number is well formed.
    first17 = "99999919800101001"
    from shebao.core.ids import ric_check_char

    res = parse_citizen_id(first17 + ric_check_char(first17))
    assert res.valid and res.region_code == "999999"
    assert any("999999" in w for w in res.warnings)


def test_future_birth_date_rejected():
    from shebao.core.ids import ric_check_char

    first17 = "11010520991231002"
    assert not parse_citizen_id(first17 + ric_check_char(first17)).valid


def test_uscc_alphabet():
    assert not parse_uscc("91350100M000100YI3").valid


def test_masking():
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"


def test_region_names_down_to_counties():
    assert regions.name("310104") == "上海市徐汇区"
    assert regions.name("310000") == "上海市"
    assert regions.known("110105") and not regions.known("999999")
    counties = regions.county_codes()
    assert "310104" in counties and not any(c.endswith("00") for c in counties)
    assert any(n.endswith("县") for n in counties.values())  # counties are places, not summaries
