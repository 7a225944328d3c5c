"""ISO 20022 pain.008.001.08 (customer direct debit initiation) for the collection bureau:
the agency (creditor) asks the commissioned bank to debit each payer's account for a bill.

CNY amounts, Chinese domestic (non-IBAN) accounts as ``<Othr><Id>``, one transaction per bill
with the bill's end-to-end id (the bank echoes it on the receipt, which is how receipts are
matched). The document is built from arrays (string joins, no per-element object tree) and
validated against the vendored ``xsd/pain.008.001.08.xsd`` (from the sepaxml 2.7.0 wheel)
*before* it is returned: an invalid file is never written.

CSV variant (``build_csv``), UTF-8, one header line, comma separated, amounts in yuan with two
decimals::

    e2e_id,payer_name,payer_bank,payer_account,amount,currency,collection_date,creditor_account
    SB310104202507E0000000001,上海某某有限公司,BANK,6222000000000000001,2946971.18,CNY,2025-08-10,31001234560000000001
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np

from shebao.core.money import fen_to_yuan_str

from .iso20022 import validate

XSD = "pain.008.001.08"
NS = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"
CSV_HEADER = ("e2e_id", "payer_name", "payer_bank", "payer_account", "amount", "currency",
              "collection_date", "creditor_account")


@dataclass(frozen=True)
class Creditor:
    name: str
    account: str
    agent: str


def _t(s, n: int = 140) -> str:
    return escape(str(s or "")[:n])


def texts(values, n: int = 140) -> list[str]:
    """``[_t(v, n) for v in values]``, column at a time: cut only when some value is longer than
    ``n``, escaped only when some value holds ``&``, ``<`` or ``>``."""
    vals = [str(v) if v else "" for v in values]
    if vals and max(map(len, vals)) > n:
        vals = [v[:n] for v in vals]
    joined = "".join(vals)
    if "&" in joined or "<" in joined or ">" in joined:
        vals = [escape(v) for v in vals]
    return vals


def yuan(amounts_fen) -> list[str]:
    """``[fen_to_yuan_str(a) for a in amounts_fen]``, with numpy for the usual non-negative
    amounts."""
    a = np.asarray([int(x) for x in amounts_fen] if not isinstance(amounts_fen, np.ndarray)
                   else amounts_fen, dtype=np.int64)
    if len(a) == 0:
        return []
    if a.min() < 0:
        return [fen_to_yuan_str(int(x)) for x in a]
    return np.char.add(np.char.add((a // 100).astype(str), "."),
                       np.char.zfill((a % 100).astype(str), 2)).tolist()


def build(msg_id: str, creditor: Creditor, collection_date: dt.date, e2e, names, banks,
          accounts, amounts_fen, *, created: dt.datetime | None = None,
          validate_xsd: bool = True) -> bytes:
    """The pain.008 document for parallel sequences of bills (all amounts > 0)."""
    created = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    e2e = list(e2e)
    amounts = [int(a) for a in amounts_fen]
    total = fen_to_yuan_str(sum(amounts))
    n = len(amounts)
    tx = [f"<DrctDbtTxInf><PmtId><EndToEndId>{e}</EndToEndId></PmtId>"
          f"<InstdAmt Ccy=\"CNY\">{a}</InstdAmt>"
          f"<DrctDbtTx><MndtRltdInf><MndtId>{m}</MndtId></MndtRltdInf></DrctDbtTx>"
          f"<DbtrAgt><FinInstnId><Nm>{b}</Nm></FinInstnId></DbtrAgt>"
          f"<Dbtr><Nm>{nm}</Nm></Dbtr>"
          f"<DbtrAcct><Id><Othr><Id>{ac}</Id></Othr></Id></DbtrAcct>"
          f"<RmtInf><Ustrd>{u}</Ustrd></RmtInf></DrctDbtTxInf>"
          for e, a, m, b, nm, ac, u in zip(
              texts(e2e, 35), yuan(amounts), texts(["M" + e[2:] for e in e2e], 35),
              texts(banks), texts(names), texts(accounts, 34),
              texts(["social insurance " + e for e in e2e], 140))]
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><CstmrDrctDbtInitn>'
        f"<GrpHdr><MsgId>{_t(msg_id, 35)}</MsgId><CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}"
        f"</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{total}</CtrlSum>"
        f"<InitgPty><Nm>{_t(creditor.name)}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{_t(msg_id, 35)}</PmtInfId><PmtMtd>DD</PmtMtd>"
        f"<NbOfTxs>{n}</NbOfTxs><CtrlSum>{total}</CtrlSum>"
        f"<ReqdColltnDt>{collection_date.isoformat()}</ReqdColltnDt>"
        f"<Cdtr><Nm>{_t(creditor.name)}</Nm></Cdtr>"
        f"<CdtrAcct><Id><Othr><Id>{_t(creditor.account, 34)}</Id></Othr></Id>"
        f"<Ccy>CNY</Ccy></CdtrAcct>"
        f"<CdtrAgt><FinInstnId><Nm>{_t(creditor.agent)}</Nm></FinInstnId></CdtrAgt>"
        ).encode("utf-8")
    doc = head + "".join(tx).encode("utf-8") + b"</PmtInf></CstmrDrctDbtInitn></Document>\n"
    if validate_xsd:
        validate(doc, XSD)
    return doc


def build_csv(creditor: Creditor, collection_date: dt.date, e2e, names, banks, accounts,
              amounts_fen) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    d = collection_date.isoformat()
    w.writerows((e, nm, b, ac, fen_to_yuan_str(a), "CNY", d, creditor.account)
                for e, nm, b, ac, a in zip(e2e, names, banks, accounts, amounts_fen))
    return out.getvalue().encode("utf-8")
