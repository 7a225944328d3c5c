"""Mobility rules over plain data: the steps of a transfer and the certification state machine.

The legal rules (what moves, claim place, bridge, medical continuity) are
:mod:`shebao.rules.formulas.mobility`, shared with the calculators; this module adds the
procedure (which step follows which, who acts, the status each step leaves) and the living
certification cycle (rules-2.md §5), both pure.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shebao.core.errors import ConflictError, InputError
from shebao.core.periods import add_months, months_between

KINDS = ("pension", "medical", "bridge")
CHANNELS = ("online", "counter", "api", "system")

# the steps of each kind of transfer, in order, with the side that acts: "to" is the new
# place (or, for a bridge, the claim place's receiving scheme), "from" the old place
STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "pension": (("contact_letter", "to"), ("transfer_out", "from"), ("record_in", "to")),
    "bridge": (("contact_letter", "to"), ("transfer_out", "from"), ("record_in", "to")),
    "medical": (("transfer_out", "from"), ("record_in", "to")),
}
STATUS_AFTER = {"contact_letter": "letter_sent", "transfer_out": "funds_sent",
                "record_in": "recorded"}
LIVE = ("applied", "letter_sent", "funds_sent")
ENDED = ("recorded", "refused", "withdrawn")
# the service item (case) each side works under
ITEM_IN = {"pension": "mobility.pension_transfer_in", "bridge": "mobility.bridge",
           "medical": "mobility.medical_transfer"}
ITEM_OUT = {"pension": "mobility.pension_transfer_out", "bridge": "mobility.bridge",
            "medical": "mobility.medical_transfer"}
# the scheme of the funds that move
SCHEME = {"pension": "pension", "bridge": "pension", "medical": "medical"}
# the scheme they arrive in: a bridge (employee years < 15) moves the employee account into the
# resident scheme (人社部发〔2014〕17号); with ≥ 15 years its sheet turns it round (the resident
# account into the employee scheme: ``funds.schemes_of``)
SCHEME_IN = {"pension": "pension", "bridge": "resident_pension", "medical": "medical"}


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}", field="kind", value=kind)
    return kind


def first_step(kind: str) -> tuple[str, str]:
    return STEPS[check_kind(kind)][0]


def next_step(kind: str, done: str) -> tuple[str, str] | None:
    """The step after ``done`` (and the side that acts), or None after the last."""
    names = [s for s, _ in STEPS[kind]]
    i = names.index(done)
    return STEPS[kind][i + 1] if i + 1 < len(names) else None


def expect_step(kind: str, status: str, step: str) -> None:
    """Refuse a step out of order: the open step of a transfer in ``status`` must be ``step``."""
    if status not in LIVE:
        raise ConflictError(f"the transfer is {status}; nothing more can be done")
    done = {v: k for k, v in STATUS_AFTER.items()}.get(status)
    want = first_step(kind)[0] if done is None else next_step(kind, done)[0]
    if want != step:
        raise ConflictError(f"the transfer is {status}: the next step is {want}, not {step}")


def step_limit(limits: dict, kind: str, step: str) -> int:
    key = f"{kind}.{step}"
    if key not in limits:
        raise InputError(f"no statutory limit for {key} in mobility.step_limits", field="step")
    return int(limits[key])


# --- the living-certification cycle (rules-2.md §5) ----------------------------------------

CERTIFIED, SUSPENDED, DECEASED = "certified", "suspended", "deceased"


@dataclass(frozen=True)
class CertState:
    state: str
    last_certified_on: dt.date | None
    suspended_from: dt.date | None = None    # first month not paid
    resumed_from: dt.date | None = None      # first month paid again
    back_pay_months: int = 0
    death_date: dt.date | None = None


def month_of(d: dt.date) -> dt.date:
    return d.replace(day=1)


def expiry_cutoff(month: dt.date, window_months: int) -> dt.date:
    """A certification dated before this day has run out by ``month``: last certified in May
    2024 with a 12-month window → still good in May 2025, suspended from June 2025."""
    return add_months(month_of(month), -window_months)


def on_month(s: CertState, month: dt.date, window_months: int) -> CertState:
    """The monthly check: a certified pensioner whose window has run out is suspended from
    this month."""
    if s.state != CERTIFIED or s.last_certified_on is None:
        return s
    if s.last_certified_on < expiry_cutoff(month, window_months):
        return CertState(SUSPENDED, s.last_certified_on, month_of(month), None, 0, None)
    return s


def on_certified(s: CertState, on: dt.date, now_month: dt.date) -> CertState:
    """A certification (data comparison or the person) dated ``on``, known in ``now_month``.
    A suspended pensioner resumes from the month after ``on`` (or ``now_month`` if later) and
    is back-paid every month from the suspension until then (人社部发〔2015〕32号 art. 49)."""
    if s.state == DECEASED:
        raise ConflictError("a deceased pensioner cannot be certified")
    last = max(s.last_certified_on or on, on)
    if s.state == CERTIFIED:
        return CertState(CERTIFIED, last, None, s.resumed_from, s.back_pay_months, None)
    resume = max(add_months(month_of(on), 1), month_of(now_month), s.suspended_from)
    return CertState(CERTIFIED, last, None, resume, months_between(s.suspended_from, resume),
                     None)


def on_death(s: CertState, death_date: dt.date) -> CertState:
    """A death found (any time later): entitlement ends after the month of death; months paid
    after it are an overpayment (benefits.detect_overpayments recovers them)."""
    return CertState(DECEASED, s.last_certified_on, s.suspended_from, None, 0, death_date)


def overpaid_months(death_date: dt.date, paid_through: dt.date, suspended_from: dt.date | None
                    ) -> int:
    """Months paid after the month of death: from the month after death up to the last month
    paid (``paid_through``) or the month before a suspension, whichever is earlier."""
    first = add_months(month_of(death_date), 1)
    last = month_of(paid_through)
    if suspended_from is not None:
        last = min(last, add_months(suspended_from, -1))
    return max(months_between(first, add_months(last, 1)), 0)
