"""notices delivery (#17): recipients' channel preferences and quiet hours and delivery attempts

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notice_preference",
        sa.Column("recipient_type", sa.String(16), primary_key=True),
        sa.Column("recipient_id", sa.String(64), primary_key=True),
        sa.Column("channels", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("wechat", sa.String(64)),
        sa.Column("quiet_start", sa.String(5)),
        sa.Column("quiet_end", sa.String(5)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "notice_attempt",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.BigInteger, sa.ForeignKey("notice.id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(300)),
    )
    op.create_index("ix_notice_attempt_notice", "notice_attempt", ["notice_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_attempt_notice", table_name="notice_attempt")
    op.drop_table("notice_attempt")
    op.drop_table("notice_preference")
