"""Supervision tables (SQLAlchemy Core on the shared metadata). Schema: migration 0014.

``monitor_run``      one run of the monitoring rules (``shebao monitor run``): scope, date, rules
                     with the parameter dates in force, counts of new and repeated alerts.
``monitor_alert``    one alert per rule × subject (``fingerprint`` unique): found again by a
                     later run it is updated (score, evidence, last run, times seen), never
                     duplicated. status: open | dismissed | case (an inspection was opened) |
                     closed.
``inspection_case``  the supervision detail of an inspection case (``service_case`` of
                     ``shebao.cases``, item ``supervision.inspection``): the alert or complaint
                     it came from, plan, findings, the decision's amounts and ledger entry.
``blacklist_entry``  a proposal to list a party as seriously untrustworthy (严重失信) and its due
                     process: proposed → notified → (objection) → listed | rejected → removed.
``arrears_case``     the enforcement detail of an arrears case (item
                     ``supervision.arrears_enforcement``): the flagged debt, notice, deadline,
                     instalments, enforcement list.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, Index, Integer, String, Table, Text,
                        UniqueConstraint)

from shebao.db.engine import BigId, metadata

monitor_run = Table(
    "monitor_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(12), nullable=False),       # scope root of the run
    Column("as_of", Date, nullable=False),
    Column("rules", Text, nullable=False),              # JSON: code → parameter date, reference
    Column("found", Integer, nullable=False, server_default="0"),
    Column("new", Integer, nullable=False, server_default="0"),
    Column("repeated", Integer, nullable=False, server_default="0"),
    Column("seconds", String(16)),
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

monitor_alert = Table(
    "monitor_alert", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("rule", String(48), nullable=False),
    Column("fingerprint", String(120), nullable=False),
    Column("subject_type", String(16), nullable=False),  # person | employer | account
    Column("subject_id", BigInteger),
    Column("subject_key", String(64), nullable=False),
    Column("region", String(6), nullable=False),
    Column("score", Integer, nullable=False),
    Column("evidence", Text, nullable=False),           # JSON
    Column("basis", Text, nullable=False),              # legal basis of the rule
    Column("status", String(10), nullable=False),
    Column("first_run_id", BigInteger, nullable=False),
    Column("last_run_id", BigInteger, nullable=False),
    Column("times_seen", Integer, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("case_id", BigInteger),
    Column("closed_by", String(64)),
    Column("close_reason", String(200)),
    UniqueConstraint("fingerprint", name="uq_monitor_alert_fingerprint"),
)
Index("ix_monitor_alert_region_status", monitor_alert.c.region, monitor_alert.c.status,
      monitor_alert.c.score)

inspection = Table(
    "inspection_case", metadata,
    Column("case_id", BigInteger, primary_key=True, autoincrement=False),
    Column("alert_id", BigInteger),
    Column("source", String(10), nullable=False),       # alert | complaint
    Column("complaint", Text),
    Column("plan", Text),
    Column("findings", Text),
    Column("decision", String(16)),                     # recover | back_assess | fine | refer | none
    Column("recover_fen", BigInteger, nullable=False, server_default="0"),
    Column("back_assess_fen", BigInteger, nullable=False, server_default="0"),
    Column("fine_base_fen", BigInteger, nullable=False, server_default="0"),
    Column("fine_multiple", String(8)),
    Column("fine_fen", BigInteger, nullable=False, server_default="0"),
    Column("refer_to", String(120)),
    Column("ledger_entry_id", BigInteger),
    Column("recovery_id", BigInteger),                   # benefits.recovery (recover decisions)
    Column("region", String(6), nullable=False),
)

blacklist_entry = Table(
    "blacklist_entry", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_type", String(10), nullable=False),  # person | employer
    Column("subject_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("ground", String(32), nullable=False),
    Column("grounds", Text, nullable=False),             # JSON: facts, amounts, case ids
    Column("status", String(10), nullable=False),
    Column("case_id", BigInteger),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("notified_on", Date),
    Column("objection_until", Date),
    Column("objection", Text),
    Column("decided_by", String(64)),
    Column("decided_on", Date),
    Column("listed_from", Date),
    Column("listed_until", Date),
    Column("published_on", Date),
    Column("removed_on", Date),
    Column("removal_reason", String(200)),
    Column("approval_id", BigInteger),
)
Index("ix_blacklist_subject", blacklist_entry.c.subject_type, blacklist_entry.c.subject_id,
      blacklist_entry.c.status)

arrears_case = Table(
    "arrears_case", metadata,
    Column("case_id", BigInteger, primary_key=True, autoincrement=False),
    Column("employer_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("as_of", Date, nullable=False),               # the arrears list it came from
    Column("outstanding_fen", BigInteger, nullable=False),
    Column("late_fee_fen", BigInteger, nullable=False),
    Column("stage", String(12), nullable=False),  # notice | escalated | instalments | enforcement | paid
    Column("notice_on", Date),
    Column("pay_by", Date),
    Column("instalments", Text),                         # JSON [{due, amount_fen}]
    Column("enforcement_on", Date),
    UniqueConstraint("employer_id", "as_of", name="uq_arrears_case_employer_as_of"),
)
