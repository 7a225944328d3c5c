"""pain.001.001.09 (and the ISO 20022 validation): schema-valid output, invalid input refused."""
import datetime as dt

import pytest
from lxml import etree

from shebao.formats import pain001
from shebao.formats.iso20022 import validate
from shebao.core.errors import InputError

DEBTOR = pain001.Debtor("社会保险基金 & 支出户", "31050161393600000001", "中国建设银行")


def test_pain001_escapes_text_and_sums_exactly():
    data = pain001.build("M1", DEBTOR, dt.date(2025, 11, 5), ["E1", "E2", "E3"],
                         ["张<三>", "李四", "王&五"], ["工行", "农行", "中行"],
                         ["6222", "6228", "6217"], [1, 2, 432117], "养老金 2025-11")
    doc = etree.fromstring(data)
    ns = {"p": pain001.NS}
    assert doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "4321.20"
    assert [e.text for e in doc.iterfind(".//p:Cdtr/p:Nm", ns)] == ["张<三>", "李四", "王&五"]
    assert doc.findtext(".//p:Purp/p:Cd", namespaces=ns) == "PENS"


def test_pain001_refuses_an_end_to_end_id_longer_than_35():
    with pytest.raises(InputError) as info:
        pain001.build("M1", DEBTOR, dt.date(2025, 11, 5), ["E" * 36], ["张三"], ["工行"],
                      ["6222"], [100], "x")
    assert info.value.field == "payment 1"


def test_validate_names_unknown_schema_and_malformed_xml():
    with pytest.raises(InputError) as info:
        validate(b"<a/>", "pain.999")
    assert info.value.field == "xsd_name"
    with pytest.raises(InputError) as info:
        validate(b"<a>", "pain.001.001.09")
    assert info.value.field == "xml"
