"""ledger: tables of the ledger package (filled in by that package's work)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
