"""Organisation tables (SQLAlchemy Core on the shared metadata); the DDL is migration 0019.

``org_unit`` extends the GB/T 2260 tree (national → province → city → county, known from
``core.regions``) downwards with towns, villages and grid cells; ``service_outlet`` is a place
where cases are taken in; ``staff_assignment`` puts a security account at an outlet with its
class; ``admin_budget`` is a region's administration budget per year; ``provider`` and
``outsourcing_contract`` are the outsourcing of catalogue items.
"""
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer, String,
                        Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

org_unit = Table(
    "org_unit", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(20), nullable=False),
    Column("level", String(10), nullable=False),          # town | village | grid
    Column("name", String(100), nullable=False),
    Column("parent_code", String(20), nullable=False),    # a region code or an org_unit code
    Column("region", String(6), nullable=False),          # the county (GB/T 2260) it lies in
    Column("households", Integer),
    Column("grid_worker", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", name="uq_org_unit_code"),
)

service_outlet = Table(
    "service_outlet", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),           # counter | kiosk | bank_agent | village_agent
    Column("region", String(6), nullable=False),
    Column("unit_code", String(20)),                      # town / village it serves, if any
    Column("provider_id", BigInteger, ForeignKey("provider.id")),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", name="uq_service_outlet_code"),
)

staff_assignment = Table(
    "staff_assignment", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("outlet_id", BigInteger, ForeignKey("service_outlet.id"), nullable=False),
    Column("staff_class", String(16), nullable=False),    # administrative | professional | operational
    Column("is_head", Boolean, nullable=False),
    Column("fte_pct", Integer, nullable=False),           # 100 = one full-time post
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("created_by", String(64), nullable=False),
)

admin_budget = Table(
    "admin_budget", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(6), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("note", String(200)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("region", "year", name="uq_admin_budget_region"),
)

provider = Table(
    "provider", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False),           # USCC of the provider
    Column("name", String(100), nullable=False),
    Column("region", String(6), nullable=False),
    Column("status", String(10), nullable=False),         # active | exited
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("exited_on", Date),
    Column("exit_reason", String(200)),
    UniqueConstraint("code", name="uq_provider_code"),
)

outsourcing_contract = Table(
    "outsourcing_contract", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("provider_id", BigInteger, ForeignKey("provider.id"), nullable=False),
    Column("item", String(64), nullable=False),           # service catalogue code
    Column("region", String(6), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("price_fen", BigInteger, nullable=False),      # per decided case
    Column("access_criteria", Text, nullable=False),      # JSON list of criteria
    Column("target_on_time_pct", Integer, nullable=False),
    Column("target_rating_x100", Integer, nullable=False),  # mean rating × 100, e.g. 450
    Column("status", String(10), nullable=False),         # active | ended
    Column("ended_on", Date),
    Column("end_reason", String(200)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
