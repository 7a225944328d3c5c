"""Audit log table: append-only and hash-chained (see security/audit.py)."""
from sqlalchemy import Column, DateTime, String, Table, Text

from shebao.db.engine import BigId, metadata

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("fields", Text, nullable=True),        # comma-separated field names read/changed
    Column("purpose", String(200), nullable=True),
    Column("detail", Text, nullable=True),        # canonical JSON: before/after, basis, counts
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
