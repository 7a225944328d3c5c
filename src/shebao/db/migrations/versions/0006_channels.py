"""channels: tables of the channels package (filled in by that package's work)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
