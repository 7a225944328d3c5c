"""The one way a channel reaches a case: scope check, then the audited read.

Staff see the cases of their region subtree when they hold the item's permission (or
``case.read``); a citizen the cases carrying their person id; an employer those carrying its
employer id. A refusal never says whether the case exists.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.uow import transaction
from shebao.security import audit, policy

from . import catalogue, queries
from .model import Case


def can_see(actor: Actor, c: Case) -> bool:
    if actor.role == "system":
        return True
    if actor.role == "citizen":
        return actor.person_id is not None and c.person_id is not None \
            and int(actor.person_id) == int(c.person_id)
    if actor.role == "employer":
        return actor.employer_id is not None and c.employer_id is not None \
            and int(actor.employer_id) == int(c.employer_id)
    if not policy.in_region(actor, c.region):
        return False
    if policy.has(actor, "case.read"):
        return True
    try:
        it = catalogue.item(c.item, c.region, c.opened_on)
    except InputError:
        return False
    return policy.has(actor, it.permission)


def access_case(db, actor: Actor, case_id: int, purpose: str) -> Case:
    with transaction(db) as conn:
        try:
            c = queries.get(conn, case_id)
        except InputError:
            c = None
        if c is None or not can_see(actor, c):
            raise PermissionDenied(f"{actor.id} may not see case {case_id}")
        audit.record(conn, actor, "case.read", "case", case_id, purpose=purpose,
                     detail={"item": c.item})
        return c
