"""collection: tables of the collection package (filled in by that package's work)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
