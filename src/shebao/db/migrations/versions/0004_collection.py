"""collection: base declarations, assessment runs and their checkpoints, the wide contribution
table, bills and bill lines, bank files out and in, receipts and their allocation, arrears flags.

Revision ID: 0004
Revises: 0003

Written by hand; mirrors ``shebao.collection.tables``.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

_SCHEMES = ("pension", "medical", "unemployment", "injury", "maternity")
AMOUNT_COLUMNS = tuple(f"{s}_{side}_{acct}" for s in _SCHEMES for side in ("er", "ee")
                       for acct in ("pool", "ind")) + ("resident_pension_ee_pool",
                                                       "resident_pension_ee_ind")


def _id():
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "base_declaration", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("employer_id", sa.BigInteger),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("wage_fen", sa.BigInteger),
        sa.Column("chosen_fen", sa.BigInteger),
        sa.Column("base_fen", sa.BigInteger, nullable=False),
        sa.Column("floor_fen", sa.BigInteger),
        sa.Column("ceiling_fen", sa.BigInteger),
        sa.Column("clamp", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("upload_id", sa.BigInteger),
        sa.Column("declared_by", sa.String(64), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.BigInteger),
    )
    op.create_index("ix_base_declaration_person", "base_declaration",
                    ["person_id", "effective_from"])
    op.create_index("ix_base_declaration_region_year", "base_declaration", ["region", "year"])

    op.create_table(
        "declaration_upload", _id(),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("dry_run", sa.SmallInteger, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("error_file", sa.String(300)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "contribution", _id(),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("payer_type", sa.String(1), nullable=False),
        sa.Column("payer_id", sa.BigInteger, nullable=False),
        sa.Column("wage_fen", sa.BigInteger, nullable=False),
        sa.Column("base_fen", sa.BigInteger, nullable=False),
        sa.Column("clamp", sa.SmallInteger, nullable=False),
        sa.Column("basis", sa.SmallInteger, nullable=False),
        sa.Column("injury_num", sa.BigInteger, nullable=False),
        *[sa.Column(c, sa.BigInteger, nullable=False) for c in AMOUNT_COLUMNS],
        sa.Column("total_fen", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_contribution_region_month_person", "contribution",
                    ["region", "month", "person_id"])
    op.create_index("ix_contribution_payer", "contribution",
                    ["region", "month", "payer_type", "payer_id"])

    op.create_table(
        "assessment_run", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("chunk_size", sa.Integer, nullable=False),
        sa.Column("lo", sa.BigInteger, nullable=False),
        sa.Column("hi", sa.BigInteger, nullable=False),
        sa.Column("next_lo", sa.BigInteger, nullable=False),
        sa.Column("chunks_done", sa.Integer, nullable=False),
        sa.Column("persons", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_assessment_run_region_month", "assessment_run", ["region", "month"])

    op.create_table(
        "assessment_chunk", _id(),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("chunk_no", sa.Integer, nullable=False),
        sa.Column("lo", sa.BigInteger, nullable=False),
        sa.Column("hi", sa.BigInteger, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("ledger_key", sa.String(200)),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "chunk_no", name="uq_assessment_chunk_run_id"),
    )

    op.create_table(
        "bill", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("payer_type", sa.String(1), nullable=False),
        sa.Column("payer_id", sa.BigInteger, nullable=False),
        sa.Column("e2e_id", sa.String(35), nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("last_paid_on", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("e2e_id", name="uq_bill_e2e_id"),
        sa.UniqueConstraint("region", "month", "payer_type", "payer_id", name="uq_bill_region"),
    )
    op.create_index("ix_bill_status", "bill", ["region", "status"])

    op.create_table(
        "bill_line", _id(),
        sa.Column("bill_id", sa.BigInteger, nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("employer_fen", sa.BigInteger, nullable=False),
        sa.Column("employee_fen", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_fen", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("bill_id", "scheme", name="uq_bill_line_bill_id"),
    )

    op.create_table(
        "bank_export", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("msg_id", sa.String(35), nullable=False),
        sa.Column("n_tx", sa.Integer, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "bank_import", _id(),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("new_receipts", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("applied_fen", sa.BigInteger, nullable=False),
        sa.Column("suspense_fen", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("kept_path", sa.String(400)),
        sa.Column("ledger_key", sa.String(200)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "receipt", _id(),
        sa.Column("import_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("bank_ref", sa.String(35), nullable=False),
        sa.Column("e2e_id", sa.String(35), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("bill_id", sa.BigInteger),
        sa.Column("applied_fen", sa.BigInteger, nullable=False),
        sa.Column("excess_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.UniqueConstraint("bank_ref", name="uq_receipt_bank_ref"),
    )
    op.create_index("ix_receipt_bill", "receipt", ["bill_id"])

    op.create_table(
        "receipt_alloc", _id(),
        sa.Column("receipt_id", sa.BigInteger, nullable=False),
        sa.Column("bill_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("payer_type", sa.String(1), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_receipt_alloc_region_month", "receipt_alloc", ["region", "month"])

    op.create_table(
        "arrears_flag", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("employer_id", sa.BigInteger, nullable=False),
        sa.Column("bills", sa.Integer, nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger, nullable=False),
        sa.Column("late_fee_fen", sa.BigInteger, nullable=False),
        sa.Column("max_days", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region", "as_of", "employer_id", name="uq_arrears_flag_region"),
    )

    op.create_table(
        "late_fee_charge", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("bill_id", sa.BigInteger, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("payer_type", sa.String(1), nullable=False),
        sa.Column("payer_id", sa.BigInteger, nullable=False),
        sa.Column("from_day", sa.Date, nullable=False),
        sa.Column("to_day", sa.Date, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("base_fen", sa.BigInteger, nullable=False),
        sa.Column("fen_days", sa.BigInteger, nullable=False),
        sa.Column("rate", sa.String(20), nullable=False),
        sa.Column("fen", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(80), nullable=False),
        sa.Column("ledger_key", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_late_fee_charge_key"),
    )
    op.create_index("ix_late_fee_charge_bill", "late_fee_charge", ["bill_id"])
    op.create_index("ix_late_fee_charge_region_month", "late_fee_charge", ["region", "month"])


def downgrade() -> None:
    for t in ("late_fee_charge", "arrears_flag", "receipt_alloc", "receipt", "bank_import", "bank_export",
              "bill_line", "bill", "assessment_chunk", "assessment_run", "contribution",
              "declaration_upload", "base_declaration"):
        op.drop_table(t)
