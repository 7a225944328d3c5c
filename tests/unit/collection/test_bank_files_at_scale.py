"""The column-at-a-time forms of the bank files write and read exactly what the per-value
forms do: pain.008 text escaping, cutting and amounts; camt.053 receipts of every entry shape."""
import datetime as dt
import random
from xml.sax.saxutils import escape

import pytest

from shebao.channels.bankfiles import camt053, pain008
from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str

CRED = pain008.Creditor("社保 & 中心 <一>", "31001234560000000001", "BANK")


def _t(s, n=140):
    return escape(str(s or "")[:n])


@pytest.mark.parametrize("seed", range(6))
def test_texts_and_yuan_equal_the_per_value_forms(seed):
    rnd = random.Random(seed)
    alphabet = ["张", "三", "&", "<", ">", "a", " ", '"', "'"] if seed % 2 else ["a", "b", "张"]
    values = [rnd.choice([None, "", 0, "".join(rnd.choices(alphabet, k=rnd.randint(1, 160)))])
              for _ in range(200)]
    for n in (34, 35, 140):
        assert pain008.texts(values, n) == [_t(v, n) for v in values]
    amounts = [rnd.randint(-10**12, 10**12) for _ in range(50)] + [0, 1, 99, 100, 101]
    assert pain008.yuan(amounts) == [fen_to_yuan_str(a) for a in amounts]
    pos = [abs(a) for a in amounts]
    assert pain008.yuan(pos) == [fen_to_yuan_str(a) for a in pos]


def test_pain008_transactions_are_written_as_before():
    created = dt.datetime(2025, 8, 1, 9, 30)
    e2e = [f"SB310104202507E{i:010d}" for i in range(4)]
    names = ["上海<某>有限公司 & Co", None, "x" * 200, "李四"]
    banks = ["工行", "", None, "BANK & TRUST"]
    accounts = ["6222" * 10, "6217000000000001", "1", "2"]
    amounts = [1, 100, 2946971_18, 5]
    got = pain008.build("M1", CRED, dt.date(2025, 8, 15), e2e, names, banks, accounts, amounts,
                        created=created, validate_xsd=False).decode()
    for e, nm, b, ac, a in zip(e2e, names, banks, accounts, amounts):
        assert (f"<DrctDbtTxInf><PmtId><EndToEndId>{_t(e, 35)}</EndToEndId></PmtId>"
                f"<InstdAmt Ccy=\"CNY\">{fen_to_yuan_str(a)}</InstdAmt>"
                f"<DrctDbtTx><MndtRltdInf><MndtId>{_t('M' + e[2:], 35)}</MndtId></MndtRltdInf>"
                f"</DrctDbtTx><DbtrAgt><FinInstnId><Nm>{_t(b)}</Nm></FinInstnId></DbtrAgt>"
                f"<Dbtr><Nm>{_t(nm)}</Nm></Dbtr>"
                f"<DbtrAcct><Id><Othr><Id>{_t(ac, 34)}</Id></Othr></Id></DbtrAcct>"
                f"<RmtInf><Ustrd>{_t('social insurance ' + e, 140)}</Ustrd></RmtInf>"
                f"</DrctDbtTxInf>") in got
    assert got.count("<DrctDbtTxInf>") == 4 and "<CtrlSum>2946972.24</CtrlSum>" in got


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
