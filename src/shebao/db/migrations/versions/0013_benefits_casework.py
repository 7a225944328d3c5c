"""benefits casework (#13): awards, unemployment, injury, maternity, survivors

Reserved in the linear chain so that the work on each issue can land in any order; the team
working on it fills in upgrade() and downgrade().

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
