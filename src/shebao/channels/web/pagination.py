"""Cursor pagination for every list: ``?limit=&cursor=``; the answer carries ``next_cursor``.

A cursor is an opaque, URL-safe encoding of the last key seen (keyset, never OFFSET).
"""
from __future__ import annotations

import base64
import json
from typing import Generic, TypeVar

from pydantic import BaseModel

from shebao.core.errors import InputError

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()
                                    ).decode().rstrip("=")


def decode(cursor: str | None, kind=int):
    """The key after which to continue, or None for the first page. Bad cursors are input errors."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("not a cursor returned by this API", field="cursor") from None
    if kind is int and (not isinstance(key, int) or isinstance(key, bool) or key < 0
                        or key > 2 ** 62):
        raise InputError("not a cursor returned by this API", field="cursor")
    if kind is str and not isinstance(key, str):
        raise InputError("not a cursor returned by this API", field="cursor")
    return key


def page(rows: list, limit: int, key) -> tuple[list, str | None]:
    """Given up to ``limit + 1`` rows in key order, the page and the next cursor."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode(key(rows[-1])) if more and rows else None)
