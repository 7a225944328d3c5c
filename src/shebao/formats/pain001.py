"""Customer credit transfer initiation, ISO 20022 pain.001.001.09, for benefit payments in CNY
to domestic (non-IBAN) accounts, and the documented CSV variant.

XML: one ``PmtInf`` per file (debtor = the fund's payout account at the commissioned bank),
one ``CdtTrfTxInf`` per payment: ``EndToEndId`` (our payment reference, ≤ 35 characters; the
bank returns it in camt.053), ``InstdAmt Ccy="CNY"``, creditor agent by bank name, creditor
account as ``Othr/Id`` (a domestic account number, not an IBAN), purpose code ``PENS``, and the
remittance text.

The document is *streamed*: ``write`` builds it a block of payments at a time, a column at a
time (as :mod:`.pain008` does: one escape pass per column, numpy for the amounts), validates
the block and writes it, so neither the text nor the tree of a whole file is ever held. A block
is validated as the document ``head + block + tail`` (the very bytes written around it): the
schema's ``PmtInf`` ends in ``CdtTrfTxInf`` maxOccurs unbounded and declares no identity
constraint, so the whole file is valid exactly when every such document is (libxml2's
validate-while-parsing reader is 2.5x slower than validating a block's tree). A violation names
the payment (``field="payment 18"``, counted from 1 in the file) or ``"header"``.
``write_file`` writes to ``<path>.part`` and renames only a valid file: an invalid file is
never produced. ``build`` returns the bytes (byte for byte those of the earlier one-string
builder).

CSV (UTF-8, comma, header row, one payment per line):

    end_to_end_id,creditor_name,bank_name,account,amount,currency,execution_date,remittance
    PY12-345-1,张三,中国工商银行,6222000011112222,4321.20,CNY,2025-11-05,养老金 2025-11

``amount`` is yuan with two decimals; the last line is not a total (the control sum is the
sum of ``amount``; a bank re-computes it).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from shebao.core.money import fen_to_yuan_str

from shebao.core.errors import InputError

from .iso20022 import first_error, parse
from .pain008 import yuan

XSD = "pain.001.001.09"
NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CSV_HEADER = ["end_to_end_id", "creditor_name", "bank_name", "account", "amount", "currency",
              "execution_date", "remittance"]
BLOCK = 20_000            # payments per written block (bounded memory; not law)


@dataclass(frozen=True)
class Debtor:
    name: str            # e.g. 上海市社会保险事业管理中心
    account: str         # the fund's payout account (domestic number)
    bank_name: str


def _t(s) -> str:
    return escape(str(s if s is not None else ""))


def _texts(values) -> list[str]:
    """``[_t(v) for v in values]`` a column at a time: escaped only when the column holds
    ``&``, ``<`` or ``>``."""
    vals = ["" if v is None else v if type(v) is str else str(v) for v in values]
    joined = "".join(vals)
    if "&" in joined or "<" in joined or ">" in joined:
        vals = [escape(v) for v in vals]
    return vals


def _head(msg_id, debtor: Debtor, execution_date: dt.date, n: int, total: int,
          created: dt.datetime) -> bytes:
    ctrl = fen_to_yuan_str(total)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><CstmrCdtTrfInitn>'
            f'<GrpHdr><MsgId>{_t(msg_id)}</MsgId><CreDtTm>{created.strftime("%Y-%m-%dT%H:%M:%S")}'
            f'</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl}</CtrlSum><InitgPty><Nm>'
            f'{_t(debtor.name)}</Nm></InitgPty></GrpHdr>'
            f'<PmtInf><PmtInfId>{_t(msg_id)}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{n}</NbOfTxs>'
            f'<CtrlSum>{ctrl}</CtrlSum><ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt>'
            f'</ReqdExctnDt><Dbtr><Nm>{_t(debtor.name)}</Nm></Dbtr><DbtrAcct><Id><Othr><Id>'
            f'{_t(debtor.account)}</Id></Othr></Id><Ccy>CNY</Ccy></DbtrAcct><DbtrAgt><FinInstnId>'
            f'<Nm>{_t(debtor.bank_name)}</Nm></FinInstnId></DbtrAgt>').encode("utf-8")


TAIL = b"</PmtInf></CstmrCdtTrfInitn></Document>\n"


def _block(e2e, names, banks, accounts, amounts, rmt: str) -> bytes:
    mid = "</Nm></Cdtr><CdtrAcct><Id><Othr><Id>"
    end = (f"</Id></Othr></Id></CdtrAcct><Purp><Cd>PENS</Cd></Purp><RmtInf><Ustrd>{rmt}"
           "</Ustrd></RmtInf></CdtTrfTxInf>")
    return "".join([
        f'<CdtTrfTxInf><PmtId><EndToEndId>{ref}</EndToEndId></PmtId><Amt>'
        f'<InstdAmt Ccy="CNY">{amt}</InstdAmt></Amt><CdtrAgt>'
        f'<FinInstnId><Nm>{bank}</Nm></FinInstnId></CdtrAgt><Cdtr><Nm>{nm}{mid}{acct}{end}'
        for ref, nm, bank, acct, amt in zip(_texts(e2e), _texts(names), _texts(banks),
                                            _texts(accounts), yuan(amounts))]).encode("utf-8")


def write(out, msg_id: str, debtor: Debtor, execution_date: dt.date, e2e, names, banks,
          accounts, amounts_fen, remittance: str, created: dt.datetime | None = None,
          *, validate_xsd: bool = True) -> dict:
    """Stream the pain.001.001.09 document for parallel sequences of payments to the binary
    stream ``out``, a block at a time, each validated before it is written (``InputError``
    naming the payment and the reason of the first violation). Returns ``{"payments",
    "total_fen", "bytes", "sha256"}``."""
    created = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    amounts = [int(a) for a in amounts_fen]
    n, total = len(amounts), sum(amounts)
    rmt = _t(remittance)
    head = _head(msg_id, debtor, execution_date, n, total, created)
    sha = hashlib.sha256(head)
    out.write(head)
    size = len(head)
    if validate_xsd and not n:
        _check(head, b"", 0)
    for i in range(0, n, BLOCK):
        j = i + BLOCK
        block = _block(e2e[i:j], names[i:j], banks[i:j], accounts[i:j], amounts[i:j], rmt)
        if validate_xsd:
            _check(head, block, i)
        out.write(block)
        sha.update(block)
        size += len(block)
    out.write(TAIL)
    sha.update(TAIL)
    return {"payments": n, "total_fen": total, "bytes": size + len(TAIL),
            "sha256": sha.hexdigest()}


_HEAD_ELEMENTS = 8          # PmtInf's children before the first CdtTrfTxInf (see _head)
_PAYMENT = re.compile(r"^/\*/\*/\*\[2\]/\*\[(\d+)\]")


def _check(head: bytes, block: bytes, first: int) -> None:
    """Validate ``head + block + TAIL``; a violation names the payment (its number in the
    file) or the header."""
    err = first_error(parse(head + block + TAIL), XSD)
    if err is None:
        return
    m = _PAYMENT.match(err.path)
    k = int(m.group(1)) - _HEAD_ELEMENTS if m else 0
    raise InputError(f"{XSD}: {err.message}", field=f"payment {first + k}" if k > 0 else "header")


def write_file(path, *args, **kw) -> dict:
    """``write`` to ``path`` through ``<path>.part``, renamed only when the whole document is
    valid (an invalid or interrupted file is removed)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        with open(tmp, "wb", buffering=1 << 20) as fh:
            info = write(fh, *args, **kw)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return info


def build(msg_id: str, debtor: Debtor, execution_date: dt.date, e2e, names, banks, accounts,
          amounts_fen, remittance: str, created: dt.datetime | None = None) -> bytes:
    """The pain.001.001.09 document for parallel sequences of payments, as bytes; validated."""
    buf = io.BytesIO()
    write(buf, msg_id, debtor, execution_date, list(e2e), list(names), list(banks),
          list(accounts), amounts_fen, remittance, created)
    return buf.getvalue()


def build_csv(execution_date: dt.date, e2e, names, banks, accounts, amounts_fen,
              remittance: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    d = execution_date.isoformat()
    for ref, nm, bank, acct, amt in zip(e2e, names, banks, accounts, amounts_fen):
        w.writerow([ref, nm, bank, acct, fen_to_yuan_str(int(amt)), "CNY", d, remittance])
    return buf.getvalue().encode("utf-8")
