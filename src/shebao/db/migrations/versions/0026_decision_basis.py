"""pension decisions stored compactly (#13): what a month's cases share, once

``pension_decision_basis`` holds the part of a pension decision that every case computed on the
same day with the same parameters shares — the parameters with their legal references, the
average wage of each period, the calculation base, rate and coefficient — once, keyed by the
digest of its text. A case's ``decision`` then keeps only its own inputs and record and names
its basis (``"v": 2``); reading a case expands it to the full decision.

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pension_decision_basis",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("digest", name="uq_pension_decision_basis_digest"),
    )


def downgrade() -> None:
    op.drop_table("pension_decision_basis")
