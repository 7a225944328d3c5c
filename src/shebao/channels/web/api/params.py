"""The request parameters every API module shares, declared once.

Ids are bounded to what a BIGINT column holds (with headroom), so that a fuzzer's 30-digit id
is a 422 from validation rather than a driver overflow deep in a query."""
from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query
from pydantic import Field

from .. import pagination

MAX_ID = 2 ** 62

Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                       description="required: a unique value per operation")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]          # an id in a request body
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]       # an id in the URL path
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]     # an id in the query string
# a calendar month; year 0 is refused here, not by a date constructor deep in a service
MONTH_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM")]
