"""REST API under /api/v1: one router per package, listed here."""
from __future__ import annotations

from . import (
    admin,  # administration (#18): catalogue, staffing, outsourcing
    admin_reports,  # administration (#18): training, fund reports and decisions
    benefit_cases,
    benefits,
    cards,
    collection,
    core,
    ledger,
    medical,  # medical insurance (#16)
    mobility,  # mobility (#15)
    registry,
    sharing,
    supervision,  # supervision and monitoring (#14)
)


def routers():
    return [core.router, registry.router, ledger.router, collection.router, benefits.router,
            sharing.router, cards.router, supervision.router, mobility.router,
            benefit_cases.router, medical.router, admin.router, admin_reports.router]
