"""Pure rules of a case: statuses, the transitions allowed between them, the service item."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shebao.core.errors import ConflictError

RECEIVED = "received"
IN_PROGRESS = "in_progress"
AWAITING_DOCUMENTS = "awaiting_documents"
PENDING_CHECK = "pending_check"
DECIDED = "decided"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
STATUSES = (RECEIVED, IN_PROGRESS, AWAITING_DOCUMENTS, PENDING_CHECK, DECIDED, CLOSED,
            WITHDRAWN)
OPEN = (RECEIVED, IN_PROGRESS, AWAITING_DOCUMENTS, PENDING_CHECK)

# action -> (statuses it may start from, the status it leads to; None = stays)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "assign": ((RECEIVED, IN_PROGRESS, AWAITING_DOCUMENTS, PENDING_CHECK), None),
    "start": ((RECEIVED,), IN_PROGRESS),
    "request_documents": ((RECEIVED, IN_PROGRESS), AWAITING_DOCUMENTS),
    "resume": ((AWAITING_DOCUMENTS,), IN_PROGRESS),
    "note": (STATUSES, None),
    "attach": ((RECEIVED, IN_PROGRESS, AWAITING_DOCUMENTS, PENDING_CHECK, DECIDED), None),
    "submit_decision": ((RECEIVED, IN_PROGRESS), PENDING_CHECK),
    "approve_decision": ((PENDING_CHECK,), DECIDED),
    "reject_decision": ((PENDING_CHECK,), IN_PROGRESS),
    "decide": ((RECEIVED, IN_PROGRESS), DECIDED),
    "close": ((DECIDED,), CLOSED),
    "withdraw": ((RECEIVED, IN_PROGRESS, AWAITING_DOCUMENTS), WITHDRAWN),
    "reopen": ((DECIDED, CLOSED), IN_PROGRESS),
    "rate": ((DECIDED, CLOSED), None),
}


def next_status(action: str, status: str) -> str:
    """The status ``action`` leads to from ``status``; ConflictError when not allowed."""
    starts, to = TRANSITIONS[action]
    if status not in starts:
        raise ConflictError(f"a case that is {status} cannot be {action.replace('_', ' ')}"
                            f" (allowed from: {', '.join(starts)})")
    return to or status


@dataclass(frozen=True)
class ServiceItem:
    """One item of the service catalogue (经办服务事项清单), read from ``service.items.<code>``."""
    code: str
    name_zh: str
    name_en: str
    bureau: str
    limit: int
    limit_unit: str                      # working_days | days
    channels: tuple[str, ...]
    documents: tuple[str, ...]
    permission: str
    approval_kind: str | None
    subject: str
    standard_minutes: int
    reference: str
    in_force_from: dt.date | None = None


@dataclass(frozen=True)
class Case:
    id: int
    item: str
    region: str
    subject_type: str
    subject_id: str
    person_id: int | None
    employer_id: int | None
    channel: str
    outlet: str | None
    status: str
    opened_by: str
    opened_at: dt.datetime
    opened_on: dt.date
    due_on: dt.date
    paused_on: dt.date | None
    assigned_to: str | None
    outcome: str | None
    decision: dict | None
    decision_reason: str | None
    decided_at: dt.datetime | None
    decided_on: dt.date | None
    closed_at: dt.datetime | None
    parent_id: int | None
    detail: dict = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def overdue_on(self, day: dt.date) -> bool:
        """Open past its due date (a paused case waits for the applicant: not overdue)."""
        return self.status in (RECEIVED, IN_PROGRESS, PENDING_CHECK) and day > self.due_on

    @property
    def on_time(self) -> bool | None:
        """Decided by the due date; None while undecided."""
        if self.decided_on is None:
            return None
        return self.decided_on <= self.due_on
