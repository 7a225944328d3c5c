"""(benefits) Bank-to-customer statements, ISO 20022 camt.053.001.08: what happened to our payments.

:func:`parse` validates against the vendored XSD and returns one :class:`Outcome` per
transaction detail that carries an ``EndToEndId``: ``paid`` for a booked debit, ``failed`` for
a reversal (``RvslInd`` true) or a return (``RtrInf``) with the reason code. The CSV variant
(``end_to_end_id,status,reason`` with status ``paid`` or ``failed``) is parsed by
:func:`parse_csv`. :func:`build` writes a statement (used by tests and the demo bank).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str, to_fen

from shebao.channels.bankfiles import validate

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass(frozen=True)
class Outcome:
    end_to_end_id: str
    status: str            # paid | failed
    amount_fen: int | None
    reason: str | None


def parse(xml_bytes: bytes) -> list[Outcome]:
    validate(xml_bytes, "camt.053.001.08")
    root = etree.fromstring(xml_bytes, parser=etree.XMLParser(huge_tree=True,
                                                              resolve_entities=False))
    ns = {"c": NS}
    out = []
    for ntry in root.iterfind(".//c:Ntry", ns):
        rvsl = (ntry.findtext("c:RvslInd", namespaces=ns) or "").strip().lower() == "true"
        sts = ntry.findtext("c:Sts/c:Cd", namespaces=ns)
        for tx in ntry.iterfind(".//c:TxDtls", ns):
            ref = tx.findtext("c:Refs/c:EndToEndId", namespaces=ns)
            if not ref:
                continue
            amt = tx.findtext("c:Amt", namespaces=ns) or ntry.findtext("c:Amt", namespaces=ns)
            rsn = tx.findtext("c:RtrInf/c:Rsn/c:Cd", namespaces=ns)
            failed = rvsl or rsn is not None
            if not failed and sts != "BOOK":
                continue  # pending/information only: no outcome yet
            out.append(Outcome(ref.strip(), "failed" if failed else "paid",
                               to_fen(amt.strip()) if amt else None, rsn))
    return out


def parse_csv(data: bytes) -> list[Outcome]:
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    out = []
    for i, r in enumerate(rows, start=2):
        ref, status = (r.get("end_to_end_id") or "").strip(), (r.get("status") or "").strip()
        if not ref:
            raise InputError("end_to_end_id is required", field="end_to_end_id", row=i)
        if status not in ("paid", "failed"):
            raise InputError(f"status must be paid or failed, got {status!r}", field="status",
                             row=i)
        out.append(Outcome(ref, status, None, (r.get("reason") or "").strip() or None))
    return out


def build(stmt_id: str, account: str, on: dt.date, outcomes: list[tuple[str, int, str | None]]
          ) -> bytes:
    """A statement of the fund's payout account: (end_to_end_id, amount_fen, reason or None);
    a reason makes the entry a returned (reversed) payment."""
    e = []
    for ref, fen, reason in outcomes:
        rtr = (f"<RtrInf><Rsn><Cd>{escape(reason)}</Cd></Rsn></RtrInf>" if reason else "")
        e.append(
            f'<Ntry><Amt Ccy="CNY">{fen_to_yuan_str(fen)}</Amt><CdtDbtInd>'
            f'{"CRDT" if reason else "DBIT"}</CdtDbtInd>'
            f'{"<RvslInd>true</RvslInd>" if reason else ""}<Sts><Cd>BOOK</Cd></Sts>'
            f'<BookgDt><Dt>{on.isoformat()}</Dt></BookgDt><BkTxCd><Prtry><Cd>PMNT</Cd></Prtry>'
            f'</BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>{escape(ref)}</EndToEndId></Refs>'
            f'<Amt Ccy="CNY">{fen_to_yuan_str(fen)}</Amt>{rtr}</TxDtls></NtryDtls></Ntry>')
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><BkToCstmrStmt>'
           f'<GrpHdr><MsgId>{escape(stmt_id)}</MsgId><CreDtTm>{on.isoformat()}T18:00:00'
           f'</CreDtTm></GrpHdr><Stmt><Id>{escape(stmt_id)}</Id><CreDtTm>{on.isoformat()}'
           f'T18:00:00</CreDtTm><Acct><Id><Othr><Id>{escape(account)}</Id></Othr></Id>'
           f'<Ccy>CNY</Ccy></Acct>'
           f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">0.00</Amt>'
           f'<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>'
           + "".join(e) + "</Stmt></BkToCstmrStmt></Document>\n")
    data = doc.encode("utf-8")
    validate(data, "camt.053.001.08")
    return data
