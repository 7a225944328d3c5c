"""camt.053.001.08, the one statement codec: booked credits of every entry shape (collection
accounts), payments and returns (payout accounts), refusals after the schema validation."""
import datetime as dt

import pytest

from shebao.core.errors import InputError
from shebao.formats import camt053


def _entry(body: str) -> str:
    return f"<Ntry>{body}</Ntry>"


def _statement(entries: list[str]) -> bytes:
    st = camt053.build_statement("S1", "3100", dt.date(2025, 8, 15), ["B1"], ["E1"], [100])
    head, rest = st.split(b"<Ntry>", 1)
    tail = rest.split(b"</Ntry>", 1)[1]
    return head + "".join(entries).encode() + tail


D = "<BookgDt><Dt>2025-08-15</Dt></BookgDt>"
BK = "<BkTxCd><Prtry><Cd>DD</Cd></Prtry></BkTxCd>"


def test_camt053_reads_every_entry_shape():
    data = _statement([
        # a debit and a pending credit: ignored (but counted as rows)
        _entry(f'<Amt Ccy="CNY">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
               f"{D}<AcctSvcrRef>D1</AcctSvcrRef>{BK}"),
        _entry(f'<Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>'
               f"{D}<AcctSvcrRef>P1</AcctSvcrRef>{BK}"),
        # no details: the entry's reference and amount, no end-to-end id
        _entry(f'<NtryRef>N3</NtryRef><Amt Ccy="CNY">3.10</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
               f"<Sts><Prtry>X</Prtry></Sts>{D}{BK}"),
        # two details with their own amounts; the second without a reference of its own
        _entry(f'<Amt Ccy="CNY">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
               f"{D}<AcctSvcrRef>E4</AcctSvcrRef>{BK}<NtryDtls>"
               f'<TxDtls><Refs><AcctSvcrRef>T4a</AcctSvcrRef><EndToEndId> SBX </EndToEndId>'
               f'</Refs><Amt Ccy="CNY">2.00</Amt></TxDtls>'
               f'<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>'
               f'<Amt Ccy="CNY">5.00</Amt></TxDtls></NtryDtls>'),
        # one detail without an amount: the entry's
        _entry(f'<Amt Ccy="CNY">9.99</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
               f"<BookgDt><DtTm>2025-08-16T10:00:00</DtTm></BookgDt>"
               f"<AcctSvcrRef>{'R' * 34}</AcctSvcrRef>{BK}<NtryDtls><TxDtls><Refs>"
               f"<EndToEndId>SBY</EndToEndId></Refs></TxDtls></NtryDtls>"),
    ])
    recs = camt053.read(data, "s.xml")
    assert [(r.row, r.bank_ref, r.e2e_id, r.amount_fen, r.booked_on) for r in recs] == [
        (3, "N3", "", 310, dt.date(2025, 8, 15)),
        (4, "T4a", "SBX", 200, dt.date(2025, 8, 15)),
        (4, "E4/2", "", 500, dt.date(2025, 8, 15)),
        (5, "R" * 34 + "/", "SBY", 999, dt.date(2025, 8, 16))]       # cut to 35
    cols = camt053.read_columns(data, "s.xml")
    assert (cols.row, cols.bank_ref, cols.e2e_id, cols.amount_fen, cols.booked_on) == tuple(
        [getattr(r, f) for r in recs] for f in ("row", "bank_ref", "e2e_id", "amount_fen",
                                                 "booked_on"))


def test_camt053_refusals_come_after_the_validation():
    bad_ccy = _statement([_entry(
        f'<Amt Ccy="USD">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"{D}<AcctSvcrRef>U1</AcctSvcrRef>{BK}")])
    with pytest.raises(InputError) as e:
        camt053.read(bad_ccy, "u.xml")
    assert (e.value.row, e.value.field) == (1, "Ntry/Amt/@Ccy")
    # invalid against the schema AND with a foreign currency: the schema speaks first
    invalid = bad_ccy.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"")
    with pytest.raises(InputError) as e:
        camt053.read(invalid, "i.xml")
    assert "not a valid camt.053.001.08" in str(e.value) and e.value.field.startswith("line")
    with pytest.raises(InputError) as e:
        camt053.read_columns(b"<Document>", "m.xml")
    assert e.value.field == "xml" and e.value.file == "m.xml"


def test_camt053_round_trip_and_refusals():
    st = camt053.build_statement("S1", "3100", dt.date(2025, 8, 15), ["B1", "B2"],
                                 ["SB310104202507E0000000001", ""], [100, 250])
    recs = camt053.read(st, "s.xml")
    assert [(r.bank_ref, r.e2e_id, r.amount_fen, r.row) for r in recs] == [
        ("B1", "SB310104202507E0000000001", 100, 1), ("B2", "", 250, 2)]
    with pytest.raises(InputError) as e:
        camt053.read(b"<Document><oops></Document>", "bad.xml")
    assert e.value.file == "bad.xml"
    usd = st.replace(b'Ccy="CNY">2.50', b'Ccy="USD">2.50')
    with pytest.raises(InputError) as e:
        camt053.read(usd, "usd.xml")
    assert e.value.row == 2 and "CNY" in str(e.value)


def test_camt053_payments_and_returns_round_trip():
    data = camt053.build_payments("S1", "31050161393600000001", dt.date(2025, 11, 6),
                                  [("E1", 432120, None), ("E2", 500000, "AC04")])
    got = camt053.read_payments(data)
    assert [(x.e2e_id, x.returned, x.amount_fen, x.reason, x.booked_on) for x in got] == [
        ("E1", False, 432120, None, dt.date(2025, 11, 6)),
        ("E2", True, 500000, "AC04", dt.date(2025, 11, 6))]


def test_camt053_payments_skip_pending_entries_and_read_reversals():
    data = camt053.build_payments("S1", "31050161393600000001", dt.date(2025, 11, 6),
                                  [("E1", 100, None), ("E2", 200, "AC01"), ("E3", 300, None)])
    data = data.replace(b"<Sts><Cd>BOOK</Cd></Sts>", b"<Sts><Cd>PDNG</Cd></Sts>")
    got = camt053.read_payments(data)       # pending: only the returned one is an outcome
    assert [(x.e2e_id, x.returned) for x in got] == [("E2", True)]
    with pytest.raises(InputError) as e:
        camt053.read_payments(b"<Document>", "r.xml")
    assert (e.value.field, e.value.file) == ("xml", "r.xml")
