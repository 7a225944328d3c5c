"""ISO 20022 camt.053.001.08 (bank-to-customer statement): the one codec for both kinds of
account the fund keeps with its banks. A statement is validated against the vendored
``xsd/camt.053.001.08.xsd`` (a malformed file is refused with the line of the first violation)
and read from the one tree that was validated.

**A collection account: the credits that pay bills.** ``read(data, file)`` turns every booked
credit into :class:`StatementLine` records (row = the entry's position in the file): one per
transaction detail (``NtryDtls/TxDtls``), with the end-to-end id from ``Refs/EndToEndId``, the
amount of the detail (or of the entry when it has a single detail), the bank reference
``Refs/AcctSvcrRef`` (else the entry's ``AcctSvcrRef`` with the detail's position), the booking
date. Debits and non-booked entries are ignored; a currency other than CNY is refused.
``read_columns`` gives the same credits as columns (:class:`Credits`).

**A payout account: what happened to our payments.** ``read_payments(data, file)`` returns
one :class:`StatementLine` per transaction detail that carries an ``EndToEndId``: a booked
payment, or ``returned`` for a reversal (``RvslInd`` true) or a return (``RtrInf``, with its
reason code). Pending entries with no return are no outcome yet and are left out.

``build_statement`` (credits) and ``build_payments`` (payments and returns) write valid
statements (the bank simulators of the demos, the benches and the tests).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str, to_fen

from .iso20022 import parse, validate, validate_tree
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
_RVSL, _RTR, _RSN = map(_q, ("RvslInd", "RtrInf", "Rsn"))


def _child(el, tag):
    return el.find(tag) if el is not None else None


def _txt(el) -> str | None:
    return el.text.strip() if el is not None and el.text else None


@dataclass(frozen=True)
class StatementLine:
    """One transaction of a statement (``row`` = its entry's position in the file)."""

    row: int
    bank_ref: str
    e2e_id: str
    amount_fen: int | None
    booked_on: dt.date | None
    returned: bool = False          # a reversal (RvslInd) or a return (RtrInf) of a payment
    reason: str | None = None       # the return's reason code


@dataclass
class Credits:
    """The booked credits of a statement as columns (one item per credit, in file order)."""

    row: list[int] = field(default_factory=list)
    bank_ref: list[str] = field(default_factory=list)
    e2e_id: list[str] = field(default_factory=list)
    amount_fen: list[int] = field(default_factory=list)
    booked_on: list[dt.date] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row)


def _load(data: bytes, file: str):
    """The validated tree of a statement."""
    try:
        root = parse(data)
        validate_tree(root, XSD)
    except InputError as exc:
        raise InputError(f"not a valid camt.053.001.08 statement: {exc.reason}", file=file,
                         field=exc.field) from None
    return root


def read(data: bytes, file: str) -> list[StatementLine]:
    """The booked credits of a statement, see the module docstring."""
    c = read_columns(data, file)
    return [StatementLine(*x) for x in zip(c.row, c.bank_ref, c.e2e_id, c.amount_fen,
                                           c.booked_on)]


def read_columns(data: bytes, file: str) -> Credits:
    """``read`` as columns."""
    return _credits(_load(data, file), file)


def _credits(root, file: str) -> Credits:
    out = Credits()
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


def read_payments(data: bytes, file: str = "statement") -> list[StatementLine]:
    """The outcomes of our payments on a payout account's statement (see the module docstring)."""
    root = _load(data, file)
    out = []
    for row, ntry in enumerate(root.iter(_NTRY), start=1):
        rvsl = (_txt(_child(ntry, _RVSL)) or "").lower() == "true"
        sts = _txt(_child(_child(ntry, _STS), _CD))
        bk = _child(ntry, _BOOKG)
        booked = (bk[0].text or "")[:10] if bk is not None and len(bk) else ""
        try:
            day = dt.date.fromisoformat(booked)
        except ValueError:
            day = None
        for tx in ntry.iter(_TXD):
            ref = _txt(_child(_child(tx, _REFS), _E2E))
            if not ref:
                continue
            reason = _txt(_child(_child(_child(tx, _RTR), _RSN), _CD))
            returned = rvsl or reason is not None
            if not returned and sts != "BOOK":
                continue                    # pending or information only: no outcome yet
            amt = _txt(_child(tx, _AMT)) or _txt(_child(ntry, _AMT))
            out.append(StatementLine(row, _txt(_child(tx, _REFS).find(_ASR)) or "", ref,
                                     to_fen(amt) if amt else None, day, returned, reason))
    return out


def _balance(code: str, fen: int, day: str) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy=\"CNY\">{fen_to_yuan_str(abs(fen))}</Amt>"
            f"<CdtDbtInd>{'CRDT' if fen >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>")


def _document(stmt_id: str, account: str, created: str, balances: str, entries: str) -> bytes:
    """A whole statement around its balances and entries, validated against the XSD."""
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><BkToCstmrStmt>'
           f"<GrpHdr><MsgId>{escape(stmt_id[:35])}</MsgId>"
           f"<CreDtTm>{created}</CreDtTm></GrpHdr>"
           f"<Stmt><Id>{escape(stmt_id[:35])}</Id>"
           f"<CreDtTm>{created}</CreDtTm>"
           f"<Acct><Id><Othr><Id>{escape(account[:34])}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
           f"{balances}{entries}"
           f"</Stmt></BkToCstmrStmt></Document>\n").encode("utf-8")
    validate(doc, XSD)
    return doc


def build_statement(stmt_id: str, account: str, booked_on: dt.date, refs, e2e, amounts_fen,
                    *, created: dt.datetime | None = None, opening_fen: int = 0) -> bytes:
    """A collection account's statement with one booked credit entry per receipt."""
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
    return _document(stmt_id, account, created.strftime("%Y-%m-%dT%H:%M:%S"),
                     _balance("OPBD", opening_fen, d) + _balance("CLBD", closing, d), entries)


def build_payments(stmt_id: str, account: str, on: dt.date,
                   outcomes: list[tuple[str, int, str | None]]) -> bytes:
    """A payout account's statement: (end_to_end_id, amount_fen, reason or None) each; a reason
    makes the entry a returned (reversed) payment."""
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
    return _document(stmt_id, account, f"{on.isoformat()}T18:00:00",
                     _balance("CLBD", 0, on.isoformat()), "".join(e))
