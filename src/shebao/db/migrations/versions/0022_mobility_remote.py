"""mobility: transfers between installations, certification notices (#15, session 5)

A transfer whose other end is another installation of shebao (reached through the sharing
API) keeps that installation's partner code (``peer``) and the reference both sides share
(``peer_ref``; unique per peer: a message received twice finds its transfer). A partner of kind
``installation`` names the regions it serves (``serves``: comma-separated region codes), so that
mobility can tell a remote old place from a local one.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mobility_transfer", sa.Column("peer", sa.String(40)))
    op.add_column("mobility_transfer", sa.Column("peer_ref", sa.String(40)))
    op.create_index("uq_mobility_transfer_peer", "mobility_transfer", ["peer", "peer_ref"],
                    unique=True)
    op.add_column("partner", sa.Column("serves", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("partner") as b:
        b.drop_column("serves")
    op.drop_index("uq_mobility_transfer_peer", table_name="mobility_transfer")
    with op.batch_alter_table("mobility_transfer") as b:
        b.drop_column("peer_ref")
        b.drop_column("peer")
