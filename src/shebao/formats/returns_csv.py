"""The CSV payment-status format of the commissioned banks (the simple alternative to a
camt.053 of the payout account).

UTF-8, comma separated, a header line naming at least ``end_to_end_id`` and ``status``::

    end_to_end_id,status,reason
    PY7-1001-1,paid,
    PY7-1002-1,failed,AC04

* ``end_to_end_id`` the payment's id from the pain.001 file (required).
* ``status``        ``paid`` or ``failed``.
* ``reason``        optional, the bank's return reason code.

``read`` refuses the whole file on the first problem with an InputError naming the row
(1 = header) and field.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from shebao.core.errors import InputError

STATUSES = ("paid", "failed")


@dataclass(frozen=True)
class PaymentStatus:
    row: int
    end_to_end_id: str
    status: str            # paid | failed
    reason: str | None


def read(data: bytes) -> list[PaymentStatus]:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    out = []
    for i, r in enumerate(rows, start=2):
        ref, status = (r.get("end_to_end_id") or "").strip(), (r.get("status") or "").strip()
        if not ref:
            raise InputError("end_to_end_id is required", field="end_to_end_id", row=i)
        if status not in STATUSES:
            raise InputError(f"status must be paid or failed, got {status!r}", field="status",
                             row=i)
        out.append(PaymentStatus(i, ref, status, (r.get("reason") or "").strip() or None))
    return out
