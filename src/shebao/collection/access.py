"""Who may reach what of the collection bureau: the checks the channels (and the bureau's own
read services) call before anything is read. Each raises ``PermissionDenied`` (or
``InputError`` for a malformed or unknown target) and returns nothing useful to leak."""
from __future__ import annotations

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.registry import access as registry_access
from shebao.security import policy


def require_region(actor: Actor, region: str | None,
                   permission: str = "collection.read") -> str:
    """``actor`` holds ``permission`` and ``region`` (a six-digit code, not the national one)
    lies in its scope. Returns the region."""
    policy.require(actor, permission)
    regions.check_region(region)
    if not policy.in_region(actor, region):
        raise PermissionDenied(f"region {region} is outside your scope {actor.scope}")
    return region


def require_employer(conn, actor: Actor, employer_id: int) -> str:
    """The employer itself, or staff whose scope holds the employer's region (the registry's
    check). Returns the employer's region."""
    return registry_access.check_employer(conn, actor, employer_id)["region"]


def require_bill(actor: Actor, region: str, payer_type: str, payer_id: int) -> None:
    """A bill: the employer its own, a citizen their own (flexible/resident), staff in scope."""
    if actor.role == "employer":
        if not (payer_type == "E" and payer_id == actor.employer_id):
            raise PermissionDenied("an employer may see only its own bills")
    elif actor.role == "citizen":
        if not (payer_type != "E" and payer_id == actor.person_id):
            raise PermissionDenied("a citizen may see only their own bills")
    else:
        require_region(actor, region)
