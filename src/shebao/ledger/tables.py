"""Ledger tables (SQLAlchemy Core on the shared metadata). The DDL, with its triggers, is the
hand-written migration ``db/migrations/versions/0003_ledger.py``; these mirror it."""
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey,
                        Integer, SmallInteger, String, Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

ledger_account = Table(
    "ledger_account", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(80), nullable=False),
    Column("region", String(6), nullable=False),
    Column("scheme", String(24), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("person_id", BigInteger, nullable=True),
    Column("normal_sign", SmallInteger, nullable=False),   # +1 debit-normal, -1 credit-normal
    Column("no_negative", Boolean, nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),  # debit-positive fen
    Column("opened_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", name="uq_ledger_account_code"),
    CheckConstraint("(NOT no_negative) OR balance * normal_sign >= 0",
                    name="ck_ledger_account_no_negative"),
)

ledger_request = Table(
    "ledger_request", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("key", name="uq_ledger_request_key"),
)

ledger_entry = Table(
    "ledger_entry", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("request_id", BigInteger, ForeignKey("ledger_request.id"), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("region", String(6), nullable=True),
    Column("scheme", String(24), nullable=True),
    Column("source", String(64), nullable=False),
    Column("memo", Text, nullable=True),
    Column("reverses_id", BigInteger, ForeignKey("ledger_entry.id"), nullable=True),
    Column("n_postings", Integer, nullable=False),
    Column("pg_xact", BigInteger, nullable=True),   # PostgreSQL: set by the server default
)

ledger_posting = Table(
    "ledger_posting", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", BigInteger, ForeignKey("ledger_entry.id"), nullable=False),
    Column("account_id", BigInteger, ForeignKey("ledger_account.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),          # fen, debit positive, credit negative
    Column("effective_date", Date, nullable=False),
)
