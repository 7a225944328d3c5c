"""mobility (#15): relation transfers with their steps, the living-certification cycle

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _id():
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                     autoincrement=True)


def _ts(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mobility_transfer", _id(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("from_region", sa.String(6), nullable=False),
        sa.Column("to_region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("temporary", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("applied_on", sa.Date, nullable=False),
        sa.Column("account_fen", sa.BigInteger),
        sa.Column("pooled_fen", sa.BigInteger),
        sa.Column("base_total_fen", sa.BigInteger),
        sa.Column("months", sa.Integer),
        sa.Column("sheet", sa.Text),
        sa.Column("out_entry_id", sa.BigInteger),
        sa.Column("in_entry_id", sa.BigInteger),
        sa.Column("approval_id", sa.BigInteger),
        sa.Column("case_in_id", sa.BigInteger),
        sa.Column("case_out_id", sa.BigInteger),
        sa.Column("reason", sa.String(200)),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"), _ts("updated_at"),
        sa.CheckConstraint("kind IN ('pension', 'medical', 'bridge')", name="ck_mobility_kind"),
        sa.CheckConstraint("status IN ('applied', 'letter_sent', 'funds_sent', 'recorded', "
                           "'refused', 'withdrawn')", name="ck_mobility_status"),
    )
    op.create_index("ix_mobility_transfer_person", "mobility_transfer", ["person_id", "kind"])
    op.create_index("ix_mobility_transfer_from", "mobility_transfer", ["from_region", "status"])
    op.create_index("ix_mobility_transfer_to", "mobility_transfer", ["to_region", "status"])
    # one live transfer per person and kind
    op.create_index("uq_mobility_transfer_live", "mobility_transfer", ["person_id", "kind"],
                    unique=True,
                    sqlite_where=sa.text("status IN ('applied', 'letter_sent', 'funds_sent')"),
                    postgresql_where=sa.text("status IN ('applied', 'letter_sent', 'funds_sent')"))
    op.create_table(
        "mobility_transfer_step", _id(),
        sa.Column("transfer_id", sa.BigInteger, sa.ForeignKey("mobility_transfer.id"),
                  nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("limit_days", sa.Integer, nullable=False),
        sa.Column("done_on", sa.Date),
        sa.Column("done_by", sa.String(64)),
        sa.Column("outcome", sa.String(12)),
        sa.Column("note", sa.String(200)),
        sa.UniqueConstraint("transfer_id", "step", name="uq_mobility_transfer_step"),
    )
    op.create_index("ix_mobility_step_open", "mobility_transfer_step", ["region", "done_on"])
    op.create_table(
        "certification_state",
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("last_certified_on", sa.Date),
        sa.Column("last_method", sa.String(20)),
        sa.Column("suspended_from", sa.Date),
        sa.Column("resumed_from", sa.Date),
        sa.Column("back_pay_months", sa.Integer, nullable=False, server_default="0"),
        sa.Column("death_date", sa.Date),
        sa.Column("updated_month", sa.Date, nullable=False),
        sa.CheckConstraint("state IN ('certified', 'suspended', 'deceased')",
                           name="ck_certification_state"),
    )
    op.create_index("ix_certification_state_region", "certification_state", ["region", "state"])
    op.create_table(
        "certification_signal", _id(),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("seen_on", sa.Date, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        _ts("recorded_at"),
    )
    op.create_index("ix_certification_signal_person", "certification_signal",
                    ["person_id", "seen_on"])
    op.create_table(
        "certification_event", _id(),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("event", sa.String(10), nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("method", sa.String(20)),
        sa.Column("months", sa.Integer),
        sa.Column("run_id", sa.BigInteger),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_certification_event_person", "certification_event", ["person_id"])
    op.create_table(
        "certification_run", _id(),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("n_pensioners", sa.Integer, nullable=False),
        sa.Column("n_data", sa.Integer, nullable=False),
        sa.Column("n_suspended", sa.Integer, nullable=False),
        sa.Column("n_resumed", sa.Integer, nullable=False),
        sa.Column("n_deceased", sa.Integer, nullable=False),
        sa.Column("n_due", sa.Integer, nullable=False),
        sa.Column("run_by", sa.String(64), nullable=False),
        _ts("run_at"),
        sa.UniqueConstraint("region", "month", name="uq_certification_run"),
    )


def downgrade() -> None:
    op.drop_table("certification_run")
    op.drop_index("ix_certification_event_person", "certification_event")
    op.drop_table("certification_event")
    op.drop_index("ix_certification_signal_person", "certification_signal")
    op.drop_table("certification_signal")
    op.drop_index("ix_certification_state_region", "certification_state")
    op.drop_table("certification_state")
    op.drop_index("ix_mobility_step_open", "mobility_transfer_step")
    op.drop_table("mobility_transfer_step")
    op.drop_index("uq_mobility_transfer_live", "mobility_transfer")
    op.drop_index("ix_mobility_transfer_to", "mobility_transfer")
    op.drop_index("ix_mobility_transfer_from", "mobility_transfer")
    op.drop_index("ix_mobility_transfer_person", "mobility_transfer")
    op.drop_table("mobility_transfer")
