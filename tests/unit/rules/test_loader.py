"""The strict loader refuses every malformed parameter file, naming file and key."""
import datetime as dt
from decimal import Decimal

import pytest

from shebao.core.errors import RuleError
from shebao.rules import load_rules, load_tree

GOOD = """\
description: test rate
unit: ratio
reference: a law
values:
  national:
    2019-05-01: 0.16
  "310000":
    2020-01-01: {value: 0.2, until: 2020-12-31, reference: local notice}
"""


def _tree(tmp_path, text, name="contribution/x.yaml"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return tmp_path


def test_good_file_inherits_and_ends(tmp_path):
    rules = load_tree(_tree(tmp_path, GOOD))
    assert rules.value("contribution.x", "310104", dt.date(2020, 6, 1)) == Decimal("0.2")
    res = rules.lookup("contribution.x", "310104", dt.date(2021, 6, 1))
    assert res.value == Decimal("0.16") and res.region_from == "national"  # gap → parent
    assert isinstance(res.value, Decimal) and str(res.value) == "0.16"


@pytest.mark.parametrize("text, needle", [
    (GOOD + "colour: red\n", "unknown key 'colour'"),
    (GOOD.replace("unit: ratio\n", ""), "missing 'unit'"),
    (GOOD.replace("reference: a law\n", ""), "missing 'reference'"),
    (GOOD.replace("2019-05-01: 0.16", "2019-05-01: 0.16\n    2018-01-01: 0.2"), "ascending"),
    (GOOD.replace("until: 2020-12-31", "until: 2021-06-30").replace(
        "reference: local notice}", "reference: local notice}\n    2021-01-01: 0.1"), "overlaps"),
    (GOOD.replace("2019-05-01: 0.16", "2019-05-01: sixteen"), "not of type decimal"),
    (GOOD.replace("2019-05-01: 0.16", "2019-05-01: 0.16\n    2019-05-01: 0.17"), "duplicate key"),
    (GOOD.replace("reference: local notice", "refrence: local notice"), "unknown key 'refrence'"),
    (GOOD.replace('"310000"', '"31"'), "not 'national' or a GB/T 2260 code"),
    (GOOD.replace("type", "x") + "type: money\n", "type 'money'"),
])
def test_bad_files_are_refused_with_file_and_key(tmp_path, text, needle):
    with pytest.raises(RuleError) as info:
        load_tree(_tree(tmp_path, text))
    assert needle in str(info.value)
    assert "contribution/x.yaml" in str(info.value)


def test_line_number_is_named(tmp_path):
    with pytest.raises(RuleError, match=r"x\.yaml:5: unknown key 'colour'"):
        load_tree(_tree(tmp_path, "description: d\nunit: u\nreference: r\nvalues: {national: {2020-01-01: 1}}\ncolour: red\n"))


def test_shipped_tree_is_valid_and_covers_the_issue():
    rules = load_rules()
    on = dt.date(2025, 8, 1)
    for name in ["contribution.base.floor", "contribution.base.ceiling", "pension.calc_base",
                 "wage.average_monthly", "contribution.pension.employer_rate"]:
        for region in ("310000", "110000", "440300"):
            assert rules.has(name, region, on), (name, region)
    assert rules.value("contribution.base.floor", "310000", dt.date(2000, 6, 1)) == 707
    assert rules.value("collection.late_fee_rate", "440300", on) == Decimal("0.0005")
    assert rules.value("retirement.min_contribution_months", "310000", dt.date(2039, 1, 1)) == 240


def test_no_value_for_a_date_is_an_error():
    with pytest.raises(RuleError, match="no value of contribution.base.floor"):
        load_rules().lookup("contribution.base.floor", "310000", dt.date(1995, 1, 1))
