"""Mobility tables (SQLAlchemy Core on the shared metadata). Schema: migration 0015_mobility.

``mobility_transfer``           one relation transfer of a person between two places: kind pension |
                         medical | bridge; from/to region (for a bridge: the claim place in
                         both, the schemes differ); status applied → letter_sent →
                         funds_sent → recorded (or refused | withdrawn); the amounts that moved
                         and the information sheet (信息表: periods, months, bases) as JSON; the
                         ledger entries on each side; the case ids (``shebao.cases``) at each end;
                         for a transfer with another installation, its partner code (``peer``)
                         and the reference both sides share (``peer_ref``; migration 0022).
``mobility_transfer_step``      the steps of a transfer with their statutory working-day limit: who
                         acts (region), when the clock started, the due date, when done, by whom.
``certification_state``  one row per pensioner: certified | suspended | deceased, the date and
                         method of the last certification, the month suspended from, the month
                         resumed from with the back-pay months; kept by the monthly run.
``certification_signal`` data that certify a pensioner as living (hospital, settlement, travel,
                         bank, exit/entry, e-card): person, kind, date seen, source.
``certification_event``  the history of each pensioner's cycle (data, self, suspend, resume,
                         death) — written in bulk by the run, one row by a self certification.
``certification_run``    one monthly run per region × month: counts and timing.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer,
                        SmallInteger, String, Table, Text, UniqueConstraint, text)

from shebao.db.engine import BigId, metadata

mobility_transfer = Table(
    "mobility_transfer", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),             # pension | medical | bridge
    Column("person_id", BigInteger, ForeignKey("person.id"), nullable=False),
    Column("from_region", String(6), nullable=False),
    Column("to_region", String(6), nullable=False),
    Column("status", String(12), nullable=False),
    Column("channel", String(8), nullable=False),           # online | counter | api | system
    Column("temporary", SmallInteger, nullable=False, server_default="0"),
    Column("applied_on", Date, nullable=False),
    Column("account_fen", BigInteger),
    Column("pooled_fen", BigInteger),
    Column("base_total_fen", BigInteger),
    Column("months", Integer),
    Column("sheet", Text),                                  # JSON 信息表
    Column("out_entry_id", BigInteger),
    Column("in_entry_id", BigInteger),
    Column("approval_id", BigInteger),
    Column("case_in_id", BigInteger),
    Column("case_out_id", BigInteger),
    Column("reason", String(200)),
    Column("peer", String(40)),                             # the other installation, if remote
    Column("peer_ref", String(40)),                         # the reference both sides share
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_mobility_transfer_person", mobility_transfer.c.person_id, mobility_transfer.c.kind)
Index("ix_mobility_transfer_from", mobility_transfer.c.from_region, mobility_transfer.c.status)
Index("ix_mobility_transfer_to", mobility_transfer.c.to_region, mobility_transfer.c.status)
Index("uq_mobility_transfer_peer", mobility_transfer.c.peer, mobility_transfer.c.peer_ref,
      unique=True)
LIVE = ("applied", "letter_sent", "funds_sent")
Index("uq_mobility_transfer_live", mobility_transfer.c.person_id, mobility_transfer.c.kind,
      unique=True, sqlite_where=text("status IN ('applied', 'letter_sent', 'funds_sent')"),
      postgresql_where=text("status IN ('applied', 'letter_sent', 'funds_sent')"))

mobility_transfer_step = Table(
    "mobility_transfer_step", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transfer_id", BigInteger, ForeignKey("mobility_transfer.id"), nullable=False),
    Column("step", String(16), nullable=False),             # contact_letter | transfer_out | record_in
    Column("region", String(6), nullable=False),            # who must act
    Column("started_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("limit_days", Integer, nullable=False),
    Column("done_on", Date),
    Column("done_by", String(64)),
    Column("outcome", String(12)),                          # done | refused
    Column("note", String(200)),
    UniqueConstraint("transfer_id", "step", name="uq_mobility_transfer_step"),
)
Index("ix_mobility_step_open", mobility_transfer_step.c.region, mobility_transfer_step.c.done_on)

certification_state = Table(
    "certification_state", metadata,
    Column("person_id", BigInteger, ForeignKey("person.id"), primary_key=True,
           autoincrement=False),
    Column("region", String(6), nullable=False),
    Column("state", String(10), nullable=False),            # certified | suspended | deceased
    Column("last_certified_on", Date),
    Column("last_method", String(20)),
    Column("suspended_from", Date),
    Column("resumed_from", Date),
    Column("back_pay_months", Integer, nullable=False, server_default="0"),
    Column("death_date", Date),
    Column("updated_month", Date, nullable=False),
)
Index("ix_certification_state_region", certification_state.c.region, certification_state.c.state)

certification_signal = Table(
    "certification_signal", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("seen_on", Date, nullable=False),
    Column("source", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_certification_signal_person", certification_signal.c.person_id,
      certification_signal.c.seen_on)

certification_event = Table(
    "certification_event", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("event", String(10), nullable=False),            # data | self | suspend | resume | death
    Column("on_date", Date, nullable=False),
    Column("method", String(20)),
    Column("months", Integer),                              # back-pay / overpaid months
    Column("run_id", BigInteger),
    Column("recorded_by", String(64), nullable=False),
)
Index("ix_certification_event_person", certification_event.c.person_id)

certification_run = Table(
    "certification_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("month", Date, nullable=False),
    Column("n_pensioners", Integer, nullable=False),
    Column("n_data", Integer, nullable=False),
    Column("n_suspended", Integer, nullable=False),
    Column("n_resumed", Integer, nullable=False),
    Column("n_deceased", Integer, nullable=False),
    Column("n_due", Integer, nullable=False),
    Column("run_by", String(64), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "month", name="uq_certification_run"),
)
