"""Citizen ID numbers (GB 11643) and unified social credit codes (GB 32100).

The social security number *is* the citizen ID number (Social Insurance Law art. 58).
Validation goes through python-stdnum; its area-code table misses many real codes, so an
unknown area is a warning, never a rejection. 15-digit legacy IDs are upgraded to 18.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric, uscc

from . import regions

def ric_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits (python-stdnum's algorithm)."""
    return ric.calc_check_digit(first17 + "0")


@dataclass(frozen=True)
class CitizenId:
    valid: bool
    normalized: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None  # "M" | "F"
    region_code: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict:
        return {
            "valid": self.valid,
            "normalized": self.normalized,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "region_code": self.region_code,
            "warnings": list(self.warnings),
            "error": self.error,
        }


def upgrade_15(number: str) -> str:
    """Legacy 15-digit ID → 18 digits: insert "19" before the year, add the check character."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + ric_check_char(first17)


def parse_citizen_id(raw: str) -> CitizenId:
    """Validate and decode a citizen ID. Invalid input is an answer (valid=False), not an error."""
    number = str(raw or "").strip().replace(" ", "").upper()
    warnings: list[str] = []
    if len(number) == 15 and number.isdigit():
        number = upgrade_15(number)
        warnings.append("15-digit legacy ID upgraded to 18 digits")
    if len(number) != 18:
        return CitizenId(False, error=f"must have 18 characters (or 15 digits), got {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return CitizenId(False, error="must be 17 digits followed by a digit or X")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return CitizenId(False, error=f"birth date {number[6:14]} is not a real date")
    if birth > dt.date.today() or birth.year < 1880:
        return CitizenId(False, error=f"birth date {birth.isoformat()} is impossible")
    expected = ric_check_char(number[:17])
    if number[17] != expected:
        return CitizenId(False, error=f"check character is {number[17]}, expected {expected}")
    # stdnum's own area check walks its table per call (~0.2 ms); core.regions holds the same
    # table (current and retired codes) as a dict, so batch imports can afford it.
    if not regions.known(number[:6]):
        warnings.append(f"region code {number[:6]} is not in the bundled GB/T 2260 table")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return CitizenId(True, number, birth, sex, number[:6], warnings)


@dataclass(frozen=True)
class CreditCode:
    valid: bool
    normalized: str | None = None
    region_code: str | None = None
    error: str | None = None

    def as_json(self) -> dict:
        return {"valid": self.valid, "normalized": self.normalized,
                "region_code": self.region_code, "error": self.error}


def parse_uscc(raw: str) -> CreditCode:
    code = str(raw or "").strip().replace(" ", "").upper()
    try:
        code = uscc.validate(code)
    except stdnum_exc.InvalidLength:
        return CreditCode(False, error=f"must have 18 characters, got {len(code)}")
    except stdnum_exc.InvalidChecksum:
        return CreditCode(False, error="check character does not match")
    except stdnum_exc.InvalidFormat:
        return CreditCode(False, error="characters outside the GB 32100 alphabet (no I, O, S, V, Z)")
    except stdnum_exc.InvalidComponent as exc:
        return CreditCode(False, error=f"invalid component: {exc}")
    except stdnum_exc.ValidationError as exc:
        return CreditCode(False, error=str(exc))
    return CreditCode(True, code, code[2:8])


def mask_id(number: str | None) -> str:
    """``110105********002X``: keep the area code and the last four, for lists and logs."""
    if not number:
        return ""
    s = str(number)
    if len(s) <= 10:
        return s[:2] + "*" * max(len(s) - 2, 0)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    s = str(phone)
    return s[:3] + "****" + s[-4:] if len(s) >= 11 else "*" * len(s)


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


__all__ = ["CitizenId", "CreditCode", "parse_citizen_id", "parse_uscc", "mask_id", "mask_phone",
           "mask_name", "upgrade_15", "ric_check_char", "regions"]
