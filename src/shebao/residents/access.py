"""The channels' door to one person's resident scheme record: scope check, then the audited
read (sign-ups campaign by campaign, awards, the resident pension individual account)."""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.db.uow import transaction
from shebao.ledger import queries as ledger_queries
from shebao.registry import access as registry_access
from shebao.security import audit, policy

from . import queries


def person_resident(bind, actor: Actor, person_id: int, purpose: str) -> dict | None:
    """The person's resident enrolments and resident pension account (credits and debits with
    the running balance); ``None`` when the person never signed up for a resident scheme."""
    policy.require(actor, "residents.read" if actor.role != "citizen" else "residents.enrol")
    with transaction(bind) as conn:
        registry_access.check_person(conn, actor, person_id)      # scope: self or staff
    with transaction(bind) as conn:
        out = queries.person_status(conn, person_id)
        if not out["signups"] and not out["awards"]:
            return None
        st = ledger_queries.statement(conn, actor, person_id, "resident_pension",
                                      purpose=purpose)
        out["pension_balance_fen"] = st.closing_balance
        out["pension_lines"] = [ln.as_json() for ln in st.lines]
        audit.record(conn, actor, "residents.record.read", "person", person_id,
                     purpose=purpose, detail={"signups": len(out["signups"])})
    return out


__all__ = ["person_resident"]
