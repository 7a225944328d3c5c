"""Reports tables (SQLAlchemy Core on the shared metadata); the DDL is migrations 0019
and 0024.

``fund_budget`` holds a fund's budget lines per region × scheme × year; the final accounts
are computed from the ledger and compared with it."""
from sqlalchemy import (BigInteger, CheckConstraint, Column, DateTime, Index, Integer, String, Table,
                        Text, UniqueConstraint)

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

# A proposed fund decision (migration 0024): a fiscal subsidy to post, a budget to adopt or a
# year's final accounts to adopt; it takes effect only when a second officer approves it.
fund_proposal = Table(
    "fund_proposal", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),            # subsidy | budget | final_accounts
    Column("region", String(6), nullable=False),
    Column("scheme", String(24), nullable=False),
    Column("year", Integer, nullable=False),
    Column("subject_key", String(120), nullable=False),    # what is decided (one pending each)
    Column("detail", Text, nullable=False),                # JSON: the proposal's figures
    Column("status", String(10), nullable=False),          # pending | approved | rejected
    Column("approval_id", BigInteger, nullable=False),     # security.approvals
    Column("made_by", String(64), nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", String(200)),
    Column("ledger_entry_id", BigInteger),
    CheckConstraint("kind IN ('subsidy', 'budget', 'final_accounts')",
                    name="ck_fund_proposal_kind"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                    name="ck_fund_proposal_status"),
    CheckConstraint("decided_by IS NULL OR decided_by <> made_by",
                    name="ck_fund_proposal_four_eyes"),
    Index("ix_fund_proposal_subject", "kind", "subject_key"),
    Index("ix_fund_proposal_region", "region", "status"),
)
