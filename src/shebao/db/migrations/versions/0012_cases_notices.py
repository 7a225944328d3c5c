"""cases and notices: the one case model (service_case, case_event, case_document,
case_rating) and the notice outbox

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _id():
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "service_case", _id(),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.BigInteger),
        sa.Column("employer_id", sa.BigInteger),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("outlet", sa.String(32)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("paused_on", sa.Date),
        sa.Column("assigned_to", sa.String(64)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("decision", sa.Text),
        sa.Column("decision_reason", sa.String(500)),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_on", sa.Date),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("service_case.id")),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_service_case_region_status", "service_case",
                    ["region", "status", "due_on"])
    op.create_index("ix_service_case_item", "service_case", ["item", "opened_on"])
    op.create_index("ix_service_case_person", "service_case", ["person_id"])
    op.create_index("ix_service_case_employer", "service_case", ["employer_id"])
    op.create_table(
        "case_event", _id(),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("service_case.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("note", sa.String(1000)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_case_event_case", "case_event", ["case_id", "id"])
    op.create_table(
        "case_document", _id(),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("service_case.id"), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_document_case", "case_document", ["case_id"])
    op.create_table(
        "case_rating", _id(),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("service_case.id"), nullable=False),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.String(500)),
        sa.Column("rated_by", sa.String(64), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", name="uq_case_rating_case"),
    )
    op.create_table(
        "notice", _id(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("recipient_type", sa.String(10), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(500)),
        sa.UniqueConstraint("dedup_key", name="uq_notice_dedup_key"),
    )
    op.create_index("ix_notice_due", "notice", ["status", "next_attempt_at"])
    op.create_index("ix_notice_recipient", "notice", ["recipient_type", "recipient_id", "id"])


def downgrade() -> None:
    op.drop_table("notice")
    op.drop_table("case_rating")
    op.drop_table("case_document")
    op.drop_index("ix_case_event_case", "case_event")
    op.drop_table("case_event")
    op.drop_table("service_case")
