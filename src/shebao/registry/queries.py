"""Reads of the registry's tables for other packages: plain functions returning plain data."""
from __future__ import annotations

from sqlalchemy import select

from .tables import employer


# --- read by collection ---

def employer_region(conn, employer_id: int) -> str | None:
    """The employer's region (None: no such employer)."""
    return conn.execute(select(employer.c.region).where(employer.c.id == employer_id)).scalar()
