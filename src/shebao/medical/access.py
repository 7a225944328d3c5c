"""The channels' door to one person's medical records: scope check, then the audited read."""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.db.uow import transaction
from shebao.ledger import queries as ledger_queries
from shebao.registry import access as registry_access
from shebao.security import audit, policy

from . import queries


def person_medical(bind, actor: Actor, person_id: int, purpose: str) -> dict:
    """Claims, off-site registrations and the medical account balance of a person: the citizen
    themself, or staff with ``medical.claim.read`` who may see the person."""
    policy.require(actor, "medical.claim.read")
    if actor.role == "provider":
        raise PermissionDenied("a provider sees its own claims, not a person's record")
    with transaction(bind) as conn:
        registry_access.check_person(conn, actor, person_id)      # scope: self or staff
    with transaction(bind) as conn:
        out = {"claims": queries.person_claims(conn, person_id),
               "registrations": queries.registrations(conn, person_id)}
        st = ledger_queries.statement(conn, actor, person_id, "medical", purpose=purpose)
        out["account_balance_fen"] = st.closing_balance
        audit.record(conn, actor, "medical.record.read", "person", person_id, purpose=purpose,
                     detail={"claims": [c["id"] for c in out["claims"]]})
    return out


def provider_claim_list(bind, actor: Actor) -> list[dict]:
    """A provider's own submitted claims (its account is named on the provider)."""
    policy.require(actor, "medical.claim.submit")
    with transaction(bind) as conn:
        prov = queries.provider_of_account(conn, actor.id)
        if prov is None:
            raise PermissionDenied(f"{actor.id} is not a designated provider's account")
        out = queries.provider_claims(conn, prov["id"])
        audit.record(conn, actor, "medical.provider.claims.read", "medical_provider",
                     prov["id"], detail={"claims": len(out)})
    return out


__all__ = ["person_medical", "provider_claim_list"]
