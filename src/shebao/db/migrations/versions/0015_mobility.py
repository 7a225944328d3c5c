"""mobility (#15): transfers, living certification

Reserved in the linear chain so that the work on each issue can land in any order; the team
working on it fills in upgrade() and downgrade().

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
