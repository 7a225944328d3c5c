"""Individual-account statements for a person, scope-checked by the registry's access door.

The registry's read services moved to ``shebao.registry.queries`` / ``shebao.registry.access``;
``statements`` moves to ``shebao.ledger.queries`` with the ledger's restructuring.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.ledger import service as ledger
from shebao.ledger.model import INDIVIDUAL_SCHEMES
from shebao.registry import access


def statements(engine, actor: Actor, person_id: int, *, purpose: str | None = None) -> dict:
    """Individual-account statements (pension, medical)."""
    with engine.connect() as conn:
        access.check_person(conn, actor, person_id)
    return {s: ledger.statement(engine, actor, person_id, s,
                                purpose=purpose or "individual account statement")
            for s in INDIVIDUAL_SCHEMES}


__all__ = ["statements"]
