"""administration (#18): organisation (towns, villages, grid cells), service outlets, staff
assignments, administration budgets, outsourcing providers and contracts; training (courses,
courseware, question banks, exam attempts, certificates, required courses); fund budgets

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ["provider", "org_unit", "service_outlet", "staff_assignment", "admin_budget",
          "outsourcing_contract", "course", "courseware", "question", "course_requirement",
          "exam_attempt", "certificate", "fund_budget"]


def upgrade() -> None:
    op.create_table(
        "provider",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exited_on", sa.Date),
        sa.Column("exit_reason", sa.String(200)),
        sa.UniqueConstraint("code", name="uq_provider_code"),
    )
    op.create_table(
        "org_unit",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("parent_code", sa.String(20), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("households", sa.Integer),
        sa.Column("grid_worker", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_org_unit_code"),
    )
    op.create_table(
        "service_outlet",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("unit_code", sa.String(20)),
        sa.Column("provider_id", sa.BigInteger, sa.ForeignKey("provider.id")),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_service_outlet_code"),
    )
    op.create_table(
        "staff_assignment",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("outlet_id", sa.BigInteger, sa.ForeignKey("service_outlet.id"), nullable=False),
        sa.Column("staff_class", sa.String(16), nullable=False),
        sa.Column("is_head", sa.Boolean, nullable=False),
        sa.Column("fte_pct", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "admin_budget",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(200)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region", "year", name="uq_admin_budget_region"),
    )
    op.create_table(
        "outsourcing_contract",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.BigInteger, sa.ForeignKey("provider.id"), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("price_fen", sa.BigInteger, nullable=False),
        sa.Column("access_criteria", sa.Text, nullable=False),
        sa.Column("target_on_time_pct", sa.Integer, nullable=False),
        sa.Column("target_rating_x100", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("end_reason", sa.String(200)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "course",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("exam_questions", sa.Integer, nullable=False),
        sa.Column("exam_minutes", sa.Integer, nullable=False),
        sa.Column("pass_pct", sa.Integer, nullable=False),
        sa.Column("validity_months", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_course_code"),
    )
    op.create_table(
        "courseware",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("course.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("url", sa.String(500)),
    )
    op.create_table(
        "question",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("course.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("answer", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "course_requirement",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("course.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.UniqueConstraint("course_id", "role", name="uq_course_requirement_course_id"),
    )
    op.create_table(
        "exam_attempt",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("course.id"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_ids", sa.Text, nullable=False),
        sa.Column("option_orders", sa.Text, nullable=False),
        sa.Column("answers", sa.Text),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("correct", sa.Integer),
        sa.Column("score_pct", sa.Integer),
        sa.Column("passed", sa.Boolean),
        sa.Column("late", sa.Boolean),
    )
    op.create_table(
        "certificate",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("attempt_id", sa.BigInteger, sa.ForeignKey("exam_attempt.id"), nullable=False),
        sa.Column("course_id", sa.BigInteger, sa.ForeignKey("course.id"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("holder_name", sa.String(100), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.UniqueConstraint("attempt_id", name="uq_certificate_attempt_id"),
        sa.UniqueConstraint("code", name="uq_certificate_code"),
    )
    op.create_table(
        "fund_budget",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(24), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region", "scheme", "year", "line", name="uq_fund_budget_region"),
    )
    op.create_index("ix_staff_assignment_outlet", "staff_assignment", ["outlet_id", "valid_from"])
    op.create_index("ix_staff_assignment_user", "staff_assignment", ["username"])
    op.create_index("ix_org_unit_parent", "org_unit", ["parent_code"])
    op.create_index("ix_service_outlet_region", "service_outlet", ["region"])
    op.create_index("ix_outsourcing_contract_provider", "outsourcing_contract", ["provider_id"])
    op.create_index("ix_question_course", "question", ["course_id"])
    op.create_index("ix_exam_attempt_user", "exam_attempt", ["username", "course_id"])
    op.create_index("ix_certificate_user", "certificate", ["username", "course_id"])


def downgrade() -> None:
    for name, table in (("ix_certificate_user", "certificate"),
                        ("ix_exam_attempt_user", "exam_attempt"),
                        ("ix_question_course", "question"),
                        ("ix_outsourcing_contract_provider", "outsourcing_contract"),
                        ("ix_service_outlet_region", "service_outlet"),
                        ("ix_org_unit_parent", "org_unit"),
                        ("ix_staff_assignment_user", "staff_assignment"),
                        ("ix_staff_assignment_outlet", "staff_assignment")):
        op.drop_index(name, table)
    for table in reversed(TABLES):
        op.drop_table(table)
