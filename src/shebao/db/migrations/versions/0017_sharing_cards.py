"""information sharing and cards (#17): partners, exchanges, card lifecycle, e-card

Reserved in the linear chain so that the work on each issue can land in any order; the team
working on it fills in upgrade() and downgrade().

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
