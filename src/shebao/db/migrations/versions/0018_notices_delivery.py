"""notices delivery (#17): preferences, attempts

Reserved in the linear chain so that the work on each issue can land in any order; the team
working on it fills in upgrade() and downgrade().

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
