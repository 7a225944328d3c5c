"""The benefits bureau's domain: plain data and pure rules (no database, no framework)."""
from __future__ import annotations

from dataclasses import dataclass

# ------------------------------------------------------------------------------ pension case
CASE_STATUSES = ("open", "incomplete", "ineligible", "computed", "submitted", "approved",
                 "rejected")


# ------------------------------------------------------------------------------ bank returns
@dataclass(frozen=True)
class Outcome:
    """What the bank reports about one of our payments."""

    end_to_end_id: str
    status: str            # paid | failed
    amount_fen: int | None
    reason: str | None


def outcomes_of_statement(lines) -> list[Outcome]:
    """A payout account's camt.053 lines (``formats.camt053.read_payments``) → outcomes: a
    returned line failed, a booked one was paid."""
    return [Outcome(x.e2e_id, "failed" if x.returned else "paid", x.amount_fen, x.reason)
            for x in lines]


def outcomes_of_csv(rows) -> list[Outcome]:
    """The CSV payment statuses (``formats.returns_csv.read``) → outcomes (no amount)."""
    return [Outcome(r.end_to_end_id, r.status, None, r.reason) for r in rows]
