"""Customer credit transfer initiation, ISO 20022 pain.001.001.09, for benefit payments in CNY
to domestic (non-IBAN) accounts, and the documented CSV variant.

XML: one ``PmtInf`` per file (debtor = the fund's payout account at the commissioned bank),
one ``CdtTrfTxInf`` per payment: ``EndToEndId`` (our payment reference, ≤ 35 characters; the
bank returns it in camt.053), ``InstdAmt Ccy="CNY"``, creditor agent by bank name, creditor
account as ``Othr/Id`` (a domestic account number, not an IBAN), purpose code ``PENS``, and the
remittance text. The document is built as text (fast for a million payments) and validated
against the vendored XSD *before* it is written: an invalid file is never produced.

CSV (UTF-8, comma, header row, one payment per line):

    end_to_end_id,creditor_name,bank_name,account,amount,currency,execution_date,remittance
    PY12-345-1,张三,中国工商银行,6222000011112222,4321.20,CNY,2025-11-05,养老金 2025-11

``amount`` is yuan with two decimals; the last line is not a total (the control sum is the
sum of ``amount``; a bank re-computes it).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from shebao.core.money import fen_to_yuan_str

from .iso20022 import validate

NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CSV_HEADER = ["end_to_end_id", "creditor_name", "bank_name", "account", "amount", "currency",
              "execution_date", "remittance"]


@dataclass(frozen=True)
class Debtor:
    name: str            # e.g. 上海市社会保险事业管理中心
    account: str         # the fund's payout account (domestic number)
    bank_name: str


def _t(s) -> str:
    return escape(str(s if s is not None else ""))


def build(msg_id: str, debtor: Debtor, execution_date: dt.date, e2e, names, banks, accounts,
          amounts_fen, remittance: str, created: dt.datetime | None = None) -> bytes:
    """The pain.001.001.09 document for parallel sequences of payments; validated."""
    created = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    n = len(e2e)
    total = sum(int(a) for a in amounts_fen)
    ctrl = fen_to_yuan_str(total)
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><CstmrCdtTrfInitn>'
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
    data = "".join(parts).encode("utf-8")
    validate(data, "pain.001.001.09")
    return data


def build_csv(execution_date: dt.date, e2e, names, banks, accounts, amounts_fen,
              remittance: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    d = execution_date.isoformat()
    for ref, nm, bank, acct, amt in zip(e2e, names, banks, accounts, amounts_fen):
        w.writerow([ref, nm, bank, acct, fen_to_yuan_str(int(amt)), "CNY", d, remittance])
    return buf.getvalue().encode("utf-8")
