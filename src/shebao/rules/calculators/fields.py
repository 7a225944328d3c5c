"""Field readers for calculator requests: each names the field in its error."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shebao.core import regions
from shebao.core.errors import InputError
from shebao.core.money import parse_decimal
from shebao.core.periods import parse_month
from shebao.rules.formulas.contribution import DEN

_MISSING = object()

# Upper bounds of numeric input, from the storage and the arithmetic, not from the law: an
# amount is BIGINT fen (the money columns) and is multiplied by exact rate numerators over DEN,
# so it must stay below int64 / DEN; counts (months, days) are INTEGER columns.
MAX_MONEY = Decimal((2 ** 63 - 1) // DEN) / 100
MAX_COUNT = 2 ** 31 - 1


def _get(req: dict, field: str, default=_MISSING):
    if field not in req or req[field] is None:
        if default is _MISSING:
            raise InputError("is required", field=field)
        return default
    return req[field]


def text(req: dict, field: str, default=_MISSING) -> str:
    v = _get(req, field, default)
    if v is default and default is not _MISSING:
        return v
    if not isinstance(v, str):
        raise InputError(f"must be a string, got {type(v).__name__}", field=field, value=v)
    return v


def choice(req: dict, field: str, options, default=_MISSING) -> str:
    v = text(req, field, default)
    if v not in options:
        raise InputError(f"must be one of {', '.join(options)}; got {v!r}", field=field, value=v)
    return v


def date(req: dict, field: str, default=_MISSING, *, min_value: dt.date | None = None,
         max_value: dt.date | None = None) -> dt.date:
    v = _get(req, field, default)
    if isinstance(v, dt.date):
        d = v
    elif not isinstance(v, str):
        raise InputError("must be a date string YYYY-MM-DD", field=field, value=v)
    else:
        try:
            d = dt.date.fromisoformat(v)
        except ValueError:
            raise InputError(f"{v!r} is not a real date in the form YYYY-MM-DD", field=field,
                             value=v) from None
    if (min_value is not None and d < min_value) or (max_value is not None and d > max_value):
        raise InputError(f"must lie between {min_value or dt.date.min} and "
                         f"{max_value or dt.date.max}, got {d}", field=field, value=v)
    return d


def month(req: dict, field: str) -> dt.date:
    v = _get(req, field)
    if not isinstance(v, str):
        raise InputError("must be a month string YYYY-MM", field=field, value=v)
    try:
        return parse_month(v)
    except ValueError as exc:
        raise InputError(str(exc), field=field, value=v) from None


def decimal(req: dict, field: str, default=_MISSING, *, min_value=None,
            max_value=MAX_MONEY) -> Decimal:
    """A decimal amount given as a JSON string ("1234.50") or an integer. Floats are refused:
    they cannot carry money exactly. At most ``MAX_MONEY`` unless the caller bounds it."""
    v = _get(req, field, default)
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, bool) or isinstance(v, float):
        raise InputError("must be a decimal string (e.g. \"1234.50\") or an integer, not a "
                         "floating-point number", field=field, value=v)
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, str):
        try:
            d = parse_decimal(v)
        except ValueError as exc:
            raise InputError(str(exc), field=field, value=v) from None
    else:
        raise InputError(f"must be a decimal string, got {type(v).__name__}", field=field, value=v)
    if min_value is not None and d < Decimal(min_value):
        raise InputError(f"must be at least {min_value}, got {d}", field=field, value=v)
    if max_value is not None and d > Decimal(max_value):
        raise InputError(f"must be at most {max_value}, got {d}", field=field, value=v)
    return d


def integer(req: dict, field: str, default=_MISSING, *, min_value=None,
            max_value=MAX_COUNT) -> int:
    v = _get(req, field, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"must be an integer, got {v!r}", field=field, value=v)
    if min_value is not None and v < min_value:
        raise InputError(f"must be at least {min_value}, got {v}", field=field, value=v)
    if max_value is not None and v > max_value:
        raise InputError(f"must be at most {max_value}, got {v}", field=field, value=v)
    return v


def region(req: dict, field: str = "region") -> str:
    v = text(req, field)
    if not regions.is_region_code(v) or v == regions.NATIONAL:
        raise InputError(f"{v!r} is not a six-digit GB/T 2260 region code", field=field, value=v)
    from shebao.rules import load_rules

    if not any(r in load_rules().regions_defined() for r in regions.lineage(v)[:-1]):
        raise InputError(f"region {v} has no parameters (known: "
                         f"{', '.join(sorted(r for r in load_rules().regions_defined() if r != 'national'))})",
                         field=field, value=v)
    return v


def rule(rules, name: str, region_code: str, on: dt.date, field: str):
    """Look a parameter up, turning 'not in force' into an error on the request field."""
    from shebao.core.errors import RuleError

    try:
        return rules.lookup(name, region_code, on)
    except RuleError as exc:
        raise InputError(f"outside the parameters: {exc}", field=field) from None
