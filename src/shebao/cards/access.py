"""The only door for a channel to cards: scope check, then the audited read.

A citizen sees their own card; staff with ``card.read`` see the cards of their region subtree.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.core.regions import NATIONAL
from shebao.db.uow import transaction
from shebao.registry.queries import identities
from shebao.security import audit, policy

from . import queries


def my_card(bind, actor: Actor) -> dict | None:
    """The citizen's own card (no audit row: a person reading their own record)."""
    if actor.role != "citizen" or actor.person_id is None:
        raise PermissionDenied("only a citizen has their own card")
    return queries.card_of_person(bind, actor.person_id)


def list_cards(bind, actor: Actor, status: str, *, limit: int = 50,
               after: int | None = None) -> list[dict]:
    """Cards of one status in the actor's region subtree, with the holder masked; audited
    (one row per holder listed)."""
    policy.require(actor, "card.read")
    if not policy.is_staff(actor):
        raise PermissionDenied("card lists are for staff")
    scope = actor.scope
    prefix = "" if scope == NATIONAL else scope[:2] if scope.endswith("0000") \
        else scope[:4] if scope.endswith("00") else scope
    rows = [r for r in queries.cards_with_status(bind, status, region_prefix=prefix,
                                                 after=after, limit=limit)
            if policy.in_region(actor, r["region"])]
    with transaction(bind) as conn:
        who = identities(conn, [r["person_id"] for r in rows])
        audit.record_listed(conn, actor, "cards.list", [r["person_id"] for r in rows],
                            fields=["name", "citizen_id"], purpose=f"cards {status}")
    for r in rows:
        w = who.get(r["person_id"], {})
        r["holder"] = mask_name(w.get("name"))
        r["citizen_id"] = mask_id(w.get("citizen_id"))
    return rows
