"""pain.008.001.08: the column-at-a-time forms write exactly what the per-value forms do (text
escaping, cutting and amounts); valid CNY non-IBAN output, invalid input refused."""
import datetime as dt
import random
from xml.sax.saxutils import escape

import pytest

from shebao.formats import pain008
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


CRED2 = pain008.Creditor("社保中心", "31001234560000000001", "BANK")


def test_pain008_is_valid_cny_non_iban_and_invalid_is_refused():
    x = pain008.build("M1", CRED2, dt.date(2025, 8, 15), ["SB310104202507E0000000001"],
                      ["上海某公司"], ["BANK"], ["6222000000000000001"], [294697118])
    s = x.decode()
    assert '<InstdAmt Ccy="CNY">2946971.18</InstdAmt>' in s
    assert "<Othr><Id>6222000000000000001</Id></Othr>" in s and "IBAN" not in s
    with pytest.raises(InputError) as e:   # a negative amount violates the schema
        pain008.build("M1", CRED2, dt.date(2025, 8, 15), ["E1"], ["n"], ["b"], ["1"], [-5])
    assert "pain.008.001.08" in str(e.value)
    csv = pain008.build_csv(CRED2, dt.date(2025, 8, 15), ["E1"], ["n"], ["b"], ["1"], [150])
    assert csv.decode().splitlines()[1] == "E1,n,b,1,1.50,CNY,2025-08-15,31001234560000000001"
