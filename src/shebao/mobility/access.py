"""The only way a channel reaches one transfer or one pensioner's certification: the scope
check (the citizen themself; staff of either end of a transfer, or of the pensioner's region,
with the permission), then the read, audited with its purpose."""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.uow import transaction
from shebao.security import audit, policy

from . import queries


def access_transfer(db, actor: Actor, tid: int, purpose: str) -> dict:
    with transaction(db) as conn:
        t = queries.transfer(conn, tid)
        if t is None:
            if policy.is_staff(actor):
                raise InputError(f"no transfer {tid}", field="transfer_id")
            raise PermissionDenied(f"{actor.id} may not see transfer {tid}")
        if actor.role == "citizen":
            if actor.person_id != t["person_id"]:
                raise PermissionDenied(f"{actor.id} may not see transfer {tid}")
        elif actor.role != "system":
            policy.require(actor, "mobility.transfer.read")
            if not (policy.in_region(actor, t["from_region"])
                    or policy.in_region(actor, t["to_region"])):
                raise PermissionDenied(f"{actor.id} may not see transfer {tid}")
        audit.record(conn, actor, "mobility.transfer.read", "person", t["person_id"],
                     fields=["transfer"], purpose=purpose, detail={"transfer": tid})
        return t


def access_certification(db, actor: Actor, person_id: int, purpose: str) -> dict:
    with transaction(db) as conn:
        c = queries.certification(conn, person_id)
        if actor.role == "citizen":
            if actor.person_id != person_id:
                raise PermissionDenied(f"{actor.id} may not see person {person_id}")
        elif actor.role != "system":
            policy.require(actor, "mobility.certification.work")
            if c is not None:
                policy.require_region(actor, c["region"])
        if c is None:
            raise InputError(f"person {person_id} is not in the certification cycle",
                             field="person_id")
        audit.record(conn, actor, "mobility.certification.read", "person", person_id,
                     fields=["certification"], purpose=purpose)
        return c
