"""Reports tables (SQLAlchemy Core on the shared metadata); the DDL is migration 0019.

``fund_budget`` holds a fund's budget lines per region × scheme × year; the final accounts
are computed from the ledger and compared with it."""
from sqlalchemy import (BigInteger, Column, DateTime, Integer, String, Table, UniqueConstraint)

from shebao.db.engine import BigId, metadata

fund_budget = Table(
    "fund_budget", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("scheme", String(24), nullable=False),
    Column("year", Integer, nullable=False),
    Column("line", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "scheme", "year", "line", name="uq_fund_budget_region"),
)
