"""supervision and monitoring (#14): alerts, inspections, blacklist, arrears cases, fund warning

Tables mirror ``supervision/tables.py`` and ``monitoring/tables.py``.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _id():
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                     autoincrement=True)


def _at(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "monitor_run", _id(),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("found", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("repeated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seconds", sa.String(16)),
        sa.Column("actor", sa.String(64), nullable=False),
        _at("started_at"), _at("finished_at", True),
    )
    op.create_table(
        "monitor_alert", _id(),
        sa.Column("rule", sa.String(48), nullable=False),
        sa.Column("fingerprint", sa.String(120), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.BigInteger),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("first_run_id", sa.BigInteger, nullable=False),
        sa.Column("last_run_id", sa.BigInteger, nullable=False),
        sa.Column("times_seen", sa.Integer, nullable=False),
        _at("first_seen_at"), _at("last_seen_at"),
        sa.Column("case_id", sa.BigInteger),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("close_reason", sa.String(200)),
        sa.UniqueConstraint("fingerprint", name="uq_monitor_alert_fingerprint"),
    )
    op.create_index("ix_monitor_alert_region_status", "monitor_alert",
                    ["region", "status", "score"])
    op.create_table(
        "inspection_case",
        sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("alert_id", sa.BigInteger),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("complaint", sa.Text),
        sa.Column("plan", sa.Text),
        sa.Column("findings", sa.Text),
        sa.Column("decision", sa.String(16)),
        sa.Column("recover_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("back_assess_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fine_base_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fine_multiple", sa.String(8)),
        sa.Column("fine_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("refer_to", sa.String(120)),
        sa.Column("ledger_entry_id", sa.BigInteger),
        sa.Column("recovery_id", sa.BigInteger),
        sa.Column("region", sa.String(6), nullable=False),
    )
    op.create_table(
        "blacklist_entry", _id(),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("grounds", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("case_id", sa.BigInteger),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        _at("proposed_at"),
        sa.Column("notified_on", sa.Date),
        sa.Column("objection_until", sa.Date),
        sa.Column("objection", sa.Text),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_on", sa.Date),
        sa.Column("listed_from", sa.Date),
        sa.Column("listed_until", sa.Date),
        sa.Column("published_on", sa.Date),
        sa.Column("removed_on", sa.Date),
        sa.Column("removal_reason", sa.String(200)),
        sa.Column("approval_id", sa.BigInteger),
    )
    op.create_index("ix_blacklist_subject", "blacklist_entry",
                    ["subject_type", "subject_id", "status"])
    op.create_table(
        "arrears_case",
        sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("employer_id", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger, nullable=False),
        sa.Column("late_fee_fen", sa.BigInteger, nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("notice_on", sa.Date),
        sa.Column("pay_by", sa.Date),
        sa.Column("instalments", sa.Text),
        sa.Column("enforcement_on", sa.Date),
        sa.UniqueConstraint("employer_id", "as_of", name="uq_arrears_case_employer_as_of"),
    )
    op.create_table(
        "fund_warning", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("fund", sa.String(20), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("value", sa.String(32)),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _at("at"),
        sa.UniqueConstraint("region", "fund", "as_of", "indicator", name="uq_fund_warning"),
    )
    op.create_index("ix_fund_warning_level", "fund_warning", ["level", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_fund_warning_level", "fund_warning")
    op.drop_table("fund_warning")
    op.drop_table("arrears_case")
    op.drop_index("ix_blacklist_subject", "blacklist_entry")
    op.drop_table("blacklist_entry")
    op.drop_table("inspection_case")
    op.drop_index("ix_monitor_alert_region_status", "monitor_alert")
    op.drop_table("monitor_alert")
    op.drop_table("monitor_run")
