"""Bulk import of employers and employment spells; rules in :mod:`shebao.registry.importer`."""
from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, select, update

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_id, parse_citizen_id, parse_uscc
from shebao.core.money import to_fen
from shebao.db.bulk import in_batches
from shebao.db.uow import transaction

from . import bulk, model
from .import_rows import (EMPLOYER_ALIASES, EMPLOYMENT_ALIASES, _FALSE, _TRUE, ImportResult,
                          _date, _finish, _Rows, audit_changes, out_of_scope,
                          require_import)
from .fileio import read_sheet
from .service import _division, allowed_float_tiers, employment_date_bounds, now
from .tables import employer, employment, enrolment, person


# --------------------------------------------------------------------------- employers

def import_employers(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Import employers (uscc, name, region, industry required; float_tier as a multiplier
    such as 1.2 or a percent such as 120; risk class from the industry via the rules)."""
    require_import(actor)
    sheet = read_sheet(path, EMPLOYER_ALIASES, {"uscc", "name", "region", "industry"},
                       numeric_unsafe={"uscc", "bank_account"})
    res = ImportResult("employers", str(sheet.path), sheet.encoding, dry_run,
                       rows=len(sheet.rows))
    rows = _Rows(sheet)
    today = dt.date.today()
    from shebao.rules.loader import load_rules

    rules = load_rules()
    recs, seen = [], {}
    for rn, rec in rows:
        n0 = len(rows.problems)
        cc = parse_uscc(rec.get("uscc"))
        if not cc.valid:
            rows.add(rn, "uscc", rec.get("uscc"), f"invalid unified social credit code: "
                     f"{cc.error}")
        name = rec.get("name")
        try:
            name = model.check_name(name, "name", max_len=120)
        except InputError as exc:
            rows.add(rn, "name", rec.get("name"), exc.reason)
        region = rec.get("region")
        if not model.valid_region(region) or region is None:
            rows.add(rn, "region", region, "not a six-digit GB/T 2260 region code")
            region = None
        rc = None
        if region is not None:
            table = rules.value("registry.industry_risk_class", region, today)
            div = _division(rec.get("industry"))
            rc = table.get(div)
            if rc is None:
                rows.add(rn, "industry", rec.get("industry"),
                         "not a GB/T 4754-2011 industry division (two digits 01–96)")
        tier = 100
        if rec.get("float_tier"):
            try:
                d = Decimal(rec["float_tier"].strip().rstrip("%"))
                tier_d = d * 100 if d < 10 else d
                if tier_d != tier_d.to_integral_value():
                    raise InvalidOperation
                tier = int(tier_d)
            except InvalidOperation:
                rows.add(rn, "float_tier", rec["float_tier"], "not a multiplier like 1.2")
                tier = None
        if rc is not None and tier is not None:
            allowed = allowed_float_tiers(int(rc), region, today)
            if tier not in allowed:
                rows.add(rn, "float_tier", rec.get("float_tier"),
                         f"tier {tier}% not allowed for risk class {rc} (allowed {allowed})")
        acct = (rec.get("bank_account") or "").replace(" ", "") or None
        if not model.valid_bank_account(acct):
            rows.add(rn, "bank_account", rec.get("bank_account"), "must be 12–30 digits")
        if len(rows.problems) > n0:
            continue
        if cc.normalized in seen:
            rows.add(rn, "uscc", cc.normalized, f"repeats row {seen[cc.normalized]}")
            continue
        seen[cc.normalized] = rn
        recs.append((rn, {"uscc": cc.normalized, "name": name, "region": region,
                          "industry_code": _division(rec.get("industry")),
                          "risk_class": int(rc), "float_tier_pct": tier,
                          "bank_name": rec.get("bank_name"), "bank_account": acct,
                          "status": "active"}))
    source = f"import:{sheet.path.name}"
    with engine.begin() as conn:
        existing = bulk.fetch_by_keys(conn, employer, "uscc", (r["uscc"] for _, r in recs))
        new, changes = [], []
        for rn, r in recs:
            cur = existing.get(r["uscc"])
            if cur is not None and out_of_scope(actor, cur["region"]):
                rows.add(rn, "uscc", r["uscc"], f"this employer is registered outside your "
                         f"scope {actor.scope}; not imported")
                continue
            why = out_of_scope(actor, r["region"])
            if why:
                rows.add(rn, "region", r["region"], why)
                continue
            if cur is None:
                new.append(r)
                continue
            diff = {k: v for k, v in r.items() if k != "uscc" and k != "status"
                    and v is not None and cur[k] != v}
            if diff:
                changes.append((cur, diff))
            else:
                res.unchanged += 1
        res.inserted, res.updated = len(new), len(changes)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "employers", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        ids = bulk.insert_employers(conn, actor, run_id, new, source=source, valid_from=today,
                              reason="bulk import")
        bulk.update_employers(conn, actor, run_id, changes, source=source, valid_from=today,
                              reason="bulk import: employer data changed")
        audit_changes(conn, actor, "registry.employer.import", "employer", run_id, sheet,
                      [(ids[r["uscc"]], None, {k: v for k, v in r.items() if k != "uscc"})
                       for r in new]
                      + [(cur["id"], {k: cur[k] for k in diff}, diff) for cur, diff in changes])
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.employers")
    return res


# --------------------------------------------------------------------------- employment

def _resolve_person_ids(conn, cids) -> dict[str, dict]:
    """citizen_id → current person row (following merges to the survivor)."""
    found = bulk.fetch_by_keys(conn, person, "citizen_id", cids)
    survivors = {r["merged_into"] for r in found.values() if r["status"] == "merged"}
    if survivors:
        by_id = {}
        for batch in in_batches(survivors):
            for r in conn.execute(select(person).where(person.c.id.in_(batch))).mappings():
                by_id[r["id"]] = dict(r)
        for k, r in list(found.items()):
            if r["status"] == "merged" and r["merged_into"] in by_id:
                found[k] = by_id[r["merged_into"]]
    return found


def _intervals_for(conn, table, person_ids, extra_cols):
    out: dict = {}
    cols = [table.c.id, table.c.person_id, table.c.start_date, table.c.end_date,
            *[table.c[c] for c in extra_cols]]
    for batch in in_batches(person_ids):
        for r in conn.execute(select(*cols).where(table.c.person_id.in_(batch))):
            out.setdefault((r.person_id, *[getattr(r, c) for c in extra_cols]), []).append(
                (r.id, model.Interval(r.start_date, r.end_date), r))
    return out


def import_employment(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Import employment spells (citizen_id, uscc, start_date required; end_date,
    leave_reason, involuntary, wage in yuan = declared average monthly wage of the previous
    year, wage_year, enrol = yes/no). Unless ``enrol`` is no, each spell enrols the person as
    an employee in the five employee schemes in the employer's region. An open spell in the
    registry that the file now ends is ended (with its enrolments)."""
    require_import(actor)
    sheet = read_sheet(path, EMPLOYMENT_ALIASES, {"citizen_id", "uscc", "start_date"},
                       numeric_unsafe={"citizen_id", "uscc"})
    res = ImportResult("employment", str(sheet.path), sheet.encoding, dry_run,
                       rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs = []
    for rn, rec in rows:
        n0 = len(rows.problems)
        cid = parse_citizen_id(rec.get("citizen_id"))
        if not cid.valid:
            rows.add(rn, "citizen_id", rec.get("citizen_id"), f"invalid citizen ID: {cid.error}")
        cc = parse_uscc(rec.get("uscc"))
        if not cc.valid:
            rows.add(rn, "uscc", rec.get("uscc"), f"invalid credit code: {cc.error}")
        start = _date(rows, rn, rec, "start_date", required=True)
        end = _date(rows, rn, rec, "end_date")
        if start and end and end < start:
            rows.add(rn, "end_date", rec["end_date"], f"before the start date {start}")
        reason = rec.get("leave_reason")
        if reason is not None and reason not in model.LEAVE_REASONS:
            rows.add(rn, "leave_reason", reason, f"must be one of {sorted(model.LEAVE_REASONS)}")
        if reason is not None and end is None:
            rows.add(rn, "leave_reason", reason, "given without an end date")
        invol = None
        if rec.get("involuntary") is not None:
            v = rec["involuntary"].strip().lower()
            if v in _TRUE:
                invol = True
            elif v in _FALSE:
                invol = False
            else:
                rows.add(rn, "involuntary", rec["involuntary"], "must be yes/no")
        elif reason is not None:
            invol = model.LEAVE_REASONS.get(reason)
        wage_fen = None
        if rec.get("wage") is not None:
            try:
                wage_fen = to_fen(rec["wage"].replace(",", ""))
                if wage_fen < 0:
                    raise ValueError
            except (ValueError, TypeError):
                rows.add(rn, "wage", rec["wage"], "not a non-negative amount in yuan (8000.00)")
        wage_year = None
        if rec.get("wage_year") is not None:
            if not rec["wage_year"].isdigit() or not 1990 <= int(rec["wage_year"]) <= 2100:
                rows.add(rn, "wage_year", rec["wage_year"], "not a year")
            else:
                wage_year = int(rec["wage_year"])
        enrol_flag = True
        if rec.get("enrol") is not None:
            v = rec["enrol"].strip().lower()
            if v not in _TRUE | _FALSE:
                rows.add(rn, "enrol", rec["enrol"], "must be yes/no")
            enrol_flag = v in _TRUE
        if len(rows.problems) == n0:
            recs.append((rn, dict(citizen_id=cid.normalized, uscc=cc.normalized, start=start,
                                  end=end, leave_reason=reason, involuntary=invol,
                                  wage_fen=wage_fen, wage_year=wage_year, enrol=enrol_flag)))
    source = f"import:{sheet.path.name}"
    t = now()
    with transaction(engine) as conn:
        persons = _resolve_person_ids(conn, (r["citizen_id"] for _, r in recs))
        bounds = functools.lru_cache(maxsize=None)(employment_date_bounds)
        employers = bulk.fetch_by_keys(conn, employer, "uscc", (r["uscc"] for _, r in recs))
        pids = {p["id"] for p in persons.values()}
        spells = _intervals_for(conn, employment, pids, ["employer_id"])
        enrols = _intervals_for(conn, enrolment, pids, ["scheme"])
        new_spells, new_enrols, ends = [], [], []
        person_of: dict[int, int] = {}
        for rn, r in recs:
            p = persons.get(r["citizen_id"])
            if p is None:
                rows.add(rn, "citizen_id", mask_id(r["citizen_id"]), "person not registered "
                         "(import persons first)")
                continue
            e = employers.get(r["uscc"])
            if e is None:
                rows.add(rn, "uscc", r["uscc"], "employer not registered (import employers "
                         "first)")
                continue
            why = out_of_scope(actor, e["region"])
            if why:     # a spell is registered at the employer's bureau
                rows.add(rn, "uscc", r["uscc"], f"the employer's {why}")
                continue
            bad = model.employment_date_problem(r["start"], r["end"], p["birth_date"],
                                                bounds(e["region"]))
            if bad:
                rows.add(rn, bad[0], r["start"] if bad[0] == "start_date" else r["end"],
                         bad[1])
                continue
            if p["status"] in ("deceased",) and (r["start"] > p["death_date"]):
                rows.add(rn, "start_date", r["start"],
                         f"starts after the person's death on {p['death_date']}")
                continue
            key = (p["id"], e["id"])
            same = [x for x in spells.get(key, []) if x[1].start == r["start"]]
            if same:
                sid, iv, _ = same[0]
                if iv.end == r["end"]:
                    res.unchanged += 1
                elif iv.end is None and r["end"] is not None:
                    ends.append((rn, sid, r))
                    person_of[sid] = p["id"]
                else:
                    rows.add(rn, "end_date", r["end"], f"spell #{sid} from {iv.start} is "
                             f"recorded with end {iv.end or 'open'}; a correction needs a "
                             f"clerk")
                continue
            new_iv = model.Interval(r["start"], r["end"])
            clash = [x for x in spells.get(key, []) if x[1].overlaps(new_iv)]
            if clash:
                rows.add(rn, "start_date", r["start"], f"overlaps spell #{clash[0][0]} with "
                         f"the same employer ({clash[0][1].start}–{clash[0][1].end or 'open'})")
                continue
            enr_rows = []
            if r["enrol"]:
                bad = None
                for scheme in model.EMPLOYEE_SCHEMES:
                    c = [x for x in enrols.get((p["id"], scheme), []) if x[1].overlaps(new_iv)]
                    if c:
                        bad = (scheme, c[0])
                        break
                if bad:
                    rows.add(rn, "start_date", r["start"],
                             f"the {bad[0]} enrolment it opens would overlap enrolment "
                             f"#{bad[1][0]} ({bad[1][1].start}–{bad[1][1].end or 'open'}); "
                             f"end that one first")
                    continue
                for scheme in model.EMPLOYEE_SCHEMES:
                    enrols.setdefault((p["id"], scheme), []).append((-rn, new_iv, None))
                    enr_rows.append(scheme)
            spells.setdefault(key, []).append((-rn, new_iv, None))
            new_spells.append((rn, p, e, r, enr_rows))
        res.inserted, res.updated = len(new_spells), len(ends)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "employment", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        bulk.bulk_insert(conn, employment, [dict(
            person_id=p["id"], origin_person_id=p["id"], employer_id=e["id"],
            start_date=r["start"], end_date=r["end"], leave_reason=r["leave_reason"],
            involuntary=r["involuntary"], wage_fen=r["wage_fen"], wage_year=r["wage_year"],
            source=source, import_run_id=run_id, created_at=t, created_by=actor.id,
            ended_at=t if r["end"] else None, ended_by=actor.id if r["end"] else None)
            for _, p, e, r, _ in new_spells])
        sid_of = {(x.person_id, x.employer_id, x.start_date): x.id for x in conn.execute(
            select(employment.c.id, employment.c.person_id, employment.c.employer_id,
                   employment.c.start_date).where(employment.c.import_run_id == run_id))}
        for _, p, e, r, schemes in new_spells:
            sid = sid_of[(p["id"], e["id"], r["start"])]
            for scheme in schemes:
                new_enrols.append(dict(
                    person_id=p["id"], origin_person_id=p["id"], scheme=scheme,
                    region=e["region"], kind="employee", employer_id=e["id"],
                    employment_id=sid, start_date=r["start"], end_date=r["end"],
                    status="active" if r["end"] is None else "ended",
                    end_reason=(f"employment ended: {r['leave_reason'] or 'other'}"
                                if r["end"] else None),
                    source=source, import_run_id=run_id, created_at=t, created_by=actor.id))
        bulk.bulk_insert(conn, enrolment, new_enrols)
        for rn, sid, r in ends:
            conn.execute(update(employment).where(employment.c.id == sid).values(
                end_date=r["end"], leave_reason=r["leave_reason"] or "other",
                involuntary=r["involuntary"] if r["involuntary"] is not None else False,
                ended_at=t, ended_by=actor.id))
            conn.execute(update(enrolment).where(and_(
                enrolment.c.employment_id == sid, enrolment.c.end_date.is_(None))).values(
                end_date=r["end"], status="ended",
                end_reason=f"employment ended: {r['leave_reason'] or 'other'}", ended_at=t,
                ended_by=actor.id))
        audit_changes(conn, actor, "registry.employment.import", "person", run_id, sheet,
                      [(p["id"], None, {"employer_id": e["id"], "start_date": r["start"],
                                        "end_date": r["end"], "enrolled": schemes or None})
                       for _, p, e, r, schemes in new_spells]
                      + [(person_of[sid], {"employment_id": sid, "end_date": None},
                          {"employment_id": sid, "end_date": r["end"]})
                         for _, sid, r in ends])
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.employment")
    return res


