"""administration: maker-checker on fiscal subsidies, fund budgets and final accounts (#18)

``fund_proposal`` holds each proposed fund decision — a fiscal subsidy to post to the ledger,
a fund budget for a year, the adoption of a year's final accounts (决算) — with its maker, its
approval (``approvals``, the one maker-checker record) and, once checked, the checker, the
refusal's reason or the ledger entry posted.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "fund_proposal",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(24), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("subject_key", sa.String(120), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("approval_id", sa.BigInteger, nullable=False),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(200)),
        sa.Column("ledger_entry_id", sa.BigInteger),
        sa.CheckConstraint("kind IN ('subsidy', 'budget', 'final_accounts')",
                           name="ck_fund_proposal_kind"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name="ck_fund_proposal_status"),
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> made_by",
                           name="ck_fund_proposal_four_eyes"),
    )
    op.create_index("ix_fund_proposal_subject", "fund_proposal", ["kind", "subject_key"])
    op.create_index("ix_fund_proposal_region", "fund_proposal", ["region", "status"])


def downgrade() -> None:
    op.drop_index("ix_fund_proposal_region", table_name="fund_proposal")
    op.drop_index("ix_fund_proposal_subject", table_name="fund_proposal")
    op.drop_table("fund_proposal")
