"""Medical domain rules, pure: claim payloads, fingerprints, off-site categories, catalogue rows.

No SQLAlchemy here. The settlement arithmetic is ``shebao.rules.formulas.medical`` (shared with
the ``medical_settlement`` calculator); this module validates what comes in and names things.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from shebao.core.errors import InputError
from shebao.core.money import parse_decimal, to_fen
from shebao.core.regions import check_region
from shebao.rules.formulas.medical import CLASSES, LEVELS, OFFSITE, PERSON_TYPES

PROVIDER_KINDS = ("hospital", "pharmacy")
ITEM_KINDS = ("drug", "treatment", "material")
# registration categories (医保发〔2022〕22号 art. 7) and their sub-types
CATEGORIES = {"long_term": ("retired_elsewhere", "long_term_resident", "stationed"),
              "referral": ("referral",), "emergency": ("emergency",),
              "temporary_other": ("temporary_other",)}
MAX_LINES = 2000
# storage bound, not law: a claim's in-scope fen × a rate numerator (10^8) stays in int64
MAX_LINE_YUAN = 400_000
LOCK_NS = 0x3ED1CA1


def subtree_like(region: str) -> str:
    """LIKE pattern of a region subtree (310000 → 31%, 310100 → 3101%, 310104 → 310104)."""
    if region[2:] == "0000":
        return region[:2] + "%"
    if region[4:] == "00":
        return region[:4] + "%"
    return region


def province(region: str) -> str:
    return region[:2]


def offsite_category(insured: str, treated: str, registered: str | None,
                     emergency: bool) -> str:
    """``home`` in the insured province; else the registration's category, ``emergency``
    (deemed registered) or ``unregistered``."""
    if province(insured) == province(treated):
        return "home"
    if registered:
        return registered
    return "emergency" if emergency else "unregistered"


@dataclass(frozen=True)
class ClaimLine:
    item_code: str
    amount_fen: int


def _code(v, field: str, row: int | None = None) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > 40 or any(c.isspace() for c in v):
        raise InputError("must be a code of 1–40 characters without spaces", field=field,
                         row=row, value=v)
    return v


def parse_lines(lines) -> list[ClaimLine]:
    if not isinstance(lines, list) or not lines:
        raise InputError("a claim needs its itemised lines", field="lines")
    if len(lines) > MAX_LINES:
        raise InputError(f"at most {MAX_LINES} lines per claim", field="lines")
    out = []
    for i, ln in enumerate(lines, 1):
        if not isinstance(ln, dict):
            raise InputError(f"line {i} must be an object", field="lines", row=i)
        code = _code(ln.get("item_code"), "item_code", i)
        amt = ln.get("amount")
        if isinstance(amt, (float, bool)) or amt is None:
            raise InputError("amount must be yuan as a string, e.g. \"12.50\"", field="amount",
                             row=i, value=amt)
        try:
            d = parse_decimal(str(amt))
        except (ValueError, ArithmeticError):
            raise InputError("not an amount", field="amount", row=i, value=amt) from None
        if d <= 0 or d != d.quantize(type(d)("0.01")) or d > MAX_LINE_YUAN:
            raise InputError(f"must be positive yuan with at most two decimals, at most {MAX_LINE_YUAN}",
                             field="amount", row=i, value=amt)
        out.append(ClaimLine(code, to_fen(d)))
    return out


def fingerprint(person_id: int, provider_id: int, admitted_on: dt.date, inpatient: bool,
                lines: list[ClaimLine]) -> str:
    """The same person, provider, admission and bill lines give the same fingerprint: the
    duplicate check (a second submission under another bill number)."""
    body = "|".join([str(person_id), str(provider_id), admitted_on.isoformat(),
                     "I" if inpatient else "O"] + sorted(f"{ln.item_code}:{ln.amount_fen}"
                                                       for ln in lines))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_choice(v, options, field: str) -> str:
    if v not in options:
        raise InputError(f"must be one of {', '.join(options)}", field=field, value=v)
    return v


def check_level(v) -> str:
    return check_choice(v, LEVELS, "level")


def check_class(v, row: int | None = None) -> str:
    if v not in CLASSES[:3]:
        raise InputError("catalogue class must be A (甲), B (乙) or C (丙)", field="class",
                         row=row, value=v)
    return v


def check_treatment_region(v) -> str:
    return check_region(v, field="treatment_region")


__all__ = ["PROVIDER_KINDS", "ITEM_KINDS", "CATEGORIES", "ClaimLine", "parse_lines",
           "fingerprint", "offsite_category", "province", "subtree_like", "check_choice", "check_level",
           "check_class", "check_treatment_region", "CLASSES", "LEVELS", "OFFSITE",
           "PERSON_TYPES", "LOCK_NS"]
