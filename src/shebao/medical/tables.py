"""Medical insurance tables (SQLAlchemy Core on the shared metadata). Schema: migration 0016.

``medical_provider``        designated hospitals and pharmacies: code, region, kind, level,
                            networked (off-site direct settlement), status.
``medical_contract``        a provider's service agreement (协议) with its dates.
``medical_catalogue_item``  the drug / treatment catalogue of a region: item code → class
                            A (甲) / B (乙) / C (丙), with dates. Data, loaded from CSV.
``medical_claim``           an itemised bill: provider, person, insured and treatment regions,
                            person type, scheme, kind, admission date, bill number, off-site
                            category, status submitted | settled | rejected; fingerprint for
                            the duplicate check; case_id for manual claims.
``medical_claim_line``      its lines: item code and amount in fen.
``medical_settlement``      one row per settled claim: every share in fen.
``medical_settlement_run``  a settlement run: counts, totals and the parameters used.
``medical_offsite_registration``  异地就医备案: category, dates, status, case.
``medical_clearing``        monthly inter-region clearing of off-site settlements.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String,
                        Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

medical_provider = Table(
    "medical_provider", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("region", String(6), nullable=False),
    Column("kind", String(10), nullable=False),          # hospital | pharmacy
    Column("level", String(10), nullable=False),         # tertiary | secondary | primary
    Column("networked", Boolean, nullable=False),        # in the off-site settlement network
    Column("status", String(10), nullable=False),        # active | suspended | closed
    Column("account", String(64)),                       # the provider's login (role provider)
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", name="uq_medical_provider_code"),
)

medical_contract = Table(
    "medical_contract", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("provider_id", BigInteger, nullable=False),
    Column("number", String(40), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("status", String(10), nullable=False),        # active | ended | suspended
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("number", name="uq_medical_contract_number"),
)
Index("ix_medical_contract_provider", medical_contract.c.provider_id, medical_contract.c.valid_from)

medical_catalogue_item = Table(
    "medical_catalogue_item", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),          # drug | treatment | material
    Column("class", String(1), nullable=False),          # A | B | C
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    UniqueConstraint("region", "code", "valid_from", name="uq_medical_catalogue_item"),
)

medical_claim = Table(
    "medical_claim", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("provider_id", BigInteger, nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("bill_no", String(40), nullable=False),
    Column("insured_region", String(6), nullable=False),
    Column("treatment_region", String(6), nullable=False),
    Column("catalogue_region", String(6), nullable=False),
    Column("scheme", String(20), nullable=False),         # medical | resident_medical
    Column("person_type", Integer, nullable=False),       # index in formulas.medical.PERSON_TYPES
    Column("level", Integer, nullable=False),             # index in LEVELS
    Column("inpatient", Boolean, nullable=False),
    Column("offsite", Integer, nullable=False),           # index in OFFSITE (0 = home)
    Column("use_account", Boolean, nullable=False),
    Column("admitted_on", Date, nullable=False),
    Column("discharged_on", Date),
    Column("total_fen", BigInteger, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("channel", String(10), nullable=False),        # api | file | manual
    Column("status", String(10), nullable=False),         # submitted | settled | rejected
    Column("run_id", BigInteger),
    Column("case_id", BigInteger),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("provider_id", "bill_no", name="uq_medical_claim_bill"),
)
Index("ix_medical_claim_person", medical_claim.c.person_id, medical_claim.c.admitted_on)
Index("ix_medical_claim_status", medical_claim.c.status, medical_claim.c.insured_region)
Index("ix_medical_claim_fingerprint", medical_claim.c.fingerprint)
Index("ix_medical_claim_run", medical_claim.c.run_id)

medical_claim_line = Table(
    "medical_claim_line", metadata,
    Column("claim_id", BigInteger, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("item_code", String(40), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
)
Index("ix_medical_claim_line_claim", medical_claim_line.c.claim_id)

SETTLED_AMOUNTS = ("total_fen", "self_paid_fen", "scope_fen", "deductible_fen", "basic_fen",
                   "serious_fen", "account_fen", "cash_fen")

medical_settlement = Table(
    "medical_settlement", metadata,
    Column("claim_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("year", Integer, nullable=False),
    Column("inpatient", Integer, nullable=False),          # 1 / 0 (summed: stays of the year)
    Column("offsite", Integer, nullable=False),
    *[Column(c, BigInteger, nullable=False) for c in SETTLED_AMOUNTS],
)
Index("ix_medical_settlement_person", medical_settlement.c.person_id, medical_settlement.c.year)
Index("ix_medical_settlement_run", medical_settlement.c.run_id)

medical_settlement_run = Table(
    "medical_settlement_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("claims", Integer, nullable=False),
    Column("lines", BigInteger, nullable=False),
    Column("totals", Text, nullable=False),                # JSON: sums per share
    Column("sources", Text, nullable=False),               # JSON: parameters used
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

medical_offsite_registration = Table(
    "medical_offsite_registration", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("insured_region", String(6), nullable=False),
    Column("treatment_region", String(6), nullable=False),
    Column("category", String(20), nullable=False),       # long_term | referral | emergency | temporary_other
    Column("subtype", String(30), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("status", String(10), nullable=False),         # active | revoked
    Column("case_id", BigInteger),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_medical_offsite_person", medical_offsite_registration.c.person_id,
      medical_offsite_registration.c.valid_from)

medical_clearing = Table(
    "medical_clearing", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("month", Date, nullable=False),
    Column("insured_region", String(6), nullable=False),
    Column("treatment_region", String(6), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("claims", Integer, nullable=False),
    Column("ledger_key", String(200), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("month", "insured_region", "treatment_region", "scheme",
                     name="uq_medical_clearing"),
)
