"""channels and security: users, sessions, login attempts, maker-checker approvals,
API idempotency keys

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("person_id", BigId),
        sa.Column("employer_id", BigId),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.CheckConstraint("role IN ('citizen','employer','collection_clerk','benefits_clerk',"
                           "'inspector','administrator')", name="ck_users_role"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("ip", sa.String(64)),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "at"])
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_table(
        "approvals",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("maker", sa.String(64), nullable=False),
        sa.Column("maker_role", sa.String(32), nullable=False),
        sa.Column("made_at", TS, nullable=False),
        sa.Column("checker", sa.String(64)),
        sa.Column("checker_role", sa.String(32)),
        sa.Column("checked_at", TS),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text),
        sa.CheckConstraint("status IN ('pending','approved','rejected')",
                           name="ck_approvals_status"),
        # the database itself refuses a checker who is the maker
        sa.CheckConstraint("checker IS NULL OR checker <> maker",
                           name="ck_approvals_four_eyes"),
    )
    op.create_index("ix_approvals_subject", "approvals", ["kind", "subject_type", "subject_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("principal", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response_body", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),
    )


def downgrade() -> None:
    for t in ("idempotency_keys", "approvals", "login_attempts",
              "sessions", "users"):
        op.drop_table(t)
