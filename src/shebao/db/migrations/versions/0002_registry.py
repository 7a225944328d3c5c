"""registry: persons, employers, employment spells, enrolments (effective-dated), imports,
household-registration cross-check, dedup review queue and merges.

Revision ID: 0002
Revises: 0001

Written by hand; mirrors ``shebao.registry.tables`` (a test compares the two).
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _person_attrs():
    return [
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("sex", sa.String(1)),
        sa.Column("birth_date", sa.Date),
        sa.Column("hukou_region", sa.String(6)),
        sa.Column("residence_region", sa.String(6)),
        sa.Column("pension_region", sa.String(6)),
        sa.Column("phone", sa.String(20)),
        sa.Column("address", sa.String(200)),
        sa.Column("notify_channels", sa.String(64)),
        sa.Column("bank_name", sa.String(64)),
        sa.Column("bank_account", sa.String(40)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_date", sa.Date),
        sa.Column("death_date", sa.Date),
        sa.Column("merged_into", sa.BigInteger),
    ]


def _employer_attrs():
    return [
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("industry_code", sa.String(4), nullable=False),
        sa.Column("risk_class", sa.SmallInteger, nullable=False),
        sa.Column("float_tier_pct", sa.SmallInteger, nullable=False),
        sa.Column("bank_name", sa.String(64)),
        sa.Column("bank_account", sa.String(40)),
        sa.Column("status", sa.String(12), nullable=False),
    ]


def _version_cols():
    return [
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_run_id", sa.BigInteger),
    ]


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("encoding", sa.String(16)),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error_file", sa.String(300)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "person",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("citizen_id", sa.String(18), nullable=False),
        *_person_attrs(),
        sa.Column("name_pinyin", sa.String(128)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_run_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("citizen_id", name="uq_person_citizen_id"),
    )
    op.create_index("ix_person_status", "person", ["status"])
    op.create_index("ix_person_birth_name", "person", ["birth_date", "name_pinyin"])
    op.create_index("ix_person_phone", "person", ["phone"])
    op.create_index("ix_person_import_run", "person", ["import_run_id"])
    op.create_table(
        "person_version",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("citizen_id", sa.String(18), nullable=False),
        *_person_attrs(),
        *_version_cols(),
        sa.UniqueConstraint("person_id", "version", name="uq_person_version_person_id_version"),
    )
    op.create_table(
        "employer",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("uscc", sa.String(18), nullable=False),
        *_employer_attrs(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_run_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("uscc", name="uq_employer_uscc"),
    )
    op.create_index("ix_employer_region", "employer", ["region"])
    op.create_table(
        "employer_version",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("employer_id", sa.BigInteger, sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        *_employer_attrs(),
        *_version_cols(),
        sa.UniqueConstraint("employer_id", "version",
                            name="uq_employer_version_employer_id_version"),
    )
    op.create_table(
        "employment",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("origin_person_id", sa.BigInteger, sa.ForeignKey("person.id"),
                  nullable=False),
        sa.Column("employer_id", sa.BigInteger, sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date),
        sa.Column("leave_reason", sa.String(32)),
        sa.Column("involuntary", sa.Boolean),
        sa.Column("wage_fen", sa.BigInteger),
        sa.Column("wage_year", sa.Integer),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_run_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.String(64)),
    )
    op.create_index("ix_employment_person", "employment", ["person_id", "start_date"])
    op.create_index("ix_employment_employer", "employment", ["employer_id"])
    op.create_table(
        "enrolment",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("origin_person_id", sa.BigInteger, sa.ForeignKey("person.id"),
                  nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("employer_id", sa.BigInteger, sa.ForeignKey("employer.id")),
        sa.Column("employment_id", sa.BigInteger, sa.ForeignKey("employment.id")),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("end_reason", sa.String(64)),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_run_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.String(64)),
    )
    op.create_index("ix_enrolment_region_scheme_status", "enrolment",
                    ["region", "scheme", "status"])
    op.create_index("ix_enrolment_person_scheme", "enrolment", ["person_id", "scheme"])
    op.create_index("ix_enrolment_employer", "enrolment", ["employer_id"])
    op.create_index("uq_enrolment_one_open", "enrolment", ["person_id", "scheme"], unique=True,
                    sqlite_where=sa.text("end_date IS NULL"),
                    postgresql_where=sa.text("end_date IS NULL"))
    op.create_table(
        "hukou_mismatch",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("import_run_id", sa.BigInteger, sa.ForeignKey("import_run.id"),
                  nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("citizen_id", sa.String(18), nullable=False),
        sa.Column("person_id", sa.BigInteger),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("registry_value", sa.String(200)),
        sa.Column("hukou_value", sa.String(200)),
    )
    op.create_table(
        "dedup_candidate",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_a", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("person_b", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("match_probability", sa.Float, nullable=False),
        sa.Column("match_weight", sa.Float, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("found_by", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("note", sa.String(200)),
        sa.UniqueConstraint("person_a", "person_b", name="uq_dedup_candidate_pair"),
    )
    op.create_index("ix_dedup_candidate_status", "dedup_candidate", ["status"])
    op.create_table(
        "person_merge",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("survivor_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("merged_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("merged_citizen_id", sa.String(18), nullable=False),
        sa.Column("candidate_id", sa.BigInteger),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("moved", sa.Text, nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by", sa.String(64), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.Column("undone_by", sa.String(64)),
        sa.Column("undo_reason", sa.String(200)),
    )
    op.create_index("ix_person_merge_survivor", "person_merge", ["survivor_id"])
    op.create_index("ix_person_merge_merged", "person_merge", ["merged_id"])


def downgrade() -> None:
    for t in ("person_merge", "dedup_candidate", "hukou_mismatch", "enrolment", "employment",
              "employer_version", "employer", "person_version", "person", "import_run"):
        op.drop_table(t)
