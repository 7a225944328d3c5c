"""Audit log table: append-only and hash-chained (see security/audit.py)."""
from sqlalchemy import Column, DateTime, Index, String, Table, Text

from shebao.db.engine import BigId, metadata

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("fields", Text, nullable=True),        # comma-separated field names read/changed
    Column("purpose", String(200), nullable=True),
    Column("detail", Text, nullable=True),        # canonical JSON: before/after, basis, counts
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    # the region scope whose chain the row is on (security/audit.py; migration 0009)
    Column("chain", String(16), nullable=False, server_default="national"),
    Index("ix_audit_log_chain_id", "chain", "id"),
)


# --- authentication, sessions, maker-checker, API idempotency (migration 0006) -------------
from sqlalchemy import Boolean, Integer, ForeignKey, UniqueConstraint, false  # noqa: E402

users = Table(
    "users", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),   # argon2id, PHC string
    Column("role", String(32), nullable=False),
    Column("scope", String(16), nullable=False),            # region subtree root (staff)
    Column("person_id", BigId, nullable=True),              # citizens: themselves
    Column("employer_id", BigId, nullable=True),            # employers: their own firm
    Column("display_name", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    # migration 0009: a temporary password (reset by an administrator) must be changed at the
    # next sign-in; who created the account and who last reset its password (separation of
    # duties: security/maker_checker.py)
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    Column("created_by", String(64), nullable=True),
    Column("password_reset_by", String(64), nullable=True),
)

sessions = Table(
    "sessions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),   # sha256 of the secret token
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("kind", String(8), nullable=False),                         # web | api
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=True),   # idle timeout (0009)
)

# Failed sign-ins per lane (migration 0009): ``ip = ''`` is the account's own lane, any other
# value an address's lane for that account. Keyed by the username as typed, so an unknown
# name behaves exactly like a real one (security/service.py, "Lockout").
login_throttle = Table(
    "login_throttle", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("locks", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("username", "ip", name="uq_login_throttle_username_ip"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_login_attempts_ip_at", "ip", "at"),
    Index("ix_login_attempts_username_at", "username", "at"),
)

approvals = Table(
    "approvals", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(48), nullable=False),          # pension.determination | payroll.release
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("status", String(16), nullable=False),        # pending | approved | rejected
    Column("maker", String(64), nullable=False),
    Column("maker_role", String(32), nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("checker", String(64), nullable=True),
    Column("checker_role", String(32), nullable=True),
    Column("checked_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Index("ix_approvals_subject", "kind", "subject_type", "subject_id"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("principal", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),
)
