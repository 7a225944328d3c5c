"""Benefits tables (SQLAlchemy Core on the shared metadata). Schema: migration 0005_benefits.

``pension_history``  *legacy* contribution history (recorded before shebao collected the
                     person's contributions: imports from the old system, deemed service): one
                     row per person × region × period (a run of months under one set of
                     parameters): months, base_total_fen (Σ monthly bases of those months), kind
                     paid | deemed (视同缴费: deemed service before the individual-account
                     system; no base). The months shebao collects itself are never copied here:
                     determination reads them from the collection bureau's tables
                     (``history.history_rows``: legacy ∪ shebao's paid months, each month once).
``pension_case``     a retirement case: opened (clerk or batch), computed (the decision JSON
                     records inputs, parameters with references and arithmetic), submitted for
                     a check, approved / rejected; or incomplete (``missing`` says what) or
                     ineligible (``options`` gives the legal alternatives).
``pension_award``    a pension in payment: current monthly amount and its individual-account
                     part; status active | stopped; ``pension_award_amount`` keeps every amount
                     with its effective date (determination, each indexation).
``indexation_run``   one annual adjustment per region and effective date (audited).
``payroll_run``      one per region × month (unique): computing → computed → submitted →
                     approved → released; ``cursor_person_id`` makes it resumable.
``payment``          one row per person × month × attempt; at most one live (computed, sent,
                     paid) payment per person and month (unique partial index): nobody is paid
                     twice. Failed payments: returned → confirmed → re-issued as attempt + 1.
``bank_return``      each bank return file once (sha256 unique).
``living_certification`` annual proof of life; a failure stops payment from the next month.
``overpayment``      amounts paid for months after death, to recover (ledger entries named).
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer,
                        SmallInteger, String, Table, Text, UniqueConstraint, text)

from shebao.db.engine import BigId, metadata
PAYMENT_LIVE = ("computed", "sent", "paid")

pension_history = Table(
    "pension_history", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("months", SmallInteger, nullable=False),
    Column("base_total_fen", BigInteger),
    Column("kind", String(8), nullable=False),          # paid | deemed
    Column("source", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    UniqueConstraint("person_id", "region", "period_start", "kind",
                     name="uq_pension_history_period"),
)

pension_case = Table(
    "pension_case", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("category", String(16)),                     # male | female_cadre | female_worker
    Column("claim", String(10), nullable=False),        # statutory | early | deferred
    Column("requested_date", Date),
    Column("retirement_date", Date),
    Column("status", String(12), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("computed_at", DateTime(timezone=True)),
    Column("missing", Text),                            # JSON list of what is missing
    Column("options", Text),                            # JSON: legal options when ineligible
    Column("decision", Text),                           # JSON: inputs, parameters, arithmetic
    Column("basic_fen", BigInteger),
    Column("account_fen", BigInteger),
    Column("transitional_fen", BigInteger),
    Column("total_fen", BigInteger),
    Column("approval_id", BigInteger),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", String(200)),
)
Index("uq_pension_case_live", pension_case.c.person_id, unique=True,
      sqlite_where=text("status IN ('open','incomplete','ineligible','computed','submitted','approved')"),
      postgresql_where=text("status IN ('open','incomplete','ineligible','computed','submitted','approved')"))
Index("ix_pension_case_region_status", pension_case.c.region, pension_case.c.status)

pension_award = Table(
    "pension_award", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("case_id", BigInteger, ForeignKey("pension_case.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("start_month", Date, nullable=False),
    Column("monthly_fen", BigInteger, nullable=False),
    Column("account_part_fen", BigInteger, nullable=False),
    Column("amount_from", Date, nullable=False),
    Column("status", String(10), nullable=False),       # active | stopped
    Column("stop_month", Date),                         # first month not paid
    Column("stop_reason", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", name="uq_pension_award_case"),
)
Index("uq_pension_award_person", pension_award.c.person_id, unique=True)
Index("ix_pension_award_region", pension_award.c.region, pension_award.c.status,
      pension_award.c.person_id)

pension_award_amount = Table(
    "pension_award_amount", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("award_id", BigInteger, ForeignKey("pension_award.id"), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("monthly_fen", BigInteger, nullable=False),
    Column("account_part_fen", BigInteger, nullable=False),
    Column("source", String(64), nullable=False),       # determination | indexation:<run id>
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_pension_award_amount_award", pension_award_amount.c.award_id,
      pension_award_amount.c.effective_from)

indexation_run = Table(
    "indexation_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("rate", String(20), nullable=False),
    Column("reference", Text, nullable=False),
    Column("n_awards", Integer, nullable=False),
    Column("increase_fen", BigInteger, nullable=False),
    Column("run_by", String(64), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "effective_from", name="uq_indexation_run_region"),
)

payroll_run = Table(
    "payroll_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("status", String(12), nullable=False),
    Column("cursor_person_id", BigInteger, nullable=False, server_default="0"),
    Column("n_payments", Integer, nullable=False, server_default="0"),
    Column("total_fen", BigInteger, nullable=False, server_default="0"),
    Column("account_part_fen", BigInteger, nullable=False, server_default="0"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("computed_at", DateTime(timezone=True)),
    Column("approval_id", BigInteger),
    Column("released_by", String(64)),
    Column("released_at", DateTime(timezone=True)),
    Column("files", Text),                              # JSON: written files with sha256
    UniqueConstraint("region", "month", name="uq_payroll_run_region"),
)

payment = Table(
    "payment", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("payroll_run.id"), nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("award_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("attempt", SmallInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("account_part_fen", BigInteger, nullable=False),
    Column("bank_name", String(64)),
    Column("bank_account", String(40)),
    Column("end_to_end_id", String(35), nullable=False),
    Column("status", String(10), nullable=False),
    Column("status_at", DateTime(timezone=True)),
    Column("return_reason", String(200)),
    Column("replaces_id", BigInteger),
    UniqueConstraint("end_to_end_id", name="uq_payment_end_to_end_id"),
)
Index("uq_payment_live", payment.c.person_id, payment.c.month, unique=True,
      sqlite_where=text("status IN ('computed','sent','paid')"),
      postgresql_where=text("status IN ('computed','sent','paid')"))
Index("ix_payment_run", payment.c.run_id, payment.c.status)

bank_return = Table(
    "bank_return", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("file_name", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("n_paid", Integer, nullable=False),
    Column("n_failed", Integer, nullable=False),
    Column("n_unknown", Integer, nullable=False),
    Column("received_by", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("sha256", name="uq_bank_return_sha256"),
)

living_certification = Table(
    "living_certification", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("passed", SmallInteger, nullable=False),     # 1 passed, 0 failed
    Column("checked_on", Date, nullable=False),
    Column("method", String(32), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("person_id", "year", name="uq_living_certification_year"),
)

overpayment = Table(
    "overpayment", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("payment_id", BigInteger, ForeignKey("payment.id"), nullable=False),
    Column("month", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("status", String(10), nullable=False),       # open | recovered
    Column("recovered_fen", BigInteger, nullable=False, server_default="0"),
    Column("ledger_entry_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("payment_id", name="uq_overpayment_payment"),
)
