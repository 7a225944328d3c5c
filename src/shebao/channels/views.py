"""Individual-account statements for a person, scope-checked by the registry's access door.

The registry's read services moved to ``shebao.registry.queries`` / ``shebao.registry.access``;
the statements themselves are ``shebao.ledger.queries.statements``; this joins the two.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.ledger import queries as ledger_queries
from shebao.registry import access


def statements(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """Individual-account statements (pension, medical)."""
    with engine.connect() as conn:
        access.check_person(conn, actor, person_id)
    return ledger_queries.statements(engine, actor, person_id,
                                     purpose=purpose or "individual account statement")


__all__ = ["statements"]
