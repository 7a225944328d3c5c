"""Who may do what, where: roles × permissions, and the region-subtree scope rule.

Staff (collection_clerk, benefits_clerk, inspector, administrator) act inside the region
subtree of their account (``Actor.scope``): a clerk of 310101 neither sees nor changes a
person of 310104. Citizens see only themselves (``Actor.person_id``); employers only their
own firm (``Actor.employer_id``) and, masked (:func:`sees_masked`), the persons it employs
*now*: the caller passes the employers with a spell of the person that has not ended, so
access ends with the spell. A pending hire (not yet confirmed by the person or approved by a
clerk) gives no access at all. Every check raises ``PermissionDenied``
with a reason that names the missing right — never the data the actor may not see.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.core import regions

STAFF_ROLES = ("collection_clerk", "benefits_clerk", "inspector", "administrator")
PUBLIC_ROLES = ("citizen", "employer", "provider")   # provider: a designated hospital/pharmacy (#16)
ACCOUNT_ROLES = PUBLIC_ROLES + STAFF_ROLES

# permission → roles holding it. Scope (region, self, own firm) is checked separately.
PERMISSIONS: dict[str, frozenset[str]] = {
    # registry
    "person.read": frozenset({"collection_clerk", "benefits_clerk", "inspector", "administrator",
                              "citizen", "employer"}),
    "person.write": frozenset({"collection_clerk", "administrator"}),
    "person.contact.write": frozenset({"collection_clerk", "administrator", "citizen"}),
    "employer.read": frozenset({"collection_clerk", "benefits_clerk", "inspector",
                                "administrator", "employer"}),
    "employer.write": frozenset({"collection_clerk", "administrator"}),
    "employment.write": frozenset({"collection_clerk", "employer"}),
    # a clerk of the employer's region makes an employer's pending hire effective
    "employment.approve": frozenset({"collection_clerk"}),
    "registry.import": frozenset({"collection_clerk", "administrator"}),
    # collection
    "collection.read": frozenset({"collection_clerk", "inspector", "administrator", "employer"}),
    "declaration.write": frozenset({"collection_clerk", "employer"}),
    "collection.run": frozenset({"collection_clerk"}),
    # ledger
    "account.read": frozenset({"collection_clerk", "benefits_clerk", "inspector",
                               "administrator", "citizen"}),
    # benefits
    "pension.read": frozenset({"benefits_clerk", "inspector", "administrator", "citizen"}),
    "pension.compute": frozenset({"benefits_clerk"}),
    "pension.approve": frozenset({"benefits_clerk"}),
    "payroll.read": frozenset({"benefits_clerk", "inspector", "administrator"}),
    "payroll.prepare": frozenset({"benefits_clerk"}),
    "payroll.approve": frozenset({"benefits_clerk"}),
    # benefits casework (#13): clerks work benefit cases (unemployment, injury, maternity,
    # survivors) and a second clerk checks each decision (duties.BENEFIT_DECISION); a review
    # of a decision (reconsideration) is worked by a different officer and checked again;
    # awards are suspended, resumed and stopped by clerks
    "benefit.case.work": frozenset({"benefits_clerk"}),
    "benefit.decision.approve": frozenset({"benefits_clerk"}),
    "benefit.appeal.review": frozenset({"benefits_clerk", "inspector"}),
    "benefit.appeal.approve": frozenset({"benefits_clerk", "inspector"}),
    "benefit.award.manage": frozenset({"benefits_clerk"}),
    "benefit.read": frozenset({"benefits_clerk", "inspector", "administrator", "citizen"}),
    # cards (#17, cards/): card.work handles applications, issue and bank links for anyone in
    # scope; card.verify checks an e-card at a counter
    "card.read": frozenset({"collection_clerk", "benefits_clerk", "inspector", "administrator",
                            "citizen"}),
    "card.work": frozenset({"collection_clerk", "benefits_clerk"}),
    "card.verify": frozenset(STAFF_ROLES),
    # sharing (#17, sharing/): partner agencies and their exchanges
    "sharing.manage": frozenset({"administrator"}),
    "sharing.read": frozenset({"administrator", "inspector"}),
    # mobility (#15): transfers between regions and schemes, living certification, comparison
    "mobility.transfer.apply": frozenset({"citizen", "benefits_clerk"}),
    "mobility.transfer.read": frozenset({"benefits_clerk", "collection_clerk", "inspector",
                                         "administrator", "citizen"}),
    "mobility.transfer.work": frozenset({"benefits_clerk"}),
    "mobility.transfer.approve": frozenset({"benefits_clerk"}),
    "mobility.certification.work": frozenset({"benefits_clerk"}),
    "mobility.certification.self": frozenset({"citizen"}),
    "mobility.scenario": frozenset({"benefits_clerk", "inspector", "administrator"}),
    # supervision and monitoring (#14): inspectors run the rules, work alerts and cases; a
    # second inspector checks every decision (duties.SUPERVISION_*); supervisors (inspectors and
    # administrators) read the fund dashboard
    "supervision.monitor.run": frozenset({"inspector"}),
    "supervision.alert.read": frozenset({"inspector", "administrator"}),
    "supervision.case.work": frozenset({"inspector"}),
    "supervision.decision.approve": frozenset({"inspector"}),
    "monitoring.read": frozenset({"inspector", "administrator"}),
    "monitoring.run": frozenset({"inspector"}),
    # cases (every bureau): supervisors of the casework see every case of their region
    "case.read": frozenset({"inspector", "administrator"}),
    # security
    "audit.read": frozenset({"inspector", "administrator"}),
    "user.manage": frozenset({"administrator"}),
    "calc.use": frozenset(ACCOUNT_ROLES),
    # org, training, reports (#18): the organisation, outlets, staffing and outsourcing; the
    # training platform (every staff member takes courses); fund accounts and statistics
    "org.read": frozenset(STAFF_ROLES),
    "org.manage": frozenset({"administrator"}),
    "training.take": frozenset(STAFF_ROLES),
    "training.manage": frozenset({"administrator"}),
    "reports.read": frozenset({"inspector", "administrator"}),
    "reports.manage": frozenset({"administrator"}),
    # a second administrator approves a proposed fiscal subsidy, budget or final accounts
    # (duties.FUND_DECISION); only the approval posts or adopts
    "reports.approve": frozenset({"administrator"}),
    # notices (#17 delivery): staff see delivery status; a citizen or employer sets its own
    # channels, language and quiet hours
    "notices.read": frozenset(STAFF_ROLES),
    "notices.preferences": frozenset(PUBLIC_ROLES),
    # medical insurance and resident schemes (#16): benefits clerks run the medical bureau
    # (providers, catalogues, settlement, off-site registrations, manual claims with a second
    # clerk's check); a designated provider submits its own bills; collection clerks run the
    # resident enrolment campaign; resident pension awards are computed and checked by two
    # benefits clerks
    "medical.provider.manage": frozenset({"benefits_clerk", "administrator"}),
    "medical.catalogue.manage": frozenset({"benefits_clerk", "administrator"}),
    "medical.claim.submit": frozenset({"provider", "benefits_clerk"}),
    "medical.claim.read": frozenset({"benefits_clerk", "inspector", "administrator", "citizen",
                                     "provider"}),
    "medical.claim.work": frozenset({"benefits_clerk"}),
    "medical.claim.approve": frozenset({"benefits_clerk"}),
    "medical.settle": frozenset({"benefits_clerk"}),
    "medical.offsite.register": frozenset({"benefits_clerk", "citizen"}),
    "residents.read": frozenset({"collection_clerk", "benefits_clerk", "inspector",
                                 "administrator"}),
    "residents.enrol": frozenset({"collection_clerk", "citizen"}),
    "residents.campaign": frozenset({"collection_clerk"}),
    "residents.award": frozenset({"benefits_clerk"}),
    "residents.award.approve": frozenset({"benefits_clerk"}),
}


def is_staff(actor: Actor) -> bool:
    return actor.role in STAFF_ROLES or actor.role == "system"


def has(actor: Actor, permission: str) -> bool:
    if actor.role == "system":
        return True
    return actor.role in PERMISSIONS.get(permission, frozenset())


def require(actor: Actor, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if not has(actor, permission):
        raise PermissionDenied(f"role {actor.role} may not {permission}")


def in_region(actor: Actor, region_code: str | None) -> bool:
    """Staff: the region lies in the actor's subtree. Public roles never pass on region alone."""
    if actor.role == "system":
        return True
    if not is_staff(actor) or not region_code:
        return False
    try:
        return regions.within(str(region_code), actor.scope)
    except ValueError:
        return False


def require_region(actor: Actor, region_code: str | None) -> None:
    if not in_region(actor, region_code):
        raise PermissionDenied(f"outside the scope {actor.scope} of {actor.id}")


def can_see_person(actor: Actor, person_id: int, region_code: str | None,
                   employer_ids: set[int] | frozenset[int] = frozenset()) -> bool:
    """Staff in scope; the citizen themself; an employer among ``employer_ids``: the
    employers with a current (not ended) spell of the person."""
    if not has(actor, "person.read"):
        return False
    if actor.role == "citizen":
        return actor.person_id is not None and int(actor.person_id) == int(person_id)
    if actor.role == "employer":
        return actor.employer_id is not None and int(actor.employer_id) in set(employer_ids)
    return in_region(actor, region_code)


def sees_masked(actor: Actor) -> bool:
    """An employer sees its employees masked (name, ID, phone) and never their address."""
    return actor.role == "employer"


def require_person(actor: Actor, person_id: int, region_code: str | None,
                   employer_ids=frozenset()) -> None:
    if not can_see_person(actor, person_id, region_code, employer_ids):
        raise PermissionDenied(f"{actor.id} may not see person {person_id}")


def can_see_employer(actor: Actor, employer_id: int, region_code: str | None) -> bool:
    if not has(actor, "employer.read"):
        return False
    if actor.role == "employer":
        return actor.employer_id is not None and int(actor.employer_id) == int(employer_id)
    return in_region(actor, region_code)


def require_employer(actor: Actor, employer_id: int, region_code: str | None) -> None:
    if not can_see_employer(actor, employer_id, region_code):
        raise PermissionDenied(f"{actor.id} may not see employer {employer_id}")
