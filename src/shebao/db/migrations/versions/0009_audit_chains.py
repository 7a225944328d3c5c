"""audit: one hash chain per region scope (security/audit.py)

Revision ID: 0009
Revises: 0008

``audit_log.chain`` names the chain a row is on; every row written before has ``national``
(the old single chain, whose genesis is unchanged). ``ix_audit_log_chain_id`` finds a chain's
last row for the next append. The column is added in place (no table rebuild), so the
append-only triggers of 0001 stay as they are.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("chain", sa.String(16), nullable=False,
                                         server_default="national"))
    op.create_index("ix_audit_log_chain_id", "audit_log", ["chain", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_chain_id", table_name="audit_log")
    # in place on both databases (a batch rebuild on SQLite would lose 0001's triggers)
    op.execute("ALTER TABLE audit_log DROP COLUMN chain")
