"""Registry tables (SQLAlchemy Core on the shared metadata). Schema: migration 0002_registry.

Stable interface for the other packages (read these, write only through registry services):

``person``       one row per person, the *current* version (id never changes).
                 citizen_id (the social security number, unique), name, sex "M"/"F",
                 birth_date, hukou_region, residence_region, pension_region (the region that
                 holds the pension relation; transfers move it), phone, address,
                 notify_channels ("sms,app,mail"), bank_name, bank_account (pension payments),
                 status: active | deceased | emigrated | merged, status_date, death_date,
                 merged_into (survivor id when status = merged), version, source.
``person_version`` every version ever valid: valid_from/valid_to (effective dates), recorded_at,
                 recorded_by, reason, source; a change closes one row and opens the next.
``employer``     uscc (unique), name, region, industry_code (GB/T 4754-2011 division, "65"),
                 risk_class 1–8 (from rules ``registry.industry_risk_class``),
                 float_tier_pct (floating-rate multiplier in percent: 50, 80, 100, 120, 150 →
                 ×0.5 … ×1.5), bank_name, bank_account, status: active | closed, version.
``employer_version`` as person_version.
``employment``   person × employer spell: start_date, end_date (inclusive, NULL = open),
                 leave_reason, involuntary (unemployment benefit), wage_fen (declared average
                 monthly wage of wage_year, the previous year, integer fen), origin_person_id
                 (the person the spell was recorded for; differs from person_id after a merge).
``enrolment``    person × scheme × region × kind: scheme in SCHEMES (pension, medical,
                 unemployment, injury, maternity, resident_pension, resident_medical), kind in
                 KINDS (employee, flexible, resident, student), employer_id (NULL unless
                 employee), start_date, end_date (inclusive, NULL = open), status: active |
                 suspended | ended. At most one open enrolment per person × scheme (unique
                 partial index). Indexed on (region, scheme, status) for set-based assessment.
``dedup_candidate`` the review queue of suspected duplicate pairs.
``person_merge`` merges (both records kept; undo restores them).
``import_run``, ``hukou_mismatch`` provenance of bulk imports and the cross-check results.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index,
                        Integer, SmallInteger, String, Table, Text, UniqueConstraint, text)

from shebao.db.engine import BigId, metadata

# The same attribute set is stored on the current row and on each version row.
PERSON_FIELDS = ("name", "sex", "birth_date", "hukou_region", "residence_region",
                 "pension_region", "phone", "address", "notify_channels", "bank_name",
                 "bank_account", "status", "status_date", "death_date", "merged_into")
EMPLOYER_FIELDS = ("name", "region", "industry_code", "risk_class", "float_tier_pct",
                   "bank_name", "bank_account", "status")


def _person_attrs():
    return [
        Column("name", String(64), nullable=False),
        Column("sex", String(1)),
        Column("birth_date", Date),
        Column("hukou_region", String(6)),
        Column("residence_region", String(6)),
        Column("pension_region", String(6)),
        Column("phone", String(20)),
        Column("address", String(200)),
        Column("notify_channels", String(64)),
        Column("bank_name", String(64)),
        Column("bank_account", String(40)),
        Column("status", String(12), nullable=False),
        Column("status_date", Date),
        Column("death_date", Date),
        Column("merged_into", BigInteger),
    ]


def _employer_attrs():
    return [
        Column("name", String(120), nullable=False),
        Column("region", String(6), nullable=False),
        Column("industry_code", String(4), nullable=False),
        Column("risk_class", SmallInteger, nullable=False),
        Column("float_tier_pct", SmallInteger, nullable=False),
        Column("bank_name", String(64)),
        Column("bank_account", String(40)),
        Column("status", String(12), nullable=False),
    ]


import_run = Table(
    "import_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),          # persons|employers|employment|hukou|generate
    Column("file_name", String(300), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("encoding", String(16)),
    Column("dry_run", Boolean, nullable=False),
    Column("rows", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("error_file", String(300)),
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

person = Table(
    "person", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("citizen_id", String(18), nullable=False),
    UniqueConstraint("citizen_id", name="uq_person_citizen_id"),
    *_person_attrs(),
    Column("name_pinyin", String(128)),
    Column("version", Integer, nullable=False),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_person_status", person.c.status)
Index("ix_person_birth_name", person.c.birth_date, person.c.name_pinyin)
Index("ix_person_phone", person.c.phone)
Index("ix_person_import_run", person.c.import_run_id)

person_version = Table(
    "person_version", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("citizen_id", String(18), nullable=False),
    *_person_attrs(),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    UniqueConstraint("person_id", "version", name="uq_person_version_person_id_version"),
)

employer = Table(
    "employer", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False),
    UniqueConstraint("uscc", name="uq_employer_uscc"),
    *_employer_attrs(),
    Column("version", Integer, nullable=False),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_employer_region", employer.c.region)

employer_version = Table(
    "employer_version", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("employer_id", BigInteger, ForeignKey("employer.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("uscc", String(18), nullable=False),
    *_employer_attrs(),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    UniqueConstraint("employer_id", "version", name="uq_employer_version_employer_id_version"),
)

employment = Table(
    "employment", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("origin_person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("employer_id", BigInteger, ForeignKey("employer.id"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("leave_reason", String(32)),
    Column("involuntary", Boolean),
    Column("wage_fen", BigInteger),
    Column("wage_year", Integer),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", String(64)),
)
Index("ix_employment_person", employment.c.person_id, employment.c.start_date)
Index("ix_employment_employer", employment.c.employer_id)

enrolment = Table(
    "enrolment", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("origin_person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("region", String(6), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("employer_id", BigInteger, ForeignKey("employer.id")),
    Column("employment_id", BigInteger, ForeignKey("employment.id")),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("status", String(10), nullable=False),
    Column("end_reason", String(64)),
    Column("source", String(200), nullable=False),
    Column("import_run_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", String(64)),
)
Index("ix_enrolment_region_scheme_status", enrolment.c.region, enrolment.c.scheme,
      enrolment.c.status)
Index("ix_enrolment_person_scheme", enrolment.c.person_id, enrolment.c.scheme)
Index("ix_enrolment_employer", enrolment.c.employer_id)
Index("uq_enrolment_one_open", enrolment.c.person_id, enrolment.c.scheme, unique=True,
      sqlite_where=text("end_date IS NULL"), postgresql_where=text("end_date IS NULL"))

hukou_mismatch = Table(
    "hukou_mismatch", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_run_id", BigInteger, ForeignKey("import_run.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("citizen_id", String(18), nullable=False),
    Column("person_id", BigInteger),
    Column("field", String(32), nullable=False),
    Column("registry_value", String(200)),
    Column("hukou_value", String(200)),
)

dedup_candidate = Table(
    "dedup_candidate", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_a", BigInteger, ForeignKey("person.id"), nullable=False),  # a < b
    Column("person_b", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("match_probability", Float, nullable=False),   # a score, not money
    Column("match_weight", Float, nullable=False),
    Column("status", String(12), nullable=False),  # pending|merged|distinct|superseded
    Column("found_by", String(64), nullable=False),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(64)),
    Column("note", String(200)),
    UniqueConstraint("person_a", "person_b", name="uq_dedup_candidate_pair"),
)
Index("ix_dedup_candidate_status", dedup_candidate.c.status)

person_merge = Table(
    "person_merge", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("survivor_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("merged_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("merged_citizen_id", String(18), nullable=False),
    Column("candidate_id", BigInteger),
    Column("reason", String(200), nullable=False),
    Column("moved", Text, nullable=False),       # JSON: enrolment and employment ids moved
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("merged_by", String(64), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undone_by", String(64)),
    Column("undo_reason", String(200)),
)
Index("ix_person_merge_survivor", person_merge.c.survivor_id)
Index("ix_person_merge_merged", person_merge.c.merged_id)


# An employer's request to enrol a person it has never employed: effective (a spell and its
# enrolments are opened) only when the person confirms or a clerk of the employer's region
# approves; until then it gives the employer no access to the person (registry.hiring).
employment_request = Table(
    "employment_request", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("employer_id", BigInteger, ForeignKey("employer.id"), nullable=False),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("wage_fen", BigInteger),
    Column("wage_year", Integer),
    Column("status", String(10), nullable=False),       # pending|effective|refused
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_as", String(10)),                   # person|clerk
    Column("decided_at", DateTime(timezone=True)),
    Column("note", String(200)),
    Column("employment_id", BigInteger, ForeignKey("employment.id")),
)
Index("ix_employment_request_person", employment_request.c.person_id,
      employment_request.c.status)
Index("ix_employment_request_employer", employment_request.c.employer_id,
      employment_request.c.status)
