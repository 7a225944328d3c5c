"""benefits casework (#13): awards, unemployment, injury, maternity, survivors

Every benefit as a case (``benefit_claim`` keyed by the shared ``service_case``), its award
and award lines, suspensions, life events and recoveries; payments name the scheme and the
award line they pay (a pension is scheme ``pension``, line 0), so one payroll run pays every
award; the run remembers its phase and the award cursor.

Written by hand; mirrors ``shebao.benefits.tables``.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
OLD_LIVE = "status IN ('computed','sent','paid')"
LIVE = OLD_LIVE


def upgrade() -> None:
    with op.batch_alter_table("payment") as b:
        b.add_column(sa.Column("scheme", sa.String(16), nullable=False, server_default="pension"))
        b.add_column(sa.Column("line_id", sa.BigInteger, nullable=False, server_default="0"))
        b.add_column(sa.Column("payee_type", sa.String(8), nullable=False,
                               server_default="person"))
        b.add_column(sa.Column("payee_id", sa.BigInteger))
    op.drop_index("uq_payment_live", table_name="payment")
    op.create_index("uq_payment_live", "payment", ["person_id", "month", "scheme", "line_id"],
                    unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_index("ix_payment_line", "payment", ["line_id", "status"])
    with op.batch_alter_table("payroll_run") as b:
        b.add_column(sa.Column("phase", sa.String(8), nullable=False, server_default="pension"))
        b.add_column(sa.Column("award_cursor", sa.BigInteger, nullable=False,
                               server_default="0"))
    op.create_table(
        "benefit_claim",
        sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("computation", sa.Text),
        sa.Column("computed_by", sa.String(64)),
        sa.Column("computed_at", sa.DateTime(timezone=True)),
        sa.Column("award_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_benefit_claim_person", "benefit_claim", ["person_id", "kind"])
    op.create_table(
        "benefit_award",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.BigInteger, nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("stopped_from", sa.Date),
        sa.Column("stop_reason", sa.String(64)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'stopped')", name="ck_benefit_award_status"),
    )
    op.create_index("ix_benefit_award_person", "benefit_award", ["person_id", "status"])
    op.create_index("ix_benefit_award_case", "benefit_award", ["case_id"])
    op.create_table(
        "benefit_award_line",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("award_id", sa.BigInteger, sa.ForeignKey("benefit_award.id"), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("start_month", sa.Date, nullable=False),
        sa.Column("end_month", sa.Date),
        sa.Column("payee_type", sa.String(8), nullable=False),
        sa.Column("payee_id", sa.BigInteger, nullable=False),
        sa.Column("fund_account", sa.String(12), nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('monthly', 'once')", name="ck_benefit_line_kind"),
        sa.CheckConstraint("amount_fen > 0", name="ck_benefit_line_amount"),
        sa.CheckConstraint("payee_type IN ('person', 'employer', 'fund')",
                           name="ck_benefit_line_payee"),
        sa.CheckConstraint("end_month IS NULL OR end_month >= start_month",
                           name="ck_benefit_line_months"),
    )
    op.create_index("ix_benefit_line_payroll", "benefit_award_line",
                    ["region", "status", "person_id"])
    op.create_index("ix_benefit_line_award", "benefit_award_line", ["award_id"])
    op.create_table(
        "benefit_suspension",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("award_id", sa.BigInteger, sa.ForeignKey("benefit_award.id")),
        sa.Column("pension_award_id", sa.BigInteger, sa.ForeignKey("pension_award.id")),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("from_month", sa.Date, nullable=False),
        sa.Column("to_month", sa.Date),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("back_pay", sa.SmallInteger),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resumed_by", sa.String(64)),
        sa.Column("resumed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("(award_id IS NULL) <> (pension_award_id IS NULL)",
                           name="ck_benefit_suspension_one"),
    )
    op.create_index("ix_benefit_suspension_award", "benefit_suspension",
                    ["award_id", "from_month"])
    op.create_index("ix_benefit_suspension_pension", "benefit_suspension",
                    ["pension_award_id", "from_month"])
    op.create_table(
        "benefit_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("award_id", sa.BigInteger),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_benefit_event_person", "benefit_event", ["person_id", "event"])
    op.create_table(
        "benefit_recovery",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("award_id", sa.BigInteger),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("recovered_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("instalment_fen", sa.BigInteger),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("recovered_fen >= 0 AND recovered_fen <= amount_fen",
                           name="ck_benefit_recovery_amount"),
    )
    op.create_index("ix_benefit_recovery_person", "benefit_recovery", ["person_id", "status"])
    op.create_table(
        "benefit_transfer",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("payroll_run.id"), nullable=False),
        sa.Column("line_id", sa.BigInteger, nullable=False),
        sa.Column("award_id", sa.BigInteger, nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("target_scheme", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("line_id", "month", name="uq_benefit_transfer_line_month"),
    )


def downgrade() -> None:
    for t in ("benefit_transfer", "benefit_recovery", "benefit_event", "benefit_suspension", "benefit_award_line",
              "benefit_award", "benefit_claim"):
        op.drop_table(t)
    with op.batch_alter_table("payroll_run") as b:
        b.drop_column("award_cursor")
        b.drop_column("phase")
    op.drop_index("ix_payment_line", table_name="payment")
    op.drop_index("uq_payment_live", table_name="payment")
    op.execute("DELETE FROM payment WHERE line_id <> 0")
    with op.batch_alter_table("payment") as b:
        b.drop_column("payee_id")
        b.drop_column("payee_type")
        b.drop_column("line_id")
        b.drop_column("scheme")
    op.create_index("uq_payment_live", "payment", ["person_id", "month"], unique=True,
                    sqlite_where=sa.text(OLD_LIVE), postgresql_where=sa.text(OLD_LIVE))
