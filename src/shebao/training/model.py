"""Training rules as plain data: drawing an exam (random questions, shuffled options), scoring
it, the certificate's verification code and who is due. No SQLAlchemy here."""
from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from shebao.core.errors import InputError

COURSEWARE_KINDS = ("markdown", "pdf", "video")
# unambiguous characters for a code read aloud or typed from paper (no 0/O, 1/I/L)
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


@dataclass(frozen=True)
class Drawn:
    question_ids: list[int]
    option_orders: list[list[int]]     # per question: original option indices in shown order


def draw(question_options: dict[int, int], n: int, rng: random.Random) -> Drawn:
    """``n`` questions at random from the bank (question id → number of options), each with its
    options shuffled."""
    if n <= 0:
        raise InputError("an exam needs at least one question", field="exam_questions")
    if len(question_options) < n:
        raise InputError(f"the question bank has {len(question_options)} active questions; "
                         f"the exam draws {n}", field="exam_questions")
    ids = rng.sample(sorted(question_options), n)
    orders = []
    for q in ids:
        order = list(range(question_options[q]))
        rng.shuffle(order)
        orders.append(order)
    return Drawn(ids, orders)


@dataclass(frozen=True)
class Score:
    correct: int
    total: int
    pct: int          # whole per cent, rounded down: a pass is never rounded into being
    passed: bool


def score(answers: list[int | None], keys: list[int], pass_pct: int) -> Score:
    """``answers``: the original option index chosen per question (None: unanswered);
    ``keys``: the right original index per question."""
    if len(answers) != len(keys):
        raise InputError("one answer per question", field="answers")
    correct = sum(1 for a, k in zip(answers, keys) if a is not None and a == k)
    pct = (100 * correct) // len(keys) if keys else 0
    return Score(correct, len(keys), pct, pct >= pass_pct)


def is_late(submitted_at: dt.datetime, deadline_at: dt.datetime) -> bool:
    return submitted_at > deadline_at


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a reader types: spaces, dashes and case do not matter."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def due(required: set[int], valid_until: dict[int, dt.date], on: dt.date,
        warn_days: int = 0) -> dict[int, str]:
    """course id → 'missing' | 'expired' | 'expiring' for the required courses a person lacks
    on ``on`` (a certificate valid until a date is good through that date)."""
    out = {}
    for c in sorted(required):
        until = valid_until.get(c)
        if until is None:
            out[c] = "missing"
        elif until < on:
            out[c] = "expired"
        elif warn_days and until < on + dt.timedelta(days=warn_days):
            out[c] = "expiring"
    return out
