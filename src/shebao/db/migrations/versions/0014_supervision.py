"""supervision and monitoring (#14): alerts, inspections, blacklist, arrears cases, fund warning

Reserved in the linear chain so that the work on each issue can land in any order; the team
working on it fills in upgrade() and downgrade().

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
