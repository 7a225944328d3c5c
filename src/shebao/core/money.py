"""Exact money.

Storage is integer fen everywhere (BIGINT). Calculations are integer or rational; the only
place a fraction of a fen is resolved is :func:`round_half_up`, the one named rounding function
of the platform (half-up = ties away from zero, as ``decimal.ROUND_HALF_UP``). It works on
Python ints and on numpy int64 arrays so the vectorised batch paths and the single-person
calculators round identically.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

FEN_PER_YUAN = 100


def round_half_up(numerator, denominator=1):
    """Round ``numerator / denominator`` to the nearest integer, ties away from zero.

    ``numerator`` may be an int, a Fraction, a Decimal or a numpy integer array; ``denominator``
    a positive int (or int array). Returns an int (or an int64 array). Exact: no floats.
    """
    if isinstance(numerator, (Fraction, Decimal)):
        frac = Fraction(numerator) / Fraction(denominator)
        numerator, denominator = frac.numerator, frac.denominator
    if isinstance(numerator, np.ndarray) or isinstance(denominator, np.ndarray):
        num = np.asarray(numerator, dtype=np.int64)
        den = np.asarray(denominator, dtype=np.int64)
        if np.any(den <= 0):
            raise ValueError("denominator must be positive")
        mag = (2 * np.abs(num) + den) // (2 * den)
        return np.where(num < 0, -mag, mag).astype(np.int64)
    num, den = int(numerator), int(denominator)
    if den <= 0:
        raise ValueError("denominator must be positive")
    mag = (2 * abs(num) + den) // (2 * den)
    return -mag if num < 0 else mag


def parse_decimal(text: str) -> Decimal:
    """The one parser of money text: a finite decimal in ASCII digits (``Decimal`` alone would
    also take full-width or other Unicode digits, which no clerk or bank file means)."""
    s = text.strip()
    if not s.isascii():
        raise ValueError(f"not a decimal amount in ASCII digits: {text!r}")
    try:
        d = Decimal(s)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {text!r}")
    return d


def to_fen(yuan) -> int:
    """Yuan (Decimal, int, Fraction or decimal string) → integer fen, rounded half-up."""
    if isinstance(yuan, float):
        raise TypeError("money must not be a float; pass a Decimal or a decimal string")
    if isinstance(yuan, str):
        yuan = parse_decimal(yuan)
    return round_half_up(Fraction(yuan) * FEN_PER_YUAN)


def fen_to_yuan_str(fen: int) -> str:
    """Integer fen → "2984.16" (two decimals, sign kept). The wire format of every amount."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    return Decimal(fen_to_yuan_str(fen))


def rate_ratio(rate: Decimal) -> tuple[int, int]:
    """A decimal rate as an exact integer ratio (num, den), for integer array arithmetic."""
    frac = Fraction(rate)
    return frac.numerator, frac.denominator


def apply_rate(base_fen, rate: Decimal):
    """``base × rate`` in fen, rounded once by :func:`round_half_up`. Works on arrays."""
    num, den = rate_ratio(rate)
    if isinstance(base_fen, np.ndarray):
        return round_half_up(base_fen.astype(np.int64) * num, den)
    return round_half_up(int(base_fen) * num, den)
