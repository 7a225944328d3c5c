"""benefits: medical and care costs (#13, session 5); payment index for award lines only

The cost claims (work-injury medical, food, devices, nursing; maternity medical costs) need
no new table: they are benefit claims and award lines like every other. The payroll's
``ix_payment_line`` becomes partial (``line_id <> 0``): a pension payment (line 0) is never
looked up by line, and a million identical entries per month cost the run its time.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_payment_line", table_name="payment")
    op.create_index("ix_payment_line", "payment", ["line_id", "status"],
                    sqlite_where=sa.text("line_id <> 0"),
                    postgresql_where=sa.text("line_id <> 0"))


def downgrade() -> None:
    op.drop_index("ix_payment_line", table_name="payment")
    op.create_index("ix_payment_line", "payment", ["line_id", "status"])
