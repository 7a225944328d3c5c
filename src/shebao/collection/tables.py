"""Collection tables (SQLAlchemy Core on the shared metadata). DDL: migration 0004_collection
(and 0008_collection_indexes), written by hand; they mirror these tables.

``base_declaration``  a declared base: an employee's previous-year average monthly wage (by the
                      employer), a flexible worker's chosen base or a resident's tier; the clamped
                      base with the floor/ceiling used and the reason, effective from the region's
                      adjustment date. A re-declaration supersedes (never overwrites) the old row.
``contribution``      the assessment, one *wide* row per run × person × payer: base, clamp, the
                      injury rate and one amount column per (scheme, side, account) — see
                      ``model.AMOUNT_COLUMNS``. A correction run writes only differences, so the
                      truth for a region × month is the SUM over its runs. Indexed by region ×
                      month × person, by person × month and by payer × month.
``assessment_run`` / ``assessment_chunk``  run header and per-chunk checkpoints (resume).
``bill`` / ``bill_line`` one bill per payer × region × month (end-to-end id for the bank), lines
                      per scheme with the employer/employee split and what has been paid.
``bank_export`` / ``bank_import`` / ``receipt`` / ``receipt_alloc``  bank files out and in; every
                      receipt once (unique bank reference), its allocation to bill lines.
``arrears_flag``      employers referred to the supervision bureau.
``late_fee_charge``   late fees charged to employers (cumulative per bill; see ``latefee``).
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, Index, Integer, SmallInteger, String,
                        Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

from .model import AMOUNT_COLUMNS

base_declaration = Table(
    "base_declaration", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("kind", String(10), nullable=False),            # employee | flexible | resident
    Column("person_id", BigInteger, nullable=False),
    Column("employer_id", BigInteger),
    Column("year", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("wage_fen", BigInteger),                        # employee: declared average wage
    Column("chosen_fen", BigInteger),                      # flexible base / resident tier (year)
    Column("base_fen", BigInteger, nullable=False),        # the base (or tier) in force
    Column("floor_fen", BigInteger),
    Column("ceiling_fen", BigInteger),
    Column("clamp", SmallInteger, nullable=False),         # -1 raised to floor, 0 kept, +1 cut
    Column("reason", String(300), nullable=False),
    Column("source", String(300), nullable=False),
    Column("upload_id", BigInteger),
    Column("declared_by", String(64), nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by", BigInteger),
)
Index("ix_base_declaration_person", base_declaration.c.person_id,
      base_declaration.c.effective_from)
Index("ix_base_declaration_region_year", base_declaration.c.region, base_declaration.c.year)

declaration_upload = Table(
    "declaration_upload", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("file_name", String(300), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("region", String(6), nullable=False),
    Column("year", Integer, nullable=False),
    Column("dry_run", SmallInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("error_file", String(300)),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

contribution = Table(
    "contribution", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("payer_type", String(1), nullable=False),       # E employer | F flexible | R resident
    Column("payer_id", BigInteger, nullable=False),        # employer id, or the person's id
    Column("wage_fen", BigInteger, nullable=False),
    Column("base_fen", BigInteger, nullable=False),
    Column("clamp", SmallInteger, nullable=False),
    Column("basis", SmallInteger, nullable=False),         # model.BASIS
    Column("injury_num", BigInteger, nullable=False),      # injury rate × 10^8 (0: none)
    *[Column(c, BigInteger, nullable=False) for c in AMOUNT_COLUMNS],
    Column("total_fen", BigInteger, nullable=False),
)
# the assessment's person range in a region × month; month-wide sums (bills, reconciliation)
Index("ix_contribution_region_month_person", contribution.c.region, contribution.c.month,
      contribution.c.person_id)
# a person's record across months (statements, portal, pension history) (0008)
Index("ix_contribution_person", contribution.c.person_id, contribution.c.month)
# a bill's persons; a narrow integer key: cheaper random-order inserts (0008)
Index("ix_contribution_payer_month", contribution.c.payer_id, contribution.c.month)

assessment_run = Table(
    "assessment_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("kind", String(12), nullable=False),            # initial | correction
    Column("status", String(10), nullable=False),          # running | done | failed
    Column("chunk_size", Integer, nullable=False),
    Column("lo", BigInteger, nullable=False),               # person id range [lo, hi]
    Column("hi", BigInteger, nullable=False),
    Column("next_lo", BigInteger, nullable=False),          # checkpoint: everything below is done
    Column("chunks_done", Integer, nullable=False),
    Column("persons", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("sources", Text, nullable=False),               # JSON: parameters used, with references
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("error", Text),
)
Index("ix_assessment_run_region_month", assessment_run.c.region, assessment_run.c.month)

assessment_chunk = Table(
    "assessment_chunk", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    Column("chunk_no", Integer, nullable=False),
    Column("lo", BigInteger, nullable=False),
    Column("hi", BigInteger, nullable=False),
    Column("persons", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("ledger_key", String(200)),
    Column("done_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("run_id", "chunk_no", name="uq_assessment_chunk_run_id"),
)

bill = Table(
    "bill", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("payer_type", String(1), nullable=False),
    Column("payer_id", BigInteger, nullable=False),
    Column("e2e_id", String(35), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),          # open | partial | paid | overpaid
    Column("due_date", Date, nullable=False),
    Column("last_paid_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("e2e_id", name="uq_bill_e2e_id"),
    UniqueConstraint("region", "month", "payer_type", "payer_id", name="uq_bill_region"),
)
# No index holds a column that paying changes (paid_fen, status, last_paid_on, updated_at), and
# on PostgreSQL bill and bill_line have fillfactor 50 (0008): the bank import's updates stay
# on the page (HOT) and touch no index.

bill_line = Table(
    "bill_line", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("bill_id", BigInteger, nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("employer_fen", BigInteger, nullable=False),
    Column("employee_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    UniqueConstraint("bill_id", "scheme", name="uq_bill_line_bill_id"),
)

bank_export = Table(
    "bank_export", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("format", String(10), nullable=False),          # pain008 | csv
    Column("file_name", String(300), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("msg_id", String(35), nullable=False),
    Column("n_tx", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("skipped", Integer, nullable=False),            # bills without a bank account
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

bank_import = Table(
    "bank_import", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("file_name", String(300), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(10), nullable=False),          # camt053 | csv
    Column("region", String(6), nullable=False),
    Column("status", String(10), nullable=False),          # posted | rejected
    Column("rows", Integer, nullable=False),
    Column("new_receipts", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("applied_fen", BigInteger, nullable=False),
    Column("suspense_fen", BigInteger, nullable=False),
    Column("error", Text),
    Column("kept_path", String(400)),
    Column("ledger_key", String(200)),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

receipt = Table(
    "receipt", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("bank_ref", String(35), nullable=False),
    Column("e2e_id", String(35), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("bill_id", BigInteger),
    Column("applied_fen", BigInteger, nullable=False),
    Column("excess_fen", BigInteger, nullable=False),      # overpaid or unmatched → suspense
    Column("status", String(10), nullable=False),          # paid | partial | overpaid | unmatched
    UniqueConstraint("bank_ref", name="uq_receipt_bank_ref"),
)
Index("ix_receipt_bill", receipt.c.bill_id)

receipt_alloc = Table(
    "receipt_alloc", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("receipt_id", BigInteger, nullable=False),
    Column("bill_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("payer_type", String(1), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
)
Index("ix_receipt_alloc_region_month", receipt_alloc.c.region, receipt_alloc.c.month)

arrears_flag = Table(
    "arrears_flag", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("employer_id", BigInteger, nullable=False),
    Column("bills", Integer, nullable=False),
    Column("outstanding_fen", BigInteger, nullable=False),
    Column("late_fee_fen", BigInteger, nullable=False),
    Column("max_days", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "as_of", "employer_id", name="uq_arrears_flag_region"),
)

late_fee_charge = Table(
    "late_fee_charge", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("bill_id", BigInteger, nullable=False),
    Column("month", Date, nullable=False),                 # the bill's month
    Column("payer_type", String(1), nullable=False),       # E (only employers are charged)
    Column("payer_id", BigInteger, nullable=False),
    Column("from_day", Date, nullable=False),              # due date, or the previous charge's
    Column("to_day", Date, nullable=False),                # accrued up to this day
    Column("days", Integer, nullable=False),
    Column("base_fen", BigInteger, nullable=False),        # owed on to_day + paid late by then
    Column("fen_days", BigInteger, nullable=False),        # cumulative fen × days to to_day
    Column("rate", String(20), nullable=False),            # collection.late_fee_rate per day
    Column("fen", BigInteger, nullable=False),             # this charge: fee(to_day) − charged
    Column("source", String(40), nullable=False),          # run:<as-of> | bank:<import id>
    Column("idempotency_key", String(80), nullable=False),
    Column("ledger_key", String(200), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("idempotency_key", name="uq_late_fee_charge_key"),
)
Index("ix_late_fee_charge_bill", late_fee_charge.c.bill_id)
Index("ix_late_fee_charge_region_month", late_fee_charge.c.region, late_fee_charge.c.month)
