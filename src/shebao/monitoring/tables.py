"""Monitoring tables (SQLAlchemy Core on the shared metadata). Schema: migration 0014.

``fund_warning``  one row per region × fund × date × indicator computed by
                  ``shebao monitor warnings``: the value, the band it falls in, the thresholds
                  used (parameters, with reference). A rerun of the same date replaces its rows.
"""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, String, Table, Text, UniqueConstraint

from shebao.db.engine import BigId, metadata

fund_warning = Table(
    "fund_warning", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("fund", String(20), nullable=False),          # a scheme (core.schemes)
    Column("as_of", Date, nullable=False),
    Column("indicator", String(32), nullable=False),
    Column("value", String(32)),                          # decimal text (None: not computable)
    Column("level", String(8), nullable=False),           # ok | watch | alert | n/a
    Column("thresholds", Text, nullable=False),           # JSON with reference
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "fund", "as_of", "indicator", name="uq_fund_warning"),
)
Index("ix_fund_warning_level", fund_warning.c.level, fund_warning.c.as_of)
