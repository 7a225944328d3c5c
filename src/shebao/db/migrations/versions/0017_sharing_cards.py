"""information sharing and cards (#17): partners, tokens, exchanges, subscriptions and the
partner delivery outbox (sharing); social security cards and e-card credentials (cards)

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
IN_FORCE = "status IN ('applied','issued','active')"


def upgrade() -> None:
    op.create_table(
        "partner",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("public_key", sa.String(64)),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("base_url", sa.String(200)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "partner_token",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.BigInteger, sa.ForeignKey("partner.id"), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "partner_exchange",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.BigInteger, sa.ForeignKey("partner.id"), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("reference_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(200)),
        sa.Column("legal_basis", sa.String(200)),
        sa.Column("consent_ref", sa.String(64)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("request", sa.Text),
        sa.Column("response", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("partner_id", "direction", "reference_id",
                            name="uq_partner_exchange_reference"),
    )
    op.create_index("ix_partner_exchange_kind", "partner_exchange", ["kind", "id"])
    op.create_table(
        "partner_subscription",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.BigInteger, sa.ForeignKey("partner.id"), nullable=False),
        sa.Column("event_type", sa.String(20), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_index("ix_partner_subscription_event", "partner_subscription",
                    ["event_type", "status"])
    op.create_table(
        "partner_delivery",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.BigInteger, sa.ForeignKey("partner_subscription.id")),
        sa.Column("partner_id", sa.BigInteger, sa.ForeignKey("partner.id"), nullable=False),
        sa.Column("event_type", sa.String(20), nullable=False),
        sa.Column("reference_id", sa.String(64), nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_partner_delivery_due", "partner_delivery", ["status", "next_attempt_at"])

    op.create_table(
        "social_security_card",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("card_no", sa.String(12), unique=True),
        sa.Column("generation", sa.SmallInteger, nullable=False),
        sa.Column("case_id", sa.BigInteger),
        sa.Column("replaces_id", sa.BigInteger, sa.ForeignKey("social_security_card.id")),
        sa.Column("applied_at", TS, nullable=False),
        sa.Column("issued_on", sa.Date),
        sa.Column("activated_at", TS),
        sa.Column("lost_at", TS),
        sa.Column("ended_at", TS),
        sa.Column("bank_name", sa.String(64)),
        sa.Column("bank_account", sa.String(40)),
        sa.Column("bank_linked_at", TS),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ux_social_security_card_in_force", "social_security_card", ["person_id"],
                    unique=True, sqlite_where=sa.text(IN_FORCE),
                    postgresql_where=sa.text(IN_FORCE))
    op.create_table(
        "ecard_credential",
        sa.Column("jti", sa.String(32), primary_key=True),
        sa.Column("card_id", sa.BigInteger, sa.ForeignKey("social_security_card.id"),
                  nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_reason", sa.String(40)),
    )
    op.create_index("ix_ecard_credential_card", "ecard_credential", ["card_id"])
    op.create_index("ix_ecard_credential_revoked", "ecard_credential", ["revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_ecard_credential_revoked", "ecard_credential")
    op.drop_index("ix_ecard_credential_card", "ecard_credential")
    op.drop_table("ecard_credential")
    op.drop_index("ux_social_security_card_in_force", "social_security_card")
    op.drop_table("social_security_card")
    op.drop_index("ix_partner_delivery_due", "partner_delivery")
    op.drop_table("partner_delivery")
    op.drop_index("ix_partner_subscription_event", "partner_subscription")
    op.drop_table("partner_subscription")
    op.drop_index("ix_partner_exchange_kind", "partner_exchange")
    op.drop_table("partner_exchange")
    op.drop_table("partner_token")
    op.drop_table("partner")
