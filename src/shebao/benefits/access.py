"""The only door to pension cases and payroll runs (Zulip's ``access_*`` pattern).

A pension case is seen by the citizen it is about and by staff with ``pension.read`` whose
region subtree holds the case's region; payroll runs by staff with ``payroll.read`` in scope.
Lists filter the scope in SQL (:func:`region_filter`), then the policy decides exactly.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.registry.access import scope_filter
from shebao.security import policy


def require_staff(actor: Actor, permission: str) -> None:
    """Staff with ``permission`` (citizens and employers never handle cases or runs)."""
    if not policy.is_staff(actor):
        raise PermissionDenied("pension cases are handled by staff")
    policy.require(actor, permission)


def require_in_region(actor: Actor, permission: str, region: str) -> None:
    """A bureau use case on ``region``: the system, or staff with ``permission`` in scope."""
    if actor.role == "system":
        return
    policy.require(actor, permission)
    policy.require_region(actor, region)


def check_case(actor: Actor, case: dict) -> None:
    """May ``actor`` read this case (a row of ``pension_case``)?"""
    if actor.role == "citizen":
        if actor.person_id != case["person_id"]:
            raise PermissionDenied("a citizen may read only their own pension case")
    elif actor.role != "system":
        policy.require(actor, "pension.read")
        policy.require_region(actor, case["region"])


def region_filter(actor: Actor, column):
    """SQL condition: ``column`` lies in the actor's region subtree; None for a national scope
    or the system."""
    if actor.role == "system":
        return None
    return scope_filter(actor, column)


def require_person_awards(db, actor: Actor, person_id: int) -> None:
    """May ``actor`` read the person's benefit awards and payments? The citizen themself, or
    staff with ``benefit.read`` whose scope holds the person's region (or one of their
    awards' regions). The read is audited."""
    from shebao.db.uow import transaction
    from shebao.registry import queries as registry_queries
    from shebao.security import audit

    with transaction(db) as conn:
        if actor.role == "citizen":
            if actor.person_id is None or int(actor.person_id) != int(person_id):
                raise PermissionDenied("a citizen may read only their own benefits")
        elif actor.role != "system":
            policy.require(actor, "benefit.read")
            facts = registry_queries.person_facts(conn, [person_id]).get(person_id)
            if facts is None or not policy.in_region(actor, facts.get("pension_region")):
                raise PermissionDenied(f"{actor.id} may not see person {person_id}'s benefits")
        audit.record(conn, actor, "benefit.awards.read", "person", person_id,
                     purpose="benefits and payments")
