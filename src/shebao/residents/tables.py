"""Resident scheme tables (SQLAlchemy Core on the shared metadata). Schema: migration 0016.

``resident_campaign``  the yearly enrolment campaign of a region: insurance year, window, the
                       subsidy per person (parameters resolved when opened), status.
``resident_signup``    a person's enrolment in a campaign: schemes, pension tier, subsidies.
``resident_award``     a resident pension award: account balance, basic, account pension,
                       monthly total and the parameters used.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, Index, Integer, String, Table,
                        Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

resident_campaign = Table(
    "resident_campaign", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("year", Integer, nullable=False),               # the insurance year paid for
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("medical_individual_fen", BigInteger, nullable=False),
    Column("medical_subsidy_fen", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),          # open | closed
    Column("sources", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "year", name="uq_resident_campaign"),
)

resident_signup = Table(
    "resident_signup", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("campaign_id", BigInteger, nullable=False),
    Column("person_id", BigInteger, nullable=False),
    Column("kind", String(10), nullable=False),            # resident | student
    Column("medical", Integer, nullable=False),            # 1: resident medical
    Column("pension_tier_fen", BigInteger, nullable=False),  # 0: no resident pension
    Column("pension_subsidy_fen", BigInteger, nullable=False),
    Column("medical_subsidy_fen", BigInteger, nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("created_by", String(64), nullable=False),
    UniqueConstraint("campaign_id", "person_id", name="uq_resident_signup"),
)
Index("ix_resident_signup_person", resident_signup.c.person_id)

resident_award = Table(
    "resident_award", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigInteger, nullable=False),
    Column("region", String(6), nullable=False),
    Column("start_month", Date, nullable=False),
    Column("account_fen", BigInteger, nullable=False),
    Column("basic_fen", BigInteger, nullable=False),
    Column("account_pension_fen", BigInteger, nullable=False),
    Column("monthly_fen", BigInteger, nullable=False),
    Column("divisor", Integer, nullable=False),
    Column("sources", Text, nullable=False),
    Column("status", String(10), nullable=False),          # awarded | stopped
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("person_id", "start_month", name="uq_resident_award"),
)
