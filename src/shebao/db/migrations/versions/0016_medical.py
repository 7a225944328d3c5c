"""medical insurance and resident schemes (#16): providers, contracts, catalogues, claims,
settlements, off-site registrations and clearing; resident campaigns, sign-ups, awards; the
resident medical column of collection's contribution rows

Written by hand; mirrors ``shebao.medical.tables`` and ``shebao.residents.tables``
(tests/service/db/test_schema.py compares them).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
SETTLED = ("total_fen", "self_paid_fen", "scope_fen", "deductible_fen", "basic_fen",
           "serious_fen", "account_fen", "cash_fen")


def _id():
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


ROLES = ("'citizen','employer','collection_clerk','benefits_clerk','inspector',"
         "'administrator'")


def _roles(extra: str) -> None:
    with op.batch_alter_table("users") as b:
        b.drop_constraint("ck_users_role", type_="check")
        b.create_check_constraint("ck_users_role", f"role IN ({ROLES}{extra})")


def upgrade() -> None:
    C = sa.Column
    _roles(",'provider'")      # a designated hospital or pharmacy's account (#16)
    with op.batch_alter_table("contribution") as b:
        b.add_column(C("resident_medical_ee_pool", sa.BigInteger, nullable=False,
                       server_default="0"))
    op.create_table(
        "medical_provider", _id(),
        C("code", sa.String(32), nullable=False), C("name", sa.String(200), nullable=False),
        C("region", sa.String(6), nullable=False), C("kind", sa.String(10), nullable=False),
        C("level", sa.String(10), nullable=False), C("networked", sa.Boolean, nullable=False),
        C("status", sa.String(10), nullable=False), C("account", sa.String(64)),
        C("created_at", TS, nullable=False),
        sa.UniqueConstraint("code", name="uq_medical_provider_code"))
    op.create_table(
        "medical_contract", _id(),
        C("provider_id", sa.BigInteger, nullable=False),
        C("number", sa.String(40), nullable=False), C("valid_from", sa.Date, nullable=False),
        C("valid_to", sa.Date), C("status", sa.String(10), nullable=False),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False),
        sa.UniqueConstraint("number", name="uq_medical_contract_number"))
    op.create_index("ix_medical_contract_provider", "medical_contract",
                    ["provider_id", "valid_from"])
    op.create_table(
        "medical_catalogue_item", _id(),
        C("region", sa.String(6), nullable=False), C("code", sa.String(40), nullable=False),
        C("name", sa.String(200), nullable=False), C("kind", sa.String(10), nullable=False),
        C("class", sa.String(1), nullable=False), C("valid_from", sa.Date, nullable=False),
        C("valid_to", sa.Date),
        sa.UniqueConstraint("region", "code", "valid_from", name="uq_medical_catalogue_item"))
    op.create_table(
        "medical_claim", _id(),
        C("provider_id", sa.BigInteger, nullable=False),
        C("person_id", sa.BigInteger, nullable=False),
        C("bill_no", sa.String(40), nullable=False),
        C("insured_region", sa.String(6), nullable=False),
        C("treatment_region", sa.String(6), nullable=False),
        C("catalogue_region", sa.String(6), nullable=False),
        C("scheme", sa.String(20), nullable=False),
        C("person_type", sa.Integer, nullable=False), C("level", sa.Integer, nullable=False),
        C("inpatient", sa.Boolean, nullable=False), C("offsite", sa.Integer, nullable=False),
        C("use_account", sa.Boolean, nullable=False),
        C("admitted_on", sa.Date, nullable=False), C("discharged_on", sa.Date),
        C("total_fen", sa.BigInteger, nullable=False), C("lines", sa.Integer, nullable=False),
        C("fingerprint", sa.String(64), nullable=False),
        C("channel", sa.String(10), nullable=False), C("status", sa.String(10), nullable=False),
        C("run_id", sa.BigInteger), C("case_id", sa.BigInteger),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False),
        sa.UniqueConstraint("provider_id", "bill_no", name="uq_medical_claim_bill"))
    op.create_index("ix_medical_claim_person", "medical_claim", ["person_id", "admitted_on"])
    op.create_index("ix_medical_claim_status", "medical_claim", ["status", "insured_region"])
    op.create_index("ix_medical_claim_fingerprint", "medical_claim", ["fingerprint"])
    op.create_index("ix_medical_claim_run", "medical_claim", ["run_id"])
    op.create_table(
        "medical_claim_line",
        C("claim_id", sa.BigInteger, nullable=False), C("line_no", sa.Integer, nullable=False),
        C("item_code", sa.String(40), nullable=False),
        C("amount_fen", sa.BigInteger, nullable=False))
    op.create_index("ix_medical_claim_line_claim", "medical_claim_line", ["claim_id"])
    op.create_table(
        "medical_settlement",
        C("claim_id", sa.BigInteger, primary_key=True, autoincrement=False),
        C("run_id", sa.BigInteger, nullable=False), C("person_id", sa.BigInteger, nullable=False),
        C("year", sa.Integer, nullable=False), C("inpatient", sa.Integer, nullable=False),
        C("offsite", sa.Integer, nullable=False),
        *[C(c, sa.BigInteger, nullable=False) for c in SETTLED])
    op.create_index("ix_medical_settlement_person", "medical_settlement", ["person_id", "year"])
    op.create_index("ix_medical_settlement_run", "medical_settlement", ["run_id"])
    op.create_table(
        "medical_settlement_run", _id(),
        C("region", sa.String(6), nullable=False), C("on_date", sa.Date, nullable=False),
        C("claims", sa.Integer, nullable=False), C("lines", sa.BigInteger, nullable=False),
        C("totals", sa.Text, nullable=False), C("sources", sa.Text, nullable=False),
        C("actor", sa.String(64), nullable=False), C("started_at", TS, nullable=False),
        C("finished_at", TS))
    op.create_table(
        "medical_offsite_registration", _id(),
        C("person_id", sa.BigInteger, nullable=False),
        C("insured_region", sa.String(6), nullable=False),
        C("treatment_region", sa.String(6), nullable=False),
        C("category", sa.String(20), nullable=False), C("subtype", sa.String(30), nullable=False),
        C("valid_from", sa.Date, nullable=False), C("valid_to", sa.Date),
        C("status", sa.String(10), nullable=False), C("case_id", sa.BigInteger),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False))
    op.create_index("ix_medical_offsite_person", "medical_offsite_registration",
                    ["person_id", "valid_from"])
    op.create_table(
        "medical_clearing", _id(),
        C("month", sa.Date, nullable=False), C("insured_region", sa.String(6), nullable=False),
        C("treatment_region", sa.String(6), nullable=False),
        C("scheme", sa.String(20), nullable=False),
        C("amount_fen", sa.BigInteger, nullable=False), C("claims", sa.Integer, nullable=False),
        C("ledger_key", sa.String(200), nullable=False),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False),
        sa.UniqueConstraint("month", "insured_region", "treatment_region", "scheme",
                            name="uq_medical_clearing"))
    op.create_table(
        "resident_campaign", _id(),
        C("region", sa.String(6), nullable=False), C("year", sa.Integer, nullable=False),
        C("opens_on", sa.Date, nullable=False), C("closes_on", sa.Date, nullable=False),
        C("medical_individual_fen", sa.BigInteger, nullable=False),
        C("medical_subsidy_fen", sa.BigInteger, nullable=False),
        C("status", sa.String(10), nullable=False), C("sources", sa.Text, nullable=False),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False),
        sa.UniqueConstraint("region", "year", name="uq_resident_campaign"))
    op.create_table(
        "resident_signup", _id(),
        C("campaign_id", sa.BigInteger, nullable=False),
        C("person_id", sa.BigInteger, nullable=False), C("kind", sa.String(10), nullable=False),
        C("medical", sa.Integer, nullable=False),
        C("pension_tier_fen", sa.BigInteger, nullable=False),
        C("pension_subsidy_fen", sa.BigInteger, nullable=False),
        C("medical_subsidy_fen", sa.BigInteger, nullable=False),
        C("signed_on", sa.Date, nullable=False), C("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_resident_signup"))
    op.create_index("ix_resident_signup_person", "resident_signup", ["person_id"])
    op.create_table(
        "resident_award", _id(),
        C("person_id", sa.BigInteger, nullable=False), C("region", sa.String(6), nullable=False),
        C("start_month", sa.Date, nullable=False),
        C("account_fen", sa.BigInteger, nullable=False),
        C("basic_fen", sa.BigInteger, nullable=False),
        C("account_pension_fen", sa.BigInteger, nullable=False),
        C("monthly_fen", sa.BigInteger, nullable=False), C("divisor", sa.Integer, nullable=False),
        C("sources", sa.Text, nullable=False), C("status", sa.String(10), nullable=False),
        C("created_by", sa.String(64), nullable=False), C("created_at", TS, nullable=False),
        sa.UniqueConstraint("person_id", "start_month", name="uq_resident_award"))


def downgrade() -> None:
    _roles("")
    for t in ("resident_award", "resident_signup", "resident_campaign", "medical_clearing",
              "medical_offsite_registration", "medical_settlement_run", "medical_settlement",
              "medical_claim_line", "medical_claim", "medical_catalogue_item",
              "medical_contract", "medical_provider"):
        op.drop_table(t)
    with op.batch_alter_table("contribution") as b:
        b.drop_column("resident_medical_ee_pool")
