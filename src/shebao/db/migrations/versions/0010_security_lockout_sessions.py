"""security: fair lockout lanes, idle timeout, forced password change, account provenance

Revision ID: 0010
Revises: 0009

* ``login_throttle``: failed sign-ins counted per lane in one atomic upsert (the account's own
  lane ``ip = ''`` and an address's lane), replacing ``users.failed_logins``/``locked_until``,
  whose read-then-write lost updates under parallel guesses.
* ``sessions.last_seen_at``: the idle timeout.
* ``users.must_change_password``, ``created_by``, ``password_reset_by``: temporary passwords
  after an administrator's reset, and separation of duties in maker-checker.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locks", sa.Integer, nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("username", "ip", name="uq_login_throttle_username_ip"),
    )
    op.add_column("sessions", sa.Column("last_seen_at", TS))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("created_by", sa.String(64)))
    op.add_column("users", sa.Column("password_reset_by", sa.String(64)))
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("locked_until", TS))
    op.add_column("users", sa.Column("failed_logins", sa.Integer, nullable=False,
                                     server_default="0"))
    op.drop_column("users", "password_reset_by")
    op.drop_column("users", "created_by")
    op.drop_column("users", "must_change_password")
    op.drop_column("sessions", "last_seen_at")
    op.drop_table("login_throttle")
