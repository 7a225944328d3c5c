"""ISO 20022 camt.053.001.08 (bank-to-customer statement): the commissioned bank's account
statement of the agency's collection account, read for the credits that pay bills.

``read(data, file)`` validates the document against the vendored ``xsd/camt.053.001.08.xsd``
first (a malformed file is refused with the line of the first violation), then turns every
booked credit into receipts (row = the entry's position in the file): one per transaction detail (``NtryDtls/TxDtls``), with the
end-to-end id from ``Refs/EndToEndId``, the amount of the detail (or of the entry when it has
a single detail), the bank reference ``Refs/AcctSvcrRef`` (else the entry's ``AcctSvcrRef``
with the detail's position), the booking date. Debits and non-booked entries are ignored;
a currency other than CNY is refused.

``build_statement`` writes a valid statement (the bank simulator of the demo and the bench).
"""
from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from lxml import etree

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str

from . import validate
from .receipts_csv import parse_amount

XSD = "camt.053.001.08"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
_N = {"c": NS}


def _q(tag: str) -> str:
    return "{%s}%s" % (NS, tag)


_NTRY, _AMT, _CDI, _STS, _CD, _BOOKG, _DT, _DTTM = map(_q, (
    "Ntry", "Amt", "CdtDbtInd", "Sts", "Cd", "BookgDt", "Dt", "DtTm"))
_ASR, _NREF, _NDTLS, _TXD, _REFS, _E2E = map(_q, (
    "AcctSvcrRef", "NtryRef", "NtryDtls", "TxDtls", "Refs", "EndToEndId"))


def _child(el, tag):
    return el.find(tag) if el is not None else None


def _txt(el) -> str | None:
    return el.text.strip() if el is not None and el.text else None


def read(data: bytes, file: str):
    from shebao.collection.model import Receipt

    try:
        validate(data, XSD)
    except InputError as exc:
        raise InputError(f"not a valid camt.053.001.08 statement: {exc.reason}", file=file,
                         field=exc.field) from None
    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
    out = []
    n_entry = 0
    for ntry in root.iter(_NTRY):
        n_entry += 1
        row = n_entry
        f = {}
        dtls = []
        for ch in ntry:
            if ch.tag == _NDTLS:
                dtls.extend(t for t in ch if t.tag == _TXD)
            else:
                f[ch.tag] = ch
        if _txt(f.get(_CDI)) != "CRDT" or _txt(_child(f.get(_STS), _CD)) not in ("BOOK", None):
            continue
        amt_el = f[_AMT]
        if amt_el.get("Ccy") != "CNY":
            raise InputError(f"currency {amt_el.get('Ccy')!r} is not CNY", file=file, row=row,
                             field="Ntry/Amt/@Ccy")
        bk = f.get(_BOOKG)
        booked = (bk[0].text or "")[:10] if bk is not None and len(bk) else ""
        try:
            day = dt.date.fromisoformat(booked)
        except ValueError:
            raise InputError(f"booking date {booked!r} missing or not a date", file=file,
                             row=row, field="Ntry/BookgDt") from None
        entry_ref = _txt(f.get(_ASR)) or _txt(f.get(_NREF))
        if not dtls:
            if not entry_ref:
                raise InputError("entry without a bank reference", file=file, row=row,
                                 field="Ntry/AcctSvcrRef")
            out.append(Receipt(row, entry_ref, "", parse_amount(
                amt_el.text, file=file, row=row, field="Ntry/Amt"), day))
            continue
        for k, tx in enumerate(dtls, start=1):
            t = {ch.tag: ch for ch in tx}
            refs = {ch.tag: ch for ch in t[_REFS]} if _REFS in t else {}
            ref = _txt(refs.get(_ASR)) or (f"{entry_ref}/{k}" if entry_ref else None)
            if not ref:
                raise InputError("transaction without a bank reference", file=file, row=row,
                                 field="TxDtls/Refs/AcctSvcrRef")
            tx_amt = t.get(_AMT)
            if tx_amt is None and len(dtls) > 1:
                raise InputError("several transactions in one entry need their own amounts",
                                 file=file, row=row, field="TxDtls/Amt")
            src = tx_amt if tx_amt is not None else amt_el
            if src.get("Ccy") != "CNY":
                raise InputError(f"currency {src.get('Ccy')!r} is not CNY", file=file, row=row,
                                 field="TxDtls/Amt/@Ccy")
            fen = parse_amount(src.text, file=file, row=row, field="TxDtls/Amt")
            e2e = _txt(refs.get(_E2E)) or ""
            if e2e == "NOTPROVIDED":
                e2e = ""
            out.append(Receipt(row, ref[:35], e2e, fen, day, ""))
    return out


def build_statement(stmt_id: str, account: str, booked_on: dt.date, refs, e2e, amounts_fen,
                    *, created: dt.datetime | None = None, opening_fen: int = 0) -> bytes:
    """A statement with one booked credit entry per receipt (validated against the XSD)."""
    created = created or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    amounts = [int(a) for a in amounts_fen]
    d = booked_on.isoformat()
    entries = "".join(
        f"<Ntry><NtryRef>{escape(r)}</NtryRef><Amt Ccy=\"CNY\">{fen_to_yuan_str(a)}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{d}</Dt></BookgDt>"
        f"<ValDt><Dt>{d}</Dt></ValDt><AcctSvcrRef>{escape(r)}</AcctSvcrRef>"
        f"<BkTxCd><Prtry><Cd>DDCOLLECTION</Cd></Prtry></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{escape(r)}</AcctSvcrRef>"
        f"<EndToEndId>{escape(e) if e else 'NOTPROVIDED'}</EndToEndId></Refs>"
        f"<Amt Ccy=\"CNY\">{fen_to_yuan_str(a)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        f"</TxDtls></NtryDtls></Ntry>"
        for r, e, a in zip(refs, e2e, amounts))
    closing = opening_fen + sum(amounts)

    def bal(code, fen):
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
                f"<Amt Ccy=\"CNY\">{fen_to_yuan_str(abs(fen))}</Amt>"
                f"<CdtDbtInd>{'CRDT' if fen >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{d}</Dt></Dt></Bal>")

    doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><BkToCstmrStmt>'
           f"<GrpHdr><MsgId>{escape(stmt_id[:35])}</MsgId>"
           f"<CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}</CreDtTm></GrpHdr>"
           f"<Stmt><Id>{escape(stmt_id[:35])}</Id>"
           f"<CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}</CreDtTm>"
           f"<Acct><Id><Othr><Id>{escape(account[:34])}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
           f"{bal('OPBD', opening_fen)}{bal('CLBD', closing)}{entries}"
           f"</Stmt></BkToCstmrStmt></Document>\n").encode("utf-8")
    validate(doc, XSD)
    return doc
