"""registry: employment_request — an employer's request to enrol a person it has never
employed, pending until the person confirms or a clerk of the employer's region approves

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employment_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("employer_id", sa.BigInteger, sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("wage_fen", sa.BigInteger),
        sa.Column("wage_year", sa.Integer),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_as", sa.String(10)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.String(200)),
        sa.Column("employment_id", sa.BigInteger, sa.ForeignKey("employment.id")),
    )
    op.create_index("ix_employment_request_person", "employment_request",
                    ["person_id", "status"])
    op.create_index("ix_employment_request_employer", "employment_request",
                    ["employer_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_employment_request_employer", "employment_request")
    op.drop_index("ix_employment_request_person", "employment_request")
    op.drop_table("employment_request")
