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

# what the decisions of cases computed together share, once (parameters, period wages); a
# compact decision (``"v": 2``) names its basis — see ``decision_record``
pension_decision_basis = Table(
    "pension_decision_basis", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("digest", name="uq_pension_decision_basis_digest"),
)

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
    # 0013: a run pays pensions first (by person id), then the lines of benefit awards
    # (phase ``awards``, by payee person id from ``award_cursor``)
    Column("phase", String(8), nullable=False, server_default="pension"),
    Column("award_cursor", BigInteger, nullable=False, server_default="0"),
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
    # 0013: what the payment pays — a pension (scheme pension, line 0) or a line of a benefit
    # award (its scheme and line id); the payee (person: ``person_id`` with the registry's
    # bank account; employer: ``payee_id`` with the employer's; fund: a transfer, no bank)
    Column("scheme", String(16), nullable=False, server_default="pension"),
    Column("line_id", BigInteger, nullable=False, server_default="0"),
    Column("payee_type", String(8), nullable=False, server_default="person"),
    Column("payee_id", BigInteger),
    UniqueConstraint("end_to_end_id", name="uq_payment_end_to_end_id"),
)
LIVE_PAYMENT_SQL = "status IN ('computed','sent','paid')"
Index("uq_payment_live", payment.c.person_id, payment.c.month, payment.c.scheme,
      payment.c.line_id, unique=True,
      sqlite_where=text(LIVE_PAYMENT_SQL), postgresql_where=text(LIVE_PAYMENT_SQL))
# 0021: award-line payments only (line_id 0 is every pension payment: a million entries of
# one key that no query looks up); a query by line says ``line_id <> 0`` to use it
Index("ix_payment_line", payment.c.line_id, payment.c.status,
      sqlite_where=text("line_id <> 0"), postgresql_where=text("line_id <> 0"))
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


# ----------------------------------------------------------------------- casework (0013)
# ``benefit_claim``   the benefits bureau's detail of a case (``cases.service_case``) of one
#                     benefit kind: the facts, the computation (lines, arithmetic, parameters),
#                     the award created when the decision was approved.
# ``benefit_award``   a decided benefit in payment: one per granted claim; status active |
#                     stopped (``stopped_from``: first month not paid).
# ``benefit_award_line`` what the award pays: monthly (start..end, exclusive) or once, amount,
#                     scheme, payee, legal basis; a change (appeal, stop) ends a line and
#                     opens another, nothing is overwritten.
# ``benefit_suspension`` months an award is not paid (from..to, exclusive; open = until
#                     resumed), with the reason and whether resuming paid them back.
# ``benefit_event``   life events reported on an award (stop events, refused work, ...).
# ``benefit_recovery`` an amount paid that was not due (after death, a changed decision):
#                     recovered by instalments or set off against later payments.
benefit_claim = Table(
    "benefit_claim", metadata,
    Column("case_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(24), nullable=False),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("facts", Text, nullable=False),
    Column("computation", Text),
    Column("computed_by", String(64)),
    Column("computed_at", DateTime(timezone=True)),
    Column("award_id", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_benefit_claim_person", benefit_claim.c.person_id, benefit_claim.c.kind)

benefit_award = Table(
    "benefit_award", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False),
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("region", String(6), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("status", String(10), nullable=False),        # active | stopped
    Column("stopped_from", Date),
    Column("stop_reason", String(64)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_benefit_award_person", benefit_award.c.person_id, benefit_award.c.status)
Index("ix_benefit_award_case", benefit_award.c.case_id)

benefit_award_line = Table(
    "benefit_award_line", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("award_id", BigInteger, ForeignKey("benefit_award.id"), nullable=False),
    Column("person_id", BigInteger, nullable=False),      # the award's person
    Column("region", String(6), nullable=False),
    Column("scheme", String(16), nullable=False),
    Column("kind", String(8), nullable=False),            # monthly | once
    Column("code", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("start_month", Date, nullable=False),
    Column("end_month", Date),                            # exclusive; NULL = open
    Column("payee_type", String(8), nullable=False),      # person | employer | fund
    Column("payee_id", BigInteger, nullable=False),       # person / employer id; 0 for a fund
    Column("fund_account", String(12), nullable=False),   # pooled_fund | individual
    Column("basis", String(200), nullable=False),
    Column("status", String(10), nullable=False),         # active | ended
    Column("source", String(40), nullable=False),         # decision | back_pay | review:<case>
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_benefit_line_payroll", benefit_award_line.c.region, benefit_award_line.c.status,
      benefit_award_line.c.person_id)
Index("ix_benefit_line_award", benefit_award_line.c.award_id)

benefit_suspension = Table(
    "benefit_suspension", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("award_id", BigInteger, ForeignKey("benefit_award.id")),      # a benefit award, or
    Column("pension_award_id", BigInteger, ForeignKey("pension_award.id")),   # a pension
    Column("person_id", BigInteger, nullable=False),
    Column("from_month", Date, nullable=False),
    Column("to_month", Date),                             # exclusive; NULL = still suspended
    Column("reason", String(200), nullable=False),
    Column("back_pay", SmallInteger),                     # 1 paid back on resume, 0 not
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resumed_by", String(64)),
    Column("resumed_at", DateTime(timezone=True)),
)
Index("ix_benefit_suspension_award", benefit_suspension.c.award_id,
      benefit_suspension.c.from_month)
Index("ix_benefit_suspension_pension", benefit_suspension.c.pension_award_id,
      benefit_suspension.c.from_month)

benefit_event = Table(
    "benefit_event", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("award_id", BigInteger),
    Column("event", String(24), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("detail", Text),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_benefit_event_person", benefit_event.c.person_id, benefit_event.c.event)

benefit_recovery = Table(
    "benefit_recovery", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("award_id", BigInteger),
    Column("region", String(6), nullable=False),
    Column("scheme", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("recovered_fen", BigInteger, nullable=False, server_default="0"),
    Column("method", String(12), nullable=False),        # instalments | setoff
    Column("instalment_fen", BigInteger),
    Column("reason", String(200), nullable=False),
    Column("status", String(10), nullable=False),        # open | recovered
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_benefit_recovery_person", benefit_recovery.c.person_id, benefit_recovery.c.status)

# ``benefit_transfer`` what an award line pays to another scheme's fund (the medical premium
# the unemployment fund pays during the benefit): one row per line × month, no bank.
benefit_transfer = Table(
    "benefit_transfer", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("payroll_run.id"), nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("award_id", BigInteger, nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("scheme", String(16), nullable=False),
    Column("target_scheme", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("line_id", "month", name="uq_benefit_transfer_line_month"),
)
