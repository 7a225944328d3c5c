"""benefits: contribution history for benefits, pension cases, awards and their amounts,
indexation runs, payroll runs and payments, bank returns, living certification, overpayments.

Revision ID: 0005
Revises: 0004

Written by hand; mirrors ``shebao.benefits.tables`` (tests/service/benefits compares the two).
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

LIVE_PENSION_CASE = "status IN ('open','incomplete','ineligible','computed','submitted','approved')"
LIVE_PAYMENT = "status IN ('computed','sent','paid')"


def upgrade() -> None:
    op.create_table(
        "pension_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("months", sa.SmallInteger, nullable=False),
        sa.Column("base_total_fen", sa.BigInteger),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("person_id", "region", "period_start", "kind", name="uq_pension_history_period"),
        sa.CheckConstraint("months BETWEEN 1 AND 12", name="ck_pension_history_months"),
        sa.CheckConstraint("kind IN ('paid', 'deemed')", name="ck_pension_history_kind"),
        sa.CheckConstraint("base_total_fen IS NULL OR base_total_fen >= 0", name="ck_pension_history_base"),
    )
    op.create_table(
        "pension_case",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("category", sa.String(16)),
        sa.Column("claim", sa.String(10), nullable=False),
        sa.Column("requested_date", sa.Date),
        sa.Column("retirement_date", sa.Date),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True)),
        sa.Column("missing", sa.Text),
        sa.Column("options", sa.Text),
        sa.Column("decision", sa.Text),
        sa.Column("basic_fen", sa.BigInteger),
        sa.Column("account_fen", sa.BigInteger),
        sa.Column("transitional_fen", sa.BigInteger),
        sa.Column("total_fen", sa.BigInteger),
        sa.Column("approval_id", sa.BigInteger),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(200)),
    )
    op.create_index("ix_pension_case_region_status", "pension_case", ["region", "status"])
    op.create_index("uq_pension_case_live", "pension_case", ["person_id"], unique=True,
                    sqlite_where=sa.text(LIVE_PENSION_CASE), postgresql_where=sa.text(LIVE_PENSION_CASE))
    op.create_table(
        "pension_award",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("pension_case.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("start_month", sa.Date, nullable=False),
        sa.Column("monthly_fen", sa.BigInteger, nullable=False),
        sa.Column("account_part_fen", sa.BigInteger, nullable=False),
        sa.Column("amount_from", sa.Date, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("stop_month", sa.Date),
        sa.Column("stop_reason", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", name="uq_pension_award_case"),
        sa.CheckConstraint("monthly_fen >= 0 AND account_part_fen >= 0 AND account_part_fen <= monthly_fen", name="ck_pension_award_amounts"),
    )
    op.create_index("ix_pension_award_region", "pension_award", ["region", "status", "person_id"])
    op.create_index("uq_pension_award_person", "pension_award", ["person_id"], unique=True)
    op.create_table(
        "pension_award_amount",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("award_id", sa.BigInteger, sa.ForeignKey("pension_award.id"), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("monthly_fen", sa.BigInteger, nullable=False),
        sa.Column("account_part_fen", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pension_award_amount_award", "pension_award_amount", ["award_id", "effective_from"])
    op.create_table(
        "indexation_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("rate", sa.String(20), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("n_awards", sa.Integer, nullable=False),
        sa.Column("increase_fen", sa.BigInteger, nullable=False),
        sa.Column("run_by", sa.String(64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region", "effective_from", name="uq_indexation_run_region"),
    )
    op.create_table(
        "payroll_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("cursor_person_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("n_payments", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("account_part_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True)),
        sa.Column("approval_id", sa.BigInteger),
        sa.Column("released_by", sa.String(64)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("files", sa.Text),
        sa.UniqueConstraint("region", "month", name="uq_payroll_run_region"),
    )
    op.create_table(
        "payment",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("payroll_run.id"), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("award_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("attempt", sa.SmallInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("account_part_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_name", sa.String(64)),
        sa.Column("bank_account", sa.String(40)),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("return_reason", sa.String(200)),
        sa.Column("replaces_id", sa.BigInteger),
        sa.UniqueConstraint("end_to_end_id", name="uq_payment_end_to_end_id"),
        sa.CheckConstraint("amount_fen > 0 AND account_part_fen >= 0 AND account_part_fen <= amount_fen", name="ck_payment_amounts"),
        sa.CheckConstraint("status IN ('computed', 'sent', 'paid', 'returned', 'failed', 'reissued', 'cancelled')", name="ck_payment_status"),
    )
    op.create_index("ix_payment_run", "payment", ["run_id", "status"])
    op.create_index("uq_payment_live", "payment", ["person_id", "month"], unique=True,
                    sqlite_where=sa.text(LIVE_PAYMENT), postgresql_where=sa.text(LIVE_PAYMENT))
    op.create_table(
        "bank_return",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("n_paid", sa.Integer, nullable=False),
        sa.Column("n_failed", sa.Integer, nullable=False),
        sa.Column("n_unknown", sa.Integer, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sha256", name="uq_bank_return_sha256"),
    )
    op.create_table(
        "living_certification",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("passed", sa.SmallInteger, nullable=False),
        sa.Column("checked_on", sa.Date, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_id", "year", name="uq_living_certification_year"),
    )
    op.create_table(
        "overpayment",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payment.id"), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("ledger_entry_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("payment_id", name="uq_overpayment_payment"),
    )


def downgrade() -> None:
    op.drop_table("overpayment")
    op.drop_table("living_certification")
    op.drop_table("bank_return")
    op.drop_table("payment")
    op.drop_table("payroll_run")
    op.drop_table("indexation_run")
    op.drop_table("pension_award_amount")
    op.drop_table("pension_award")
    op.drop_table("pension_case")
    op.drop_table("pension_history")
