"""Registry domain: vocabularies and invariants, free of SQLAlchemy.

Invariants (checked here, enforced by the services, and by the database where it can):

* one open enrolment per person × scheme (also a unique partial index);
* a person's enrolments in one scheme do not overlap; a person's spells with one employer do
  not overlap;
* nothing starts after a person's death date (spells and enrolments end on it at the latest).

Dates are inclusive; ``end_date = None`` means open.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from shebao.core import regions
from shebao.core.errors import InputError, InvariantError
from shebao.core.ids import parse_citizen_id
from shebao.core.schemes import EMPLOYEE_SCHEMES, FLEXIBLE_SCHEMES, SCHEMES  # noqa: F401
from shebao.core.schemes import PERSON_KINDS as KINDS  # noqa: F401
PERSON_STATUSES = ("active", "deceased", "emigrated", "merged")
EMPLOYER_STATUSES = ("active", "closed")
ENROLMENT_STATUSES = ("active", "suspended", "ended")
LEAVE_REASONS = {
    # reason → involuntary (unemployment insurance: 非因本人意愿中断就业)
    "resignation": False, "dismissal": True, "contract_end": True, "bankruptcy": True,
    "mutual_agreement": True, "retirement": False, "death": False, "transfer": False,
    "other": False,
}
NOTIFY_CHANNELS = ("sms", "app", "mail", "post", "wechat")

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_BANK = re.compile(r"^\d{12,30}$")
_REGION = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Interval:
    start: dt.date
    end: dt.date | None  # inclusive; None = open

    def overlaps(self, other: "Interval") -> bool:
        a_end = self.end or dt.date.max
        b_end = other.end or dt.date.max
        return self.start <= b_end and other.start <= a_end


def check_interval(start: dt.date, end: dt.date | None, what: str) -> None:
    if end is not None and end < start:
        raise InvariantError(f"{what}: end date {end} is before start date {start}")


def check_no_overlap(new: Interval, existing: list[tuple[int, Interval]], what: str) -> None:
    """``existing``: (id, interval) already stored for the same person × scheme/employer."""
    for oid, iv in existing:
        if new.overlaps(iv):
            raise InvariantError(
                f"{what} {new.start}–{new.end or 'open'} overlaps #{oid} "
                f"{iv.start}–{iv.end or 'open'}")


def check_alive(start: dt.date, death_date: dt.date | None, what: str) -> None:
    if death_date is not None and start > death_date:
        raise InvariantError(f"{what} starts {start}, after the person's death on {death_date}")


def normalize_phone(raw) -> str | None:
    s = re.sub(r"[\s\-]", "", str(raw or ""))
    if s.startswith("+86"):
        s = s[3:]
    return s or None


def valid_phone(s: str | None) -> bool:
    return s is None or bool(_PHONE.match(s))


def valid_bank_account(s: str | None) -> bool:
    return s is None or bool(_BANK.match(s))


def valid_region(s: str | None) -> bool:
    return s is None or bool(_REGION.match(s))


def region_code(value, field: str) -> str:
    """A region field of a record: surrounding blanks dropped, then ``regions.check_region``."""
    return regions.check_region(str(value or "").strip(), field)


def check_citizen_id(value, field: str = "citizen_id") -> str:
    cid = parse_citizen_id(value)
    if not cid.valid:
        raise InputError(f"invalid citizen ID: {cid.error}", field=field, value=value)
    return cid.normalized


@lru_cache(maxsize=None)
def _char_pinyin(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0]


@lru_cache(maxsize=200_000)
def pinyin_key(name: str | None) -> str | None:
    """Toneless pinyin without spaces, lower case: 张伟, 章伟 and "Zhang Wei" → ``zhangwei``.

    Character by character with each character's default reading (names are not phrases,
    and both sides of a comparison are read the same way)."""
    if not name:
        return None
    s = "".join(_char_pinyin(c) if "\u3400" <= c <= "\u9fff" else c for c in name.strip())
    return re.sub(r"[^a-z]", "", s.lower()) or None


def fast_citizen_id(raw) -> tuple[str | None, str | None, dt.date | None, str | None]:
    """(normalised, error, birth, sex) of :func:`shebao.core.ids.parse_citizen_id`, the shape
    the bulk importer's row records use."""
    res = parse_citizen_id(raw)
    return res.normalized, res.error, res.birth_date, res.sex


def within_region(code: str, root: str) -> bool:
    return regions.within(code, root)


def person_region(row) -> str | None:
    """The region a person belongs to for scopes: where the pension relation is held, else
    residence, else hukou, else the area code of the citizen ID."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    return (get("pension_region") or get("residence_region") or get("hukou_region")
            or (get("citizen_id") or "")[:6] or None)


# bidirectional embeddings, overrides and isolates, and the implicit marks: they reorder what a
# clerk sees ("a\u202egnp.exe" shows as "aexe.png") without being part of any name
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                  "\u200e\u200f\u061c")
# characters that print nothing: format characters (zero-width space/joiners, BOM, soft
# hyphen…), separators and combining marks on their own
_INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cc"})


def check_name(value, field: str = "name", max_len: int = 64) -> str:
    """A person's or employer's name, stripped; refused (InputError naming ``field``) when
    empty, too long, holding a control character (NUL included) or a bidi override, or made
    only of invisible characters (zero-width spaces and the like)."""
    s = str(value if value is not None else "").strip()
    if not s:
        raise InputError("is required", field=field, value=value)
    if len(s) > max_len:
        raise InputError(f"at most {max_len} characters", field=field, value=s[:max_len])
    for ch in s:
        if ch in _BIDI:
            raise InputError(f"contains a text-direction control (U+{ord(ch):04X})",
                             field=field)
        if unicodedata.category(ch) == "Cc":
            raise InputError(f"contains a control character (U+{ord(ch):04X})", field=field)
    if all(unicodedata.category(ch) in _INVISIBLE for ch in s):
        raise InputError("has no visible character", field=field)
    return s


@dataclass(frozen=True)
class DateBounds:
    """Plausibility bounds of an employment spell's dates (parameters
    ``registry.employment_min_age``, ``employment_earliest_year``,
    ``employment_max_days_ahead``), with the day they are judged on."""
    min_age: int
    earliest_year: int
    max_days_ahead: int
    today: dt.date


def employment_date_problem(start: dt.date, end: dt.date | None, birth: dt.date | None,
                            b: DateBounds) -> tuple[str, str] | None:
    """(field, reason) when a spell's dates are implausible, else None."""
    if start.year < b.earliest_year:
        return "start_date", f"before {b.earliest_year}: not a plausible employment start"
    if (start - b.today).days > b.max_days_ahead:
        return "start_date", (f"more than {b.max_days_ahead} days in the future "
                              f"(after {b.today + dt.timedelta(days=b.max_days_ahead)})")
    if birth is not None:
        try:
            adult = birth.replace(year=birth.year + b.min_age)
        except ValueError:                      # born on 29 February
            adult = dt.date(birth.year + b.min_age, 3, 1)
        if start < adult:
            return "start_date", f"before the person's {b.min_age}th birthday"
    if end is not None and end < start:
        return "end_date", f"before the start date {start}"
    return None


def check_employment_dates(start: dt.date, end: dt.date | None, birth: dt.date | None,
                           b: DateBounds) -> None:
    bad = employment_date_problem(start, end, birth, b)
    if bad is not None:
        raise InputError(bad[1], field=bad[0], value=start if bad[0] == "start_date" else end)
