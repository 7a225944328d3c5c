"""Claims in: an itemised bill from a designated provider (API or file), or a manual
reimbursement claim (through ``shebao.cases``, see ``manual.py``).

``submit_claim`` validates the bill, finds who insures the person (the open medical enrolment:
employee or flexible → ``medical`` in service; resident or student → ``resident_medical``),
works out the off-site category (treatment outside the insured province: the person's
registration in force, ``emergency`` when the provider says so, else ``unregistered``), the
catalogue region of the place of treatment (the nearest of district, city, province that has
a catalogue), and refuses duplicates: the same provider and bill number, or the same person,
provider, admission and lines under another number (``model.fingerprint``). The claim waits
``submitted`` for the next settlement run.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, insert, or_, select

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.uow import now, transaction
from shebao.registry import queries as registry
from shebao.security import audit, policy

from . import model
from .tables import medical_catalogue_item as cat
from .tables import medical_claim, medical_claim_line, medical_offsite_registration as reg
from .tables import medical_provider

_INSURED = (("employee", "medical", "in_service"), ("flexible", "medical", "in_service"),
            ("resident", "resident_medical", "resident"),
            ("student", "resident_medical", "resident"))


def insured(conn, person_id: int, on: dt.date, retired: bool = False) -> tuple[str, str, str]:
    """(insured region, scheme, person type) of the person on ``on``; refuses the uninsured.
    ``retired`` (the provider reads it from the card) counts only for employee medical."""
    for kind, scheme, ptype in _INSURED:
        region = registry.enrolment_region(conn, person_id, kind, scheme, on)
        if region:
            return region, scheme, ("retired" if retired and scheme == "medical" else ptype)
    raise InputError(f"person {person_id} has no medical insurance in force on {on}",
                     field="person")


def registration_on(conn, person_id: int, treated: str, on: dt.date) -> str | None:
    """The category of the person's off-site registration for the place of treatment."""
    rows = conn.execute(select(reg.c.category, reg.c.treatment_region).where(
        reg.c.person_id == person_id, reg.c.status == "active", reg.c.valid_from <= on,
        or_(reg.c.valid_to.is_(None), reg.c.valid_to >= on))).all()
    for cat_, where in rows:
        if regions.within(treated, where):
            return cat_
    return None


def catalogue_region(conn, treated: str) -> str:
    for r in dict.fromkeys((treated, treated[:4] + "00", treated[:2] + "0000")):
        if conn.execute(select(cat.c.id).where(cat.c.region == r).limit(1)).first():
            return r
    return treated


def provider_by_code(conn, code: str) -> dict:
    p = conn.execute(select(medical_provider).where(
        medical_provider.c.code == code)).mappings().first()
    if p is None or p["status"] != "active":
        raise InputError(f"{code} is not an active designated provider", field="provider")
    return dict(p)


def submit_claim(bind, actor: Actor, claim: dict, *, channel: str = "api",
                 case_id: int | None = None) -> int:
    """One itemised bill → a ``submitted`` claim (id). ``claim``: provider (code), bill_no,
    person_id or citizen_id, kind inpatient|outpatient, admitted_on, discharged_on,
    treatment_region (default: the provider's), emergency, retired, use_account, lines
    [{item_code, amount}]."""
    policy.require(actor, "medical.claim.submit")
    lines = model.parse_lines(claim.get("lines"))
    kind = model.check_choice(claim.get("kind", "inpatient"), ("inpatient", "outpatient"),
                              "kind")
    bill_no = model._code(claim.get("bill_no"), "bill_no")
    try:
        admitted = dt.date.fromisoformat(str(claim.get("admitted_on")))
        discharged = (dt.date.fromisoformat(str(claim["discharged_on"]))
                      if claim.get("discharged_on") else None)
    except ValueError:
        raise InputError("dates must be YYYY-MM-DD", field="admitted_on") from None
    if discharged and discharged < admitted:
        raise InputError("discharged before admitted", field="discharged_on")
    flags = {f: claim.get(f, False) for f in ("emergency", "retired", "use_account")}
    for f, v in flags.items():
        if not isinstance(v, bool):
            raise InputError("must be true or false", field=f, value=v)
    with transaction(bind) as conn:
        prov = provider_by_code(conn, str(claim.get("provider")))
        if actor.role == "provider":
            if prov["account"] != actor.id:
                raise PermissionDenied("a provider submits only its own bills")
        elif not policy.in_region(actor, prov["region"]):
            raise PermissionDenied("the provider is outside your scope")
        treated = model.check_treatment_region(claim.get("treatment_region") or prov["region"])
        pid = claim.get("person_id")
        if pid is None and claim.get("citizen_id"):
            pid = registry.person_id_of(conn, str(claim["citizen_id"]))
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise InputError("unknown person", field="citizen_id")
        region, scheme, ptype = insured(conn, pid, admitted, flags["retired"])
        category = model.offsite_category(region, treated,
                                          registration_on(conn, pid, treated, admitted),
                                          flags["emergency"])
        fp = model.fingerprint(pid, prov["id"], admitted, kind == "inpatient", lines)
        if conn.execute(select(medical_claim.c.id).where(and_(
                medical_claim.c.provider_id == prov["id"],
                medical_claim.c.bill_no == bill_no))).first():
            raise ConflictError(f"bill {bill_no} of {prov['code']} was submitted already")
        dup = conn.execute(select(medical_claim.c.id).where(
            medical_claim.c.fingerprint == fp, medical_claim.c.status != "rejected")).first()
        if dup:
            raise ConflictError(f"duplicate claim: the same person, provider, admission and "
                                f"lines were submitted as claim {dup[0]}")
        cid = conn.execute(insert(medical_claim).values(
            provider_id=prov["id"], person_id=pid, bill_no=bill_no, insured_region=region,
            treatment_region=treated, catalogue_region=catalogue_region(conn, treated),
            scheme=scheme, person_type=model.PERSON_TYPES.index(ptype),
            level=model.LEVELS.index(prov["level"]), inpatient=kind == "inpatient",
            offsite=model.OFFSITE.index(category),
            use_account=flags["use_account"] and scheme == "medical",
            admitted_on=admitted, discharged_on=discharged,
            total_fen=sum(ln.amount_fen for ln in lines), lines=len(lines), fingerprint=fp,
            channel=channel, status="submitted", case_id=case_id, created_by=actor.id,
            created_at=now()).returning(medical_claim.c.id)).scalar_one()
        conn.execute(insert(medical_claim_line), [
            {"claim_id": cid, "line_no": i, "item_code": ln.item_code,
             "amount_fen": ln.amount_fen} for i, ln in enumerate(lines, 1)])
        audit.record(conn, actor, "medical.claim.submit", "person", pid,
                     detail={"claim": cid, "provider": prov["code"], "bill_no": bill_no,
                             "offsite": category, "channel": channel})
    return cid


__all__ = ["submit_claim", "insured", "registration_on", "catalogue_region",
           "provider_by_code"]
