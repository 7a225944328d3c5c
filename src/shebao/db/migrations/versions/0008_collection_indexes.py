"""collection: an index of contributions per person, the payer index leading with integers;
bills without the status index, so that paying them updates rows in place

Revision ID: 0008
Revises: 0007

``contribution`` (a wide row per run × person × payer, ~a million a month at a million insured):

* ``ix_contribution_person (person_id, month)`` is new: a person's record across months (their
  statement, the citizen portal, the pension history) had no index and read the whole table.
* ``ix_contribution_payer_month (payer_id, month)`` replaces ``(region, month, payer_type,
  payer_id)`` for a bill's persons: the assessment inserts into it in random order, and the
  narrower key that compares integers first (not a collated text) is cheaper to insert into.
  With the new person index, the write of a month (920,000 rows, binary COPY in ten chunks)
  still costs a little less than before: 5.6–6.1 s against 6.5 s on the bench machine.
* ``ix_contribution_region_month_person`` stays: the assessment's per-chunk lookups (a person
  range in one region × month) and the month-wide sums (bills, reconciliation) use it. (No
  other index leads with the month: while the statistics still say a month is empty, the
  planner could take one for a chunk's lookup and scan the whole month for every chunk.)

``bill``: ``ix_bill_status (region, status)`` is dropped — no query selects bills by status,
and because a payment changes the status, the index made every paid bill a new row version
with new entries in all four indexes. On PostgreSQL ``bill`` and ``bill_line`` are filled to
half a page (fillfactor 50, for pages written from now on), so the bank import's updates of
paid amounts and status stay on the page (HOT updates: no index is touched).
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contribution_payer", "contribution")
    op.create_index("ix_contribution_person", "contribution", ["person_id", "month"])
    op.create_index("ix_contribution_payer_month", "contribution", ["payer_id", "month"])
    op.drop_index("ix_bill_status", "bill")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bill SET (fillfactor = 50)")
        op.execute("ALTER TABLE bill_line SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bill_line RESET (fillfactor)")
        op.execute("ALTER TABLE bill RESET (fillfactor)")
    op.create_index("ix_bill_status", "bill", ["region", "status"])
    op.drop_index("ix_contribution_payer_month", "contribution")
    op.drop_index("ix_contribution_person", "contribution")
    op.create_index("ix_contribution_payer", "contribution",
                    ["region", "month", "payer_type", "payer_id"])
