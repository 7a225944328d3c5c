"""The CSV receipt format of the commissioned banks (the simple alternative to camt.053).

UTF-8 (GB18030 accepted), comma separated, one header line with exactly these columns::

    bank_ref,e2e_id,amount,currency,booked_on,payer_account
    B20250810000001,SB310104202507E0000000001,2946971.18,CNY,2025-08-10,6222000000000000001

* ``bank_ref``  the bank's unique reference of the credit (1–35 characters); a receipt is
  posted once per reference, whatever file it arrives in.
* ``e2e_id``    the end-to-end id of the bill from the direct-debit file (empty or unknown:
  the money goes to suspense).
* ``amount``    yuan, positive, at most two decimals, no thousands separators.
* ``currency``  ``CNY``.
* ``booked_on`` the booking date, ``YYYY-MM-DD``.
* ``payer_account`` optional.

``read`` refuses the whole file on the first problem with an InputError naming file, row
(1 = header) and field; ``build`` writes the format (used by the bank simulator).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from shebao.core.errors import InputError
from shebao.core.money import fen_to_yuan_str

HEADER = ("bank_ref", "e2e_id", "amount", "currency", "booked_on", "payer_account")
_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-?:().,'+ ]{0,34}$")


@dataclass(frozen=True)
class CsvReceipt:
    """One line of the file (``row`` = its line number, 1 = the header)."""

    row: int
    bank_ref: str
    e2e_id: str
    amount_fen: int
    booked_on: dt.date
    payer_account: str = ""


def parse_amount(text: str, *, file: str, row: int, field: str = "amount") -> int:
    s = (text or "").strip()
    if not _AMOUNT.match(s):
        raise InputError(f"amount {text!r} is not a positive decimal number of yuan with at most "
                         f"2 decimals", file=file, row=row, field=field, value=text)
    whole, _, frac = s.partition(".")
    fen = int(whole) * 100 + int((frac + "00")[:2])
    if fen <= 0:
        raise InputError("amount must be positive", file=file, row=row, field=field, value=text)
    return fen


def read(data: bytes, file: str) -> list[CsvReceipt]:
    """The receipts of a CSV file (see the module docstring)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            txt = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("file is neither UTF-8 nor GB18030", file=file)
    rows = list(csv.reader(io.StringIO(txt)))
    if not rows or tuple(h.strip() for h in rows[0]) != HEADER:
        raise InputError(f"header must be exactly {','.join(HEADER)}", file=file, row=1,
                         field="header")
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(HEADER):
            raise InputError(f"{len(r)} fields, expected {len(HEADER)}", file=file, row=i,
                             field="*")
        ref, e2e, amount, ccy, booked, acct = (c.strip() for c in r)
        if not _REF.match(ref):
            raise InputError(f"bank reference {ref!r} must be 1–35 characters", file=file,
                             row=i, field="bank_ref", value=ref)
        if len(e2e) > 35:
            raise InputError("end-to-end id longer than 35 characters", file=file, row=i,
                             field="e2e_id", value=e2e)
        fen = parse_amount(amount, file=file, row=i)
        if ccy != "CNY":
            raise InputError(f"currency {ccy!r} is not CNY", file=file, row=i, field="currency",
                             value=ccy)
        try:
            day = dt.date.fromisoformat(booked)
        except ValueError:
            raise InputError(f"booking date {booked!r} is not YYYY-MM-DD", file=file, row=i,
                             field="booked_on", value=booked) from None
        out.append(CsvReceipt(i, ref, e2e, fen, day, acct))
    return out


def build(refs, e2e, amounts_fen, booked_on: dt.date, accounts=None) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    accounts = accounts if accounts is not None else [""] * len(refs)
    day = booked_on.isoformat()
    w.writerows((r, e, fen_to_yuan_str(a), "CNY", day, ac)
                for r, e, a, ac in zip(refs, e2e, amounts_fen, accounts))
    return out.getvalue().encode("utf-8")
