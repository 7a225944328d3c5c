"""The streamed pain.001 builder: byte for byte the document of the one-string builder it
replaced (kept below, frozen, as the reference), validated a block at a time, naming the
failing payment, and never leaving an invalid file behind."""
import datetime as dt
from xml.sax.saxutils import escape

import pytest

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str
from shebao.formats import iso20022, pain001

DEBTOR = pain001.Debtor("社会保险基金 & 支出户", "31050161393600000001", "中国建设银行")
CREATED = dt.datetime(2025, 11, 1, 8, 30, 5)
DAY = dt.date(2025, 11, 5)


def _t(s) -> str:
    return escape(str(s if s is not None else ""))


def reference_build(msg_id, debtor, execution_date, e2e, names, banks, accounts, amounts_fen,
                    remittance, created):
    """formats/pain001.build as it was before streaming (commit 86fd311), validation aside."""
    n = len(e2e)
    ctrl = fen_to_yuan_str(sum(int(a) for a in amounts_fen))
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{pain001.NS}">'
            f'<CstmrCdtTrfInitn>'
            f'<GrpHdr><MsgId>{_t(msg_id)}</MsgId><CreDtTm>{created.strftime("%Y-%m-%dT%H:%M:%S")}'
            f'</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl}</CtrlSum><InitgPty><Nm>'
            f'{_t(debtor.name)}</Nm></InitgPty></GrpHdr>'
            f'<PmtInf><PmtInfId>{_t(msg_id)}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{n}</NbOfTxs>'
            f'<CtrlSum>{ctrl}</CtrlSum><ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt>'
            f'</ReqdExctnDt><Dbtr><Nm>{_t(debtor.name)}</Nm></Dbtr><DbtrAcct><Id><Othr><Id>'
            f'{_t(debtor.account)}</Id></Othr></Id><Ccy>CNY</Ccy></DbtrAcct><DbtrAgt><FinInstnId>'
            f'<Nm>{_t(debtor.bank_name)}</Nm></FinInstnId></DbtrAgt>')
    rmt = _t(remittance)
    parts = [head]
    for ref, nm, bank, acct, amt in zip(e2e, names, banks, accounts, amounts_fen):
        parts.append(
            f'<CdtTrfTxInf><PmtId><EndToEndId>{_t(ref)}</EndToEndId></PmtId><Amt>'
            f'<InstdAmt Ccy="CNY">{fen_to_yuan_str(int(amt))}</InstdAmt></Amt><CdtrAgt>'
            f'<FinInstnId><Nm>{_t(bank)}</Nm></FinInstnId></CdtrAgt><Cdtr><Nm>{_t(nm)}</Nm>'
            f'</Cdtr><CdtrAcct><Id><Othr><Id>{_t(acct)}</Id></Othr></Id></CdtrAcct><Purp><Cd>PENS'
            f'</Cd></Purp><RmtInf><Ustrd>{rmt}</Ustrd></RmtInf></CdtTrfTxInf>')
    parts.append("</PmtInf></CstmrCdtTrfInitn></Document>\n")
    return "".join(parts).encode("utf-8")


def _columns(n):
    e2e = [f"PY7-310104-2025-11-{i}" for i in range(n)]
    names = [("张<三>", "李四", "王&五", "O'Brien \"Jr\"", "赵六")[i % 5] for i in range(n)]
    banks = [("中国银行", "中国工商银行", "R&D 银行")[i % 3] for i in range(n)]
    accounts = [6222000000000000 + i if i % 4 == 0 else f"6228{i:012d}" for i in range(n)]
    amounts = [(0, 1, 99, 100, 432117, 900000)[i % 6] + i for i in range(n)]
    return e2e, names, banks, accounts, amounts


@pytest.mark.parametrize("n", [1, 3, 7, 250])
def test_streamed_document_is_byte_identical_to_the_one_string_builder(n, monkeypatch):
    monkeypatch.setattr(pain001, "BLOCK", 4)          # several blocks, one ragged
    cols = _columns(n)
    args = ("PY7-310104-2025-11-1", DEBTOR, DAY, *cols, "养老金 2025-11 & <补发>")
    ref = reference_build(*args, CREATED)
    if n:
        iso20022.validate(ref, pain001.XSD)
    assert pain001.build(*args, created=CREATED) == ref


def test_write_file_reports_what_it_wrote(tmp_path):
    import hashlib
    cols = _columns(11)
    path = tmp_path / "PY7-1.pain.001.xml"
    info = pain001.write_file(path, "M1", DEBTOR, DAY, *cols, "养老金", CREATED)
    data = path.read_bytes()
    assert info == {"payments": 11, "total_fen": sum(cols[4]), "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()}
    assert data == reference_build("M1", DEBTOR, DAY, *cols, "养老金", CREATED)
    assert not list(tmp_path.glob("*.part"))


def test_an_invalid_payment_in_a_late_block_is_named_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(pain001, "BLOCK", 5)
    e2e, names, banks, accounts, amounts = _columns(23)
    e2e[17] = "E" * 36                                   # EndToEndId is at most 35 characters
    path = tmp_path / "bad.pain.001.xml"
    with pytest.raises(InputError) as info:
        pain001.write_file(path, "M1", DEBTOR, DAY, e2e, names, banks, accounts, amounts,
                           "养老金", CREATED)
    assert "maxLength" in str(info.value)
    assert info.value.field == "payment 18"
    assert list(tmp_path.iterdir()) == []


def test_a_header_violation_is_named_as_such():
    with pytest.raises(InputError) as info:
        pain001.build("M" * 36, DEBTOR, DAY, *_columns(2), "x", CREATED)
    assert info.value.field == "header"


def test_every_block_is_checked_whole_file_validation_agrees(monkeypatch):
    """Splicing a block's payments between the header and the tail is the whole document: an
    amount below zero in the last block fails here as it fails whole-file
    validation."""
    monkeypatch.setattr(pain001, "BLOCK", 3)
    cols = _columns(8)
    good = pain001.build("M1", DEBTOR, DAY, *cols, "x", CREATED)
    iso20022.validate(good, pain001.XSD)
    bad_whole = good.replace(b">0.08<", b">-0.08<")
    assert bad_whole != good
    with pytest.raises(InputError):
        iso20022.validate(bad_whole, pain001.XSD)
    monkeypatch.setattr(pain001, "yuan", lambda a: [
        "-0.08" if x == 8 else pain001.fen_to_yuan_str(x) for x in a])
    with pytest.raises(InputError) as info:
        pain001.build("M1", DEBTOR, DAY, *cols, "x", CREATED)
    assert info.value.field == "payment 8"
