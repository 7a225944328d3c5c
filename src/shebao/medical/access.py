"""The channels' door to one person's medical records: scope check, then the audited read."""
from __future__ import annotations

import datetime as dt

from shebao.cases import access as case_access
from shebao.cases import model as case_model
from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.ids import mask_id, mask_name
from shebao.db.uow import transaction
from shebao.ledger import queries as ledger_queries
from shebao.registry import access as registry_access
from shebao.registry import queries as registry_queries
from shebao.security import audit, policy

from . import manual, queries, settle


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
        lines = queries.lines_of_claims(conn, [c["id"] for c in out["claims"]])
        for c in out["claims"]:
            c["lines"] = lines.get(c["id"], [])
        st = ledger_queries.statement(conn, actor, person_id, "medical", purpose=purpose)
        out["account_balance_fen"] = st.closing_balance
        out["account_lines"] = [ln.as_json() for ln in st.lines]
        audit.record(conn, actor, "medical.record.read", "person", person_id, purpose=purpose,
                     detail={"claims": [c["id"] for c in out["claims"]]})
    return out


def manual_claim(bind, actor: Actor, case_id: int, purpose: str) -> dict:
    """A manual reimbursement case for the clerk who works or checks it: the case (scope
    check and audited read by ``cases.access``), its claim, the bill lines with their
    catalogue class and, while it waits for the decision, the split it would get if settled
    now (``settle.preview``; once settled, the claim carries the settlement itself)."""
    policy.require(actor, "medical.claim.work")
    case = case_access.access_case(bind, actor, case_id, purpose)
    with transaction(bind) as conn:
        c = queries.claim_of_case(conn, case_id)
        if c is None:
            raise InputError(f"case {case_id} is not a manual medical claim", field="case_id")
        lines = queries.claim_lines(conn, c["id"])
        audit.record(conn, actor, "medical.claim.read", "person", c["person_id"],
                     purpose=purpose, detail={"claim": c["id"], "case": case_id})
    split = settle.preview(bind, c["id"]) if c["status"] == "pending" else None
    return {"case": case, "claim": c, "lines": lines, "preview": split}


def _masked(conn, rows: list[dict]) -> list[dict]:
    """Each row with its person's name and citizen ID masked (lists never show them whole)."""
    who = registry_queries.identities(conn, [r["person_id"] for r in rows])
    return [r | {"name": mask_name(who.get(r["person_id"], {}).get("name")),
                 "citizen_id": mask_id(who.get(r["person_id"], {}).get("citizen_id"))}
            for r in rows]


def manual_claim_queue(bind, actor: Actor, today: dt.date, *, status: str | None = None,
                       limit: int = 200) -> list[dict]:
    """The manual reimbursement claims of the clerk's region subtree — open ones by default —
    overdue first, then by due date (the item's 30 working days from the case catalogue);
    persons masked, the list audited per person shown."""
    policy.require(actor, "medical.claim.work")
    statuses = (status,) if status else case_model.OPEN
    cases = case_queries.list_cases(bind, region=actor.scope, item=manual.ITEM,
                                    status=statuses, limit=limit)
    cases.sort(key=lambda c: (not c.overdue_on(today), c.due_on, c.id))
    with transaction(bind) as conn:
        claims = queries.claims_of_cases(conn, [c.id for c in cases])
        rows = _masked(conn, [{"case": c, "person_id": c.person_id,
                               "claim": claims.get(c.id), "overdue": c.overdue_on(today)}
                              for c in cases])
        audit.record_listed(conn, actor, "medical.manual_claim.list",
                            [r["person_id"] for r in rows], fields=["name", "citizen_id"],
                            purpose="manual claims queue", detail={"status": status})
    return rows


def provider_claims_for_staff(bind, actor: Actor, code: str) -> dict:
    """A designated provider's claims for staff of its region, persons masked, the list
    audited per person shown (opening a person is its own audited read)."""
    policy.require(actor, "medical.claim.read")
    if not policy.is_staff(actor):
        raise PermissionDenied("a provider's claims list is for staff")
    with transaction(bind) as conn:
        prov = queries.provider(conn, code)
        if prov is None or not policy.in_region(actor, prov["region"]):
            raise PermissionDenied(f"{actor.id} may not see provider {code}")
        out = _masked(conn, queries.provider_claims(conn, prov["id"], limit=200))
        audit.record_listed(conn, actor, "medical.provider.claims.read",
                            [r["person_id"] for r in out], fields=["name", "citizen_id"],
                            purpose="provider's claims", detail={"provider": prov["id"]})
    return {"provider": prov, "claims": out}


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


__all__ = ["person_medical", "manual_claim", "manual_claim_queue",
           "provider_claims_for_staff",
           "provider_claim_list"]
