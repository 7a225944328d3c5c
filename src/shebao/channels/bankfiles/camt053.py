"""ISO 20022 camt.053.001.08 (bank-to-customer statement): the commissioned bank's account
statement of the agency's collection account, read for the credits that pay bills.

``read(data, file)`` validates the document against the vendored ``xsd/camt.053.001.08.xsd``
(a malformed file is refused with the line of the first violation) and turns every booked
credit into receipts (row = the entry's position in the file): one per transaction detail
(``NtryDtls/TxDtls``), with the end-to-end id from ``Refs/EndToEndId``, the amount of the
detail (or of the entry when it has a single detail), the bank reference ``Refs/AcctSvcrRef``
(else the entry's ``AcctSvcrRef`` with the detail's position), the booking date. Debits and
non-booked entries are ignored; a currency other than CNY is refused. ``read_columns`` gives
the same receipts as columns. The document is parsed once: the validated tree is the one read.

``build_statement`` writes a valid statement (the bank simulator of the demo and the bench).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str

from . import parse, validate, validate_tree
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


@dataclass
class Receipts:
    """The receipts of a statement as columns (one item per receipt, in file order)."""

    row: list[int] = field(default_factory=list)
    bank_ref: list[str] = field(default_factory=list)
    e2e_id: list[str] = field(default_factory=list)
    amount_fen: list[int] = field(default_factory=list)
    booked_on: list[dt.date] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row)


def read(data: bytes, file: str):
    """The receipts of a statement (``collection.model.Receipt``), see the module docstring."""
    from shebao.collection.model import Receipt

    c = read_columns(data, file)
    return [Receipt(*x) for x in zip(c.row, c.bank_ref, c.e2e_id, c.amount_fen, c.booked_on,
                                     [""] * len(c))]


def read_columns(data: bytes, file: str) -> Receipts:
    """``read`` as columns, from the one tree that was validated."""
    try:
        root = parse(data)
        validate_tree(root, XSD)
    except InputError as exc:
        raise InputError(f"not a valid camt.053.001.08 statement: {exc.reason}", file=file,
                         field=exc.field) from None
    return _read(root, file)


def _read(root, file: str) -> Receipts:
    out = Receipts()
    o_row, o_ref, o_e2e, o_amt, o_day = (out.row, out.bank_ref, out.e2e_id, out.amount_fen,
                                        out.booked_on)
    days: dict[str, dt.date] = {}
    amounts: dict[str, int] = {}
    n_entry = 0
    for ntry in root.iter(_NTRY):
        n_entry += 1
        row = n_entry
        amt_el = cdi = sts = bk = asr = nref = None
        dtls = []
        for ch in ntry:              # the last of a repeated child counts
            tag = ch.tag
            if tag == _NDTLS:
                dtls.extend(t for t in ch if t.tag == _TXD)
            elif tag == _AMT:
                amt_el = ch
            elif tag == _CDI:
                cdi = ch
            elif tag == _STS:
                sts = ch
            elif tag == _BOOKG:
                bk = ch
            elif tag == _ASR:
                asr = ch
            elif tag == _NREF:
                nref = ch
        if _txt(cdi) != "CRDT" or _txt(_child(sts, _CD)) not in ("BOOK", None):
            continue
        if amt_el is None:
            raise KeyError(_AMT)
        if amt_el.get("Ccy") != "CNY":
            raise InputError(f"currency {amt_el.get('Ccy')!r} is not CNY", file=file, row=row,
                             field="Ntry/Amt/@Ccy")
        booked = (bk[0].text or "")[:10] if bk is not None and len(bk) else ""
        day = days.get(booked)
        if day is None:
            try:
                day = days[booked] = dt.date.fromisoformat(booked)
            except ValueError:
                raise InputError(f"booking date {booked!r} missing or not a date", file=file,
                                 row=row, field="Ntry/BookgDt") from None
        entry_ref = _txt(asr) or _txt(nref)
        if not dtls:
            if not entry_ref:
                raise InputError("entry without a bank reference", file=file, row=row,
                                 field="Ntry/AcctSvcrRef")
            o_row.append(row)
            o_ref.append(entry_ref)
            o_e2e.append("")
            o_amt.append(parse_amount(amt_el.text, file=file, row=row, field="Ntry/Amt"))
            o_day.append(day)
            continue
        several = len(dtls) > 1
        for k, tx in enumerate(dtls, start=1):
            refs_el = tx_amt = None
            for ch in tx:
                tag = ch.tag
                if tag == _REFS:
                    refs_el = ch
                elif tag == _AMT:
                    tx_amt = ch
            r_asr = r_e2e = None
            if refs_el is not None:
                for ch in refs_el:
                    tag = ch.tag
                    if tag == _ASR:
                        r_asr = ch
                    elif tag == _E2E:
                        r_e2e = ch
            ref = _txt(r_asr) or (f"{entry_ref}/{k}" if entry_ref else None)
            if not ref:
                raise InputError("transaction without a bank reference", file=file, row=row,
                                 field="TxDtls/Refs/AcctSvcrRef")
            if tx_amt is None and several:
                raise InputError("several transactions in one entry need their own amounts",
                                 file=file, row=row, field="TxDtls/Amt")
            src = tx_amt if tx_amt is not None else amt_el
            if src.get("Ccy") != "CNY":
                raise InputError(f"currency {src.get('Ccy')!r} is not CNY", file=file, row=row,
                                 field="TxDtls/Amt/@Ccy")
            text = src.text
            fen = amounts.get(text)
            if fen is None:
                fen = parse_amount(text, file=file, row=row, field="TxDtls/Amt")
                if len(amounts) < 100_000:
                    amounts[text] = fen
            e2e = _txt(r_e2e) or ""
            if e2e == "NOTPROVIDED":
                e2e = ""
            o_row.append(row)
            o_ref.append(ref[:35])
            o_e2e.append(e2e)
            o_amt.append(fen)
            o_day.append(day)
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
