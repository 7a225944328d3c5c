"""pain.001.001.09 and camt.053.001.08: schema-valid output, invalid input refused."""
import datetime as dt

import pytest
from lxml import etree

from shebao.benefits import camt053
from shebao.channels.bankfiles import pain001, validate
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
    assert info.value.field.startswith("line")


def test_validate_names_unknown_schema_and_malformed_xml():
    with pytest.raises(InputError) as info:
        validate(b"<a/>", "pain.999")
    assert info.value.field == "xsd_name"
    with pytest.raises(InputError) as info:
        validate(b"<a>", "pain.001.001.09")
    assert info.value.field == "xml"


def test_camt053_round_trip_and_csv():
    data = camt053.build("S1", "31050161393600000001", dt.date(2025, 11, 6),
                         [("E1", 432120, None), ("E2", 500000, "AC04")])
    got = camt053.parse(data)
    assert [(o.end_to_end_id, o.status, o.amount_fen, o.reason) for o in got] == [
        ("E1", "paid", 432120, None), ("E2", "failed", 500000, "AC04")]
    rows = camt053.parse_csv("end_to_end_id,status,reason\nE1,paid,\nE2,failed,AC01\n".encode())
    assert [(o.status, o.reason) for o in rows] == [("paid", None), ("failed", "AC01")]
    with pytest.raises(InputError) as info:
        camt053.parse_csv(b"end_to_end_id,status\nE1,maybe\n")
    assert (info.value.field, info.value.row) == ("status", 2)
