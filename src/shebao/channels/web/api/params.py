"""The request parameters every API module shares, declared once.

Ids are bounded to what a BIGINT column holds (with headroom), so that a fuzzer's 30-digit id
is a 422 from validation rather than a driver overflow deep in a query."""
from __future__ import annotations

from typing import Annotated

import datetime as dt

from fastapi import Header, Path, Query
from pydantic import Field

from shebao.core.errors import InputError
from shebao.core.periods import parse_month

from .. import pagination

MAX_ID = 2 ** 62

Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                       description="required: a unique value per operation")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]          # an id in a request body
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]       # an id in the URL path
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]     # an id in the query string


def month_param(text: str, field: str = "month") -> dt.date:
    """A YYYY-MM string of a request → the month's first day; a bad month is a 422 naming the
    field (the pattern alone lets "2025-13" or "0000-00" through)."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from None
