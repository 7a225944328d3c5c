"""Registry use cases, one function per action: one transaction, one audit record.

Every function takes ``bind`` (an Engine, or a Connection already in a transaction: then the
caller's transaction is used) and an :class:`~shebao.core.actor.Actor`.

Effective dating: ``person`` / ``employer`` hold the current version; every version is kept in
``person_version`` / ``employer_version`` with half-open validity ``[valid_from, valid_to)``,
who recorded it, when, why and from which source. A change closes the current version row
(sets its ``valid_to``) and opens the next one; nothing is overwritten. Spells and enrolments
are themselves dated (inclusive ``start_date``/``end_date``); the only change they accept is
being ended, which records who ended them and when.

Public functions (stable):

    register_person, change_person, record_death, record_emigration, record_return,
    find_person, resolve_person_id, get_person, person_history, merged_ids
    register_employer, change_employer, risk_class_for
    start_employment, end_employment, enrol, end_enrolment, active_enrolments
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, select, update

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError
from shebao.core.ids import mask_id, parse_citizen_id, parse_uscc
from shebao.db import dialect
from shebao.db.uow import now, transaction
from shebao.rules.loader import load_rules
from shebao.security import audit

from . import model
from .tables import (EMPLOYER_FIELDS, PERSON_FIELDS, employer, employer_version, employment,
                     enrolment, person, person_version, person_merge)


# --------------------------------------------------------------------------- parameters

def risk_class_for(industry_code: str, region: str, on: dt.date) -> int:
    """Work-injury risk class of a GB/T 4754 division (``"65"`` or ``"I65"``) from the rules."""
    code = _division(industry_code)
    table = load_rules().value("registry.industry_risk_class", region, on)
    if code not in table:
        raise InputError(f"{industry_code!r} is not a GB/T 4754-2011 industry division "
                         f"(two digits 01–96)", field="industry", value=industry_code)
    return int(table[code])


def _division(industry_code) -> str:
    s = str(industry_code or "").strip().upper()
    if s[:1].isalpha():
        s = s[1:]
    return s[:2] if len(s) >= 2 else s.zfill(2)


def employment_date_bounds(region: str, today: dt.date | None = None) -> model.DateBounds:
    """The plausibility bounds of employment dates in force today (parameters
    ``registry.employment_*``)."""
    today = today or dt.date.today()
    rules = load_rules()
    return model.DateBounds(
        min_age=int(rules.value("registry.employment_min_age", region, today)),
        earliest_year=int(rules.value("registry.employment_earliest_year", region, today)),
        max_days_ahead=int(rules.value("registry.employment_max_days_ahead", region, today)),
        today=today)


def allowed_float_tiers(risk_class: int, region: str, on: dt.date) -> list[int]:
    table = load_rules().value("registry.injury_float_tiers", region, on)
    return [int(x) for x in table[risk_class]]


# --------------------------------------------------------------------------- persons

def _person_row(conn, person_id: int, for_update: bool = False) -> dict:
    q = select(person).where(person.c.id == person_id)
    if for_update:
        q = dialect.for_update(conn, q)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise InputError(f"no person with id {person_id}", field="person_id", value=person_id)
    return dict(row)


def _open_version(conn, table, key_col: str, key: int, version: int, ident: dict, attrs: dict,
                  valid_from: dt.date, actor: Actor, reason: str, source: str,
                  run_id: int | None) -> None:
    conn.execute(table.insert().values(
        **{key_col: key}, version=version, **ident, **attrs, valid_from=valid_from,
        valid_to=None, recorded_at=now(), recorded_by=actor.id, reason=reason, source=source,
        import_run_id=run_id))


def _close_version(conn, table, key_col: str, key: int, version: int,
                   valid_from: dt.date) -> None:
    cur = conn.execute(select(table.c.valid_from).where(
        and_(table.c[key_col] == key, table.c.version == version))).scalar_one()
    if valid_from < cur:
        raise InvariantError(f"a change effective {valid_from} cannot precede the current "
                             f"version, in force since {cur}")
    conn.execute(update(table).where(and_(table.c[key_col] == key, table.c.version == version))
                 .values(valid_to=valid_from))


def validate_person_fields(f: dict) -> dict:
    """Normalise and check person attributes; raises InputError naming the field."""
    out = dict(f)
    if "name" in out:
        out["name"] = model.check_name(out["name"], "name")
    if out.get("sex") not in (None, "M", "F"):
        raise InputError("sex must be M or F", field="sex", value=out["sex"])
    for key in ("hukou_region", "residence_region", "pension_region"):
        if out.get(key) is not None:
            out[key] = model.region_code(out[key], key)
    if "phone" in out:
        out["phone"] = model.normalize_phone(out["phone"])
        if not model.valid_phone(out["phone"]):
            raise InputError("not a mainland mobile number (11 digits starting 1[3-9])",
                             field="phone", value=out["phone"])
    if out.get("bank_account") is not None:
        out["bank_account"] = str(out["bank_account"]).replace(" ", "")
        if not model.valid_bank_account(out["bank_account"]):
            raise InputError("bank account must be 12–30 digits", field="bank_account",
                             value=out["bank_account"])
    if out.get("notify_channels"):
        chans = [c.strip() for c in str(out["notify_channels"]).split(",") if c.strip()]
        bad = [c for c in chans if c not in model.NOTIFY_CHANNELS]
        if bad:
            raise InputError(f"unknown channel(s) {bad}; allowed {list(model.NOTIFY_CHANNELS)}",
                             field="notify_channels", value=out["notify_channels"])
        out["notify_channels"] = ",".join(chans)
    if out.get("status") is not None and out["status"] not in model.PERSON_STATUSES:
        raise InputError(f"status must be one of {model.PERSON_STATUSES}", field="status",
                         value=out["status"])
    return out


def register_person(bind, actor: Actor, *, citizen_id: str, name: str, sex: str | None = None,
                    birth_date: dt.date | None = None, hukou_region: str | None = None,
                    residence_region: str | None = None, pension_region: str | None = None,
                    phone: str | None = None, address: str | None = None,
                    notify_channels: str | None = None, bank_name: str | None = None,
                    bank_account: str | None = None, valid_from: dt.date | None = None,
                    source: str = "manual", reason: str = "registration") -> int:
    """Register a new person; the ID gives sex and birth date, which must agree if given."""
    cid = parse_citizen_id(citizen_id)
    if not cid.valid:
        raise InputError(f"invalid citizen ID: {cid.error}", field="citizen_id",
                         value=citizen_id)
    if sex is not None and sex != cid.sex:
        raise InputError(f"sex {sex} disagrees with the citizen ID ({cid.sex})", field="sex",
                         value=sex)
    if birth_date is not None and birth_date != cid.birth_date:
        raise InputError(f"birth date {birth_date} disagrees with the citizen ID "
                         f"({cid.birth_date})", field="birth_date", value=birth_date)
    attrs = validate_person_fields(dict(
        name=name, sex=cid.sex, birth_date=cid.birth_date, hukou_region=hukou_region,
        residence_region=residence_region, pension_region=pension_region, phone=phone,
        address=address, notify_channels=notify_channels, bank_name=bank_name,
        bank_account=bank_account, status="active", status_date=None, death_date=None,
        merged_into=None))
    valid_from = valid_from or dt.date.today()
    with transaction(bind) as conn:
        if conn.execute(select(person.c.id).where(person.c.citizen_id == cid.normalized)
                        ).first():
            raise ConflictError(f"citizen ID {mask_id(cid.normalized)} is already registered")
        t = now()
        pid = conn.execute(person.insert().values(
            citizen_id=cid.normalized, **attrs, name_pinyin=model.pinyin_key(attrs["name"]),
            version=1, source=source, import_run_id=None, created_at=t, updated_at=t)
        ).inserted_primary_key[0]
        _open_version(conn, person_version, "person_id", pid, 1,
                      {"citizen_id": cid.normalized}, attrs, valid_from, actor, reason, source,
                      None)
        audit.record(conn, actor, "registry.person.register", "person", pid,
                     fields=sorted(k for k, v in attrs.items() if v is not None),
                     detail={"citizen_id": mask_id(cid.normalized), "source": source})
        return pid


def _apply_person_change(conn, actor: Actor, cur: dict, changes: dict, valid_from: dt.date,
                         reason: str, source: str, run_id: int | None = None) -> int:
    """Close the current version and open the next with ``changes`` applied (no audit)."""
    attrs = {k: cur[k] for k in PERSON_FIELDS}
    attrs.update(changes)
    new_version = cur["version"] + 1
    _close_version(conn, person_version, "person_id", cur["id"], cur["version"], valid_from)
    _open_version(conn, person_version, "person_id", cur["id"], new_version,
                  {"citizen_id": cur["citizen_id"]}, attrs, valid_from, actor, reason, source,
                  run_id)
    extra = {"name_pinyin": model.pinyin_key(attrs["name"])} if "name" in changes else {}
    conn.execute(update(person).where(person.c.id == cur["id"]).values(
        **changes, **extra, version=new_version, source=source, updated_at=now()))
    return new_version


IDENTITY_FIELDS = ("name", "sex", "birth_date")


def change_person(bind, actor: Actor, person_id: int, changes: dict, *, reason: str,
                  valid_from: dt.date | None = None, source: str = "manual") -> int:
    """Record a change of a person's attributes as a new version; returns the version number.

    ``reason`` is mandatory (why). Sex and birth date follow the citizen ID and cannot be
    changed here; status changes go through :func:`record_death` or the merge service.
    """
    if not reason or not reason.strip():
        raise InputError("a reason is required for every change", field="reason")
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise InputError(f"unknown person field(s): {sorted(unknown)}", field="changes")
    for f in ("sex", "birth_date", "status", "death_date", "merged_into", "status_date"):
        if f in changes:
            raise InputError(f"{f} cannot be changed directly (it follows the citizen ID or a "
                             f"dedicated action)", field=f)
    changes = validate_person_fields(changes)
    valid_from = valid_from or dt.date.today()
    with transaction(bind) as conn:
        cur = _person_row(conn, person_id, for_update=True)
        if cur["status"] == "merged":
            raise InvariantError(f"person {person_id} was merged into {cur['merged_into']}; "
                                 f"change the surviving record")
        diff = {k: v for k, v in changes.items() if cur[k] != v}
        if not diff:
            return cur["version"]
        v = _apply_person_change(conn, actor, cur, diff, valid_from, reason, source)
        audit.record(conn, actor, "registry.person.change", "person", person_id,
                     fields=sorted(diff), purpose=reason,
                     detail={"version": v, "valid_from": valid_from, "source": source})
        return v


def end_open_activity(conn, actor: Actor, person_id: int, on: dt.date, reason: str) -> dict:
    """End the open spells and enrolments of a person on ``on`` (inclusive). No audit row:
    the caller's action (death, emigration) carries it. Returns what was ended and what starts
    after ``on`` (conflicts left for a clerk)."""
    t = now()
    ended_enr = conn.execute(update(enrolment).where(and_(
        enrolment.c.person_id == person_id, enrolment.c.end_date.is_(None),
        enrolment.c.start_date <= on)).values(end_date=on, status="ended", end_reason=reason,
                                              ended_at=t, ended_by=actor.id)).rowcount
    ended_emp = conn.execute(update(employment).where(and_(
        employment.c.person_id == person_id, employment.c.end_date.is_(None),
        employment.c.start_date <= on)).values(end_date=on, leave_reason=reason,
                                               involuntary=False, ended_at=t,
                                               ended_by=actor.id)).rowcount
    later = conn.execute(select(enrolment.c.id).where(and_(
        enrolment.c.person_id == person_id, enrolment.c.start_date > on))).scalars().all()
    later_emp = conn.execute(select(employment.c.id).where(and_(
        employment.c.person_id == person_id, employment.c.start_date > on))).scalars().all()
    return {"enrolments_ended": ended_enr, "spells_ended": ended_emp,
            "enrolments_after": list(later), "spells_after": list(later_emp)}


def record_death(bind, actor: Actor, person_id: int, death_date: dt.date, *, source: str,
                 reason: str = "death recorded") -> dict:
    """Mark a person deceased from ``death_date`` (benefits stop on it): a new version with
    status ``deceased``; open spells and enrolments end on the death date. Activity that
    starts after it is not deleted; it is returned (and shown by the quality report)."""
    if death_date > dt.date.today():
        raise InputError(f"death date {death_date} is in the future", field="death_date",
                         value=death_date)
    with transaction(bind) as conn:
        cur = _person_row(conn, person_id, for_update=True)
        if cur["birth_date"] and death_date < cur["birth_date"]:
            raise InputError(f"death date {death_date} is before the birth date",
                             field="death_date", value=death_date)
        if cur["status"] == "deceased" and cur["death_date"] == death_date:
            return {"changed": False}
        if cur["status"] == "merged":
            raise InvariantError(f"person {person_id} was merged into {cur['merged_into']}")
        v = _apply_person_change(conn, actor, cur, {"status": "deceased",
                                                    "status_date": death_date,
                                                    "death_date": death_date},
                                 death_date if death_date >= _current_valid_from(conn, cur)
                                 else _current_valid_from(conn, cur), reason, source)
        ended = end_open_activity(conn, actor, person_id, death_date, "death")
        audit.record(conn, actor, "registry.person.death", "person", person_id,
                     fields=["status", "death_date"], purpose=reason,
                     detail={"death_date": death_date, "source": source, "version": v,
                             **ended})
        return {"changed": True, **ended}


def record_emigration(bind, actor: Actor, person_id: int, on: dt.date, *, source: str,
                      reason: str = "emigrated") -> dict:
    """Mark a person emigrated from ``on`` (status ``emigrated``); open spells and enrolments
    end on that day. The record stays; a return is a :func:`change_person`-style new version
    via :func:`record_return`."""
    with transaction(bind) as conn:
        cur = _person_row(conn, person_id, for_update=True)
        if cur["status"] != "active":
            raise InvariantError(f"person {person_id} is {cur['status']}, not active")
        vf = _current_valid_from(conn, cur)
        v = _apply_person_change(conn, actor, cur, {"status": "emigrated", "status_date": on},
                                 max(on, vf), reason, source)
        ended = end_open_activity(conn, actor, person_id, on, "emigration")
        audit.record(conn, actor, "registry.person.emigration", "person", person_id,
                     fields=["status"], purpose=reason,
                     detail={"date": on, "source": source, "version": v, **ended})
        return ended


def record_return(bind, actor: Actor, person_id: int, on: dt.date, *, source: str,
                  reason: str = "returned") -> int:
    """An emigrated person is active again from ``on`` (new version)."""
    with transaction(bind) as conn:
        cur = _person_row(conn, person_id, for_update=True)
        if cur["status"] != "emigrated":
            raise InvariantError(f"person {person_id} is {cur['status']}, not emigrated")
        v = _apply_person_change(conn, actor, cur, {"status": "active", "status_date": on},
                                 max(on, _current_valid_from(conn, cur)), reason, source)
        audit.record(conn, actor, "registry.person.return", "person", person_id,
                     fields=["status"], purpose=reason, detail={"date": on, "version": v})
        return v


def _current_valid_from(conn, cur: dict) -> dt.date:
    return conn.execute(select(person_version.c.valid_from).where(and_(
        person_version.c.person_id == cur["id"],
        person_version.c.version == cur["version"]))).scalar_one()


def resolve_person_id(conn, citizen_id: str) -> int | None:
    """Person id for a citizen ID, following merges: a merged ID finds the survivor."""
    cid = parse_citizen_id(citizen_id)
    number = cid.normalized if cid.valid else str(citizen_id).strip().upper()
    row = conn.execute(select(person.c.id, person.c.merged_into, person.c.status)
                       .where(person.c.citizen_id == number)).first()
    seen = set()
    while row is not None and row.status == "merged" and row.merged_into is not None:
        if row.id in seen:  # pragma: no cover - merges never form a cycle
            break
        seen.add(row.id)
        row = conn.execute(select(person.c.id, person.c.merged_into, person.c.status)
                           .where(person.c.id == row.merged_into)).first()
    return row.id if row is not None else None


def find_person(bind, actor: Actor, citizen_id: str, *, purpose: str) -> dict | None:
    """Look a person up by citizen ID (a merged ID finds the survivor). Audited read."""
    with transaction(bind) as conn:
        pid = resolve_person_id(conn, citizen_id)
        audit.record(conn, actor, "registry.person.read", "person", pid,
                     fields=["*"], purpose=purpose,
                     detail={"query": mask_id(str(citizen_id)), "found": pid is not None})
        if pid is None:
            return None
        out = _person_row(conn, pid)
        out["merged_ids"] = merged_ids(conn, pid)
        return out


def get_person(bind, actor: Actor, person_id: int, *, purpose: str) -> dict:
    with transaction(bind) as conn:
        row = _person_row(conn, person_id)
        row["merged_ids"] = merged_ids(conn, person_id)
        audit.record(conn, actor, "registry.person.read", "person", person_id, fields=["*"],
                     purpose=purpose)
        return row


_MERGED = (select(person_merge.c.merged_citizen_id).where(and_(
    person_merge.c.survivor_id == bindparam("s"), person_merge.c.undone_at.is_(None)))
    .order_by(person_merge.c.id))                  # built once: every person read asks it


def merged_ids(conn, survivor_id: int) -> list[str]:
    """Citizen IDs merged into this survivor (and not undone)."""
    return list(conn.execute(_MERGED, {"s": survivor_id}).scalars())


def person_history(bind, actor: Actor, person_id: int, *, purpose: str) -> list[dict]:
    """Every version of a person, oldest first. Audited read."""
    with transaction(bind) as conn:
        rows = [dict(r) for r in conn.execute(
            select(person_version).where(person_version.c.person_id == person_id)
            .order_by(person_version.c.version)).mappings()]
        audit.record(conn, actor, "registry.person.history", "person", person_id,
                     fields=["*"], purpose=purpose)
        return rows


# --------------------------------------------------------------------------- employers

def validate_employer_fields(f: dict, on: dt.date) -> dict:
    out = dict(f)
    if "name" in out:
        out["name"] = model.check_name(out["name"], "name", max_len=120)
    if "region" in out:
        out["region"] = model.region_code(out["region"], "region")
    if out.get("bank_account") is not None:
        out["bank_account"] = str(out["bank_account"]).replace(" ", "")
        if not model.valid_bank_account(out["bank_account"]):
            raise InputError("bank account must be 12–30 digits", field="bank_account",
                             value=out["bank_account"])
    if out.get("status") is not None and out["status"] not in model.EMPLOYER_STATUSES:
        raise InputError(f"status must be one of {model.EMPLOYER_STATUSES}", field="status")
    return out


def _check_tier(risk_class: int, tier: int, region: str, on: dt.date) -> None:
    allowed = allowed_float_tiers(risk_class, region, on)
    if tier not in allowed:
        raise InputError(f"floating tier {tier}% is not allowed for risk class {risk_class} "
                         f"(allowed: {allowed})", field="float_tier", value=tier)


def register_employer(bind, actor: Actor, *, uscc: str, name: str, region: str,
                      industry_code: str, float_tier_pct: int = 100,
                      bank_name: str | None = None, bank_account: str | None = None,
                      valid_from: dt.date | None = None, source: str = "manual") -> int:
    """Register an employer; the risk class follows from the industry via the rules."""
    cc = parse_uscc(uscc)
    if not cc.valid:
        raise InputError(f"invalid unified social credit code: {cc.error}", field="uscc",
                         value=uscc)
    valid_from = valid_from or dt.date.today()
    attrs = validate_employer_fields(dict(name=name, region=region, bank_name=bank_name,
                                          bank_account=bank_account, status="active"),
                                     valid_from)
    rc = risk_class_for(industry_code, attrs["region"], valid_from)
    _check_tier(rc, int(float_tier_pct), attrs["region"], valid_from)
    attrs.update(industry_code=_division(industry_code), risk_class=rc,
                 float_tier_pct=int(float_tier_pct))
    with transaction(bind) as conn:
        if conn.execute(select(employer.c.id).where(employer.c.uscc == cc.normalized)).first():
            raise ConflictError(f"employer {cc.normalized} is already registered")
        t = now()
        eid = conn.execute(employer.insert().values(
            uscc=cc.normalized, **attrs, version=1, source=source, created_at=t, updated_at=t)
        ).inserted_primary_key[0]
        _open_version(conn, employer_version, "employer_id", eid, 1, {"uscc": cc.normalized},
                      attrs, valid_from, actor, "registration", source, None)
        audit.record(conn, actor, "registry.employer.register", "employer", eid,
                     detail={"uscc": cc.normalized, "risk_class": rc, "source": source})
        return eid


def change_employer(bind, actor: Actor, employer_id: int, changes: dict, *, reason: str,
                    valid_from: dt.date | None = None, source: str = "manual") -> int:
    """New employer version (industry → risk class recomputed; tier checked against it)."""
    if not reason or not reason.strip():
        raise InputError("a reason is required for every change", field="reason")
    unknown = set(changes) - set(EMPLOYER_FIELDS) - {"industry_code"}
    if unknown or "risk_class" in changes:
        raise InputError(f"cannot change {sorted(unknown | ({'risk_class'} & set(changes)))}"
                         f" (risk class follows the industry)", field="changes")
    valid_from = valid_from or dt.date.today()
    changes = validate_employer_fields(changes, valid_from)
    with transaction(bind) as conn:
        cur = conn.execute(select(employer).where(employer.c.id == employer_id)
                           ).mappings().first()
        if cur is None:
            raise InputError(f"no employer with id {employer_id}", field="employer_id")
        cur = dict(cur)
        attrs = {k: cur[k] for k in EMPLOYER_FIELDS}
        attrs.update(changes)
        if "industry_code" in changes:
            attrs["industry_code"] = _division(changes["industry_code"])
        attrs["risk_class"] = risk_class_for(attrs["industry_code"], attrs["region"], valid_from)
        attrs["float_tier_pct"] = int(attrs["float_tier_pct"])
        _check_tier(attrs["risk_class"], attrs["float_tier_pct"], attrs["region"], valid_from)
        diff = {k: v for k, v in attrs.items() if cur[k] != v}
        if not diff:
            return cur["version"]
        v = cur["version"] + 1
        _close_version(conn, employer_version, "employer_id", employer_id, cur["version"],
                       valid_from)
        _open_version(conn, employer_version, "employer_id", employer_id, v,
                      {"uscc": cur["uscc"]}, attrs, valid_from, actor, reason, source, None)
        conn.execute(update(employer).where(employer.c.id == employer_id).values(
            **diff, version=v, source=source, updated_at=now()))
        audit.record(conn, actor, "registry.employer.change", "employer", employer_id,
                     fields=sorted(diff), purpose=reason,
                     detail={"version": v, "valid_from": valid_from, "new": diff})
        return v


# spells and enrolments live in their own module; this one stays the registry's one door for
# writes, so they are re-exported here (imported last: spells uses the helpers above)
from .spells import (_insert_enrolment, _intervals, _living, active_enrolments,  # noqa: E402
                     end_contributing_enrolments, end_employment, end_enrolment, enrol,
                     start_employment)

__all__ = ["register_person", "change_person", "record_death", "record_emigration",
           "record_return", "find_person", "resolve_person_id", "get_person", "person_history",
           "merged_ids", "register_employer", "change_employer", "risk_class_for",
           "start_employment", "end_employment", "enrol", "end_enrolment", "active_enrolments",
           "end_contributing_enrolments",
           "end_open_activity", "employment_date_bounds", "_insert_enrolment", "_intervals",
           "_living"]
