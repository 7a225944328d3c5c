"""Named transaction locks: held until the caller's transaction ends (``dialect.xact_lock``,
where the database-specific part lives)."""
from __future__ import annotations

from .dialect import xact_lock

__all__ = ["xact_lock"]
