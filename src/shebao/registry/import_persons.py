"""Bulk import of persons and of household-registry (hukou) extracts; rules in
:mod:`shebao.registry.importer`."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.ids import mask_id, parse_citizen_id
from shebao.security import audit

from . import bulk, model
from .import_rows import (HUKOU_ALIASES, PERSON_ALIASES, _SEX, ImportResult, _date, _finish,
                          _Rows, audit_changes, out_of_scope, require_import)
from .fileio import read_sheet
from .service import _apply_person_change, end_open_activity
from .tables import hukou_mismatch, person, person_version


# --------------------------------------------------------------------------- persons

class _Cid:
    __slots__ = ("normalized", "error", "birth_date", "sex", "valid")

    def __init__(self, normalized, error, birth_date, sex):
        self.normalized, self.error, self.birth_date, self.sex = normalized, error, birth_date, sex
        self.valid = normalized is not None


def _person_record(rows: _Rows, rn: int, rec: dict) -> dict | None:
    n_before = len(rows.problems)
    cid = _Cid(*model.fast_citizen_id(rec.get("citizen_id")))
    if rec.get("citizen_id") is None:
        rows.add(rn, "citizen_id", None, "is required")
    elif not cid.valid:
        rows.add(rn, "citizen_id", rec["citizen_id"], f"invalid citizen ID: {cid.error}")
    name = rec.get("name")
    try:
        name = model.check_name(name, "name")
    except InputError as exc:
        rows.add(rn, "name", rec.get("name"), exc.reason)
    sex = None
    if rec.get("sex") is not None:
        sex = _SEX.get(rec["sex"].strip().lower())
        if sex is None:
            rows.add(rn, "sex", rec["sex"], "must be M/F (男/女)")
        elif cid.valid and sex != cid.sex:
            rows.add(rn, "sex", rec["sex"], f"disagrees with the citizen ID ({cid.sex})")
    birth = _date(rows, rn, rec, "birth_date")
    if birth is not None and cid.valid and birth != cid.birth_date:
        rows.add(rn, "birth_date", rec["birth_date"],
                 f"disagrees with the citizen ID ({cid.birth_date})")
    out = {"citizen_id": cid.normalized, "name": name, "sex": cid.sex,
           "birth_date": cid.birth_date}
    for col in ("hukou_region", "residence_region"):
        v = rec.get(col)
        if v is not None and not model.valid_region(v):
            rows.add(rn, col, v, "not a six-digit GB/T 2260 region code")
        out[col] = v
    phone = model.normalize_phone(rec.get("phone"))
    if not model.valid_phone(phone):
        rows.add(rn, "phone", rec.get("phone"), "not a mainland mobile number (1[3-9] + 9 digits)")
    out["phone"] = phone
    out["address"] = (rec.get("address") or None) and rec["address"][:200]
    acct = (rec.get("bank_account") or "").replace(" ", "") or None
    if not model.valid_bank_account(acct):
        rows.add(rn, "bank_account", rec.get("bank_account"), "must be 12–30 digits")
    out["bank_account"] = acct
    out["bank_name"] = rec.get("bank_name")
    ch = rec.get("notify_channels")
    if ch:
        chans = [c.strip().lower() for c in ch.replace("，", ",").split(",") if c.strip()]
        bad = [c for c in chans if c not in model.NOTIFY_CHANNELS]
        if bad:
            rows.add(rn, "notify_channels", ch, f"unknown channel(s) {bad}")
        ch = ",".join(chans)
    out["notify_channels"] = ch or None
    return out if len(rows.problems) == n_before else None


CONTACT_FIELDS = ("hukou_region", "residence_region", "phone", "address", "notify_channels",
                  "bank_name", "bank_account")


def import_persons(engine, actor: Actor, path, *, dry_run: bool = False,
                   check_duplicates: bool = True) -> ImportResult:
    """Import persons from CSV/XLSX (columns: see PERSON_ALIASES; citizen_id and name
    required). See the module docstring for the rules."""
    require_import(actor)
    sheet = read_sheet(path, PERSON_ALIASES, {"citizen_id", "name"},
                       numeric_unsafe={"citizen_id", "bank_account"})
    res = ImportResult("persons", str(sheet.path), sheet.encoding, dry_run, rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for rn, rec in rows:
        r = _person_record(rows, rn, rec)
        if r is None:
            continue
        if r["citizen_id"] in seen:
            rows.add(rn, "citizen_id", r["citizen_id"], f"repeats row {seen[r['citizen_id']]}")
            continue
        seen[r["citizen_id"]] = rn
        recs.append((rn, r))
    today = dt.date.today()
    source = f"import:{sheet.path.name}"
    with engine.begin() as conn:
        existing = bulk.fetch_by_keys(conn, person, "citizen_id", (r["citizen_id"]
                                                                  for _, r in recs))
        new, changes = [], []
        for rn, r in recs:
            cur = existing.get(r["citizen_id"])
            if cur is None:
                col = next((c for c in ("residence_region", "hukou_region") if r[c]),
                           "citizen_id")
                why = out_of_scope(actor, model.person_region(r))
                if why:
                    rows.add(rn, col, r[col] if col != "citizen_id" else mask_id(r[col]), why)
                    continue
                new.append((rn, r))
                continue
            if out_of_scope(actor, model.person_region(cur)):
                rows.add(rn, "citizen_id", mask_id(r["citizen_id"]),
                         f"this person is registered outside your scope {actor.scope}; "
                         f"not imported")
                continue
            moved = [c for c in ("residence_region", "hukou_region")
                     if r[c] and r[c] != cur[c] and out_of_scope(actor, r[c])]
            if moved:
                rows.add(rn, moved[0], r[moved[0]], out_of_scope(actor, r[moved[0]]))
                continue
            if cur["status"] == "merged":
                rows.add(rn, "citizen_id", mask_id(r["citizen_id"]),
                         f"this ID was merged into person #{cur['merged_into']}; import onto "
                         f"the surviving record")
                continue
            if cur["name"] != r["name"]:
                rows.add(rn, "name", r["name"],
                         f"citizen ID is registered under another name ({cur['name']}); a "
                         f"name correction needs a clerk and a reason")
                continue
            diff = {k: r[k] for k in CONTACT_FIELDS if r[k] is not None and r[k] != cur[k]}
            if diff:
                changes.append((cur, diff))
            else:
                res.unchanged += 1
        review: list[tuple[str, int, float, float, str]] = []
        if check_duplicates and new:
            from .dedup import check_against_registry

            verdicts = check_against_registry(conn, [r for _, r in new], today)
            kept = []
            for (rn, r), v in zip(new, verdicts):
                if v is not None and v.decision == "duplicate":
                    rows.add(rn, "*", mask_id(r["citizen_id"]),
                             f"probable duplicate of registered person #{v.person_id} "
                             f"(match probability {v.probability:.4f}); not imported — "
                             f"check with the holder of that record")
                    continue
                if v is not None and v.decision == "review":
                    review.append((r["citizen_id"], v.person_id, v.probability, v.weight,
                                   v.detail))
                kept.append((rn, r))
            new = kept
        res.inserted, res.updated = len(new), len(changes)
        res.queued_for_review = len(review)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "persons", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        ids = bulk.insert_persons(conn, actor, run_id, [r for _, r in new], source=source,
                                  valid_from=today, reason="bulk import")
        bulk.update_persons(conn, actor, run_id, changes, source=source, valid_from=today,
                            reason="bulk import: contact data changed")
        audit_changes(conn, actor, "registry.person.import", "person", run_id, sheet,
                      [(ids[r["citizen_id"]], None,
                        {k: r[k] for k in ("name", *CONTACT_FIELDS)}) for _, r in new]
                      + [(cur["id"], {k: cur[k] for k in diff}, diff) for cur, diff in changes])
        if review:
            from .dedup import queue_pairs

            queue_pairs(conn, [(ids[c], pid, p, w, d) for c, pid, p, w, d in review],
                        found_by=f"import:{run_id}")
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.persons")
    return res


# --------------------------------------------------------------------------- hukou

def import_hukou(engine, actor: Actor, path, *, dry_run: bool = False) -> ImportResult:
    """Cross-check an extract of the public-security household registry (citizen_id, name,
    sex, birth_date, hukou_region, death_date). Mismatches (name, sex, birth date, hukou
    region, not registered) are reported and stored in ``hukou_mismatch``; they never
    overwrite the registry. A death date marks the person deceased from that date (open
    spells and enrolments end on it), with the extract recorded as the source."""
    require_import(actor)
    sheet = read_sheet(path, HUKOU_ALIASES, {"citizen_id"}, numeric_unsafe={"citizen_id"})
    res = ImportResult("hukou", str(sheet.path), sheet.encoding, dry_run, rows=len(sheet.rows))
    rows = _Rows(sheet)
    recs = []
    for rn, rec in rows:
        cid = parse_citizen_id(rec.get("citizen_id"))
        if not cid.valid:
            rows.add(rn, "citizen_id", rec.get("citizen_id"), f"invalid citizen ID: {cid.error}")
            continue
        birth = _date(rows, rn, rec, "birth_date")
        death = _date(rows, rn, rec, "death_date")
        sex = None
        if rec.get("sex") is not None:
            sex = _SEX.get(rec["sex"].strip().lower())
            if sex is None:
                rows.add(rn, "sex", rec["sex"], "must be M/F (男/女)")
                continue
        if death is not None and death > dt.date.today():
            rows.add(rn, "death_date", rec["death_date"], "in the future")
            continue
        region = rec.get("hukou_region")
        if region is not None and not model.valid_region(region):
            rows.add(rn, "hukou_region", region, "not a six-digit GB/T 2260 region code")
            continue
        recs.append((rn, cid.normalized, (rec.get("name") or "").strip() or None, sex, birth,
                     region, death))
    mism: list[dict] = []
    deaths = []
    with engine.begin() as conn:
        found = bulk.fetch_by_keys(conn, person, "citizen_id", (r[1] for r in recs))
        for rn, cid, name, sex, birth, region, death in recs:
            p = found.get(cid)
            if p is None:
                why = out_of_scope(actor, region or cid[:6])
                if why:
                    rows.add(rn, "hukou_region" if region else "citizen_id",
                             region or mask_id(cid), why)
                    continue
                mism.append(dict(row=rn, citizen_id=cid, person_id=None, field="not_registered",
                                 registry_value=None, hukou_value=name))
                continue
            if p["status"] == "merged":
                p = conn.execute(select(person).where(person.c.id == p["merged_into"])
                                 ).mappings().first() or p
            if out_of_scope(actor, model.person_region(p)):
                rows.add(rn, "citizen_id", mask_id(cid), f"this person is registered outside "
                         f"your scope {actor.scope}; not imported")
                continue
            for fld, hv, rv in (("name", name, p["name"]), ("sex", sex, p["sex"]),
                                ("birth_date", birth, p["birth_date"]),
                                ("hukou_region", region, p["hukou_region"])):
                if hv is not None and hv != rv:
                    mism.append(dict(row=rn, citizen_id=cid, person_id=p["id"], field=fld,
                                     registry_value=None if rv is None else str(rv),
                                     hukou_value=str(hv)))
            if death is not None:
                if p["status"] == "deceased" and p["death_date"] == death:
                    res.unchanged += 1
                elif p["birth_date"] and death < p["birth_date"]:
                    rows.add(rn, "death_date", death, "before the birth date")
                else:
                    deaths.append((rn, p, death))
            else:
                res.unchanged += 1
        res.mismatches = [{k: (mask_id(v) if k == "citizen_id" else v) for k, v in m.items()}
                          for m in mism]
        res.deaths = len(deaths)
        res.updated = len(deaths)
        if dry_run:
            res.problems = sorted(rows.problems, key=lambda p: p.row)
            res.rejected = len(rows.bad_rows)
            conn.rollback()
            return res
        run_id = bulk.new_run(conn, actor, "hukou", str(sheet.path), sheet.sha256,
                              sheet.encoding)
        source = f"hukou:{sheet.path.name}"
        for rn, p, death in deaths:
            cur = conn.execute(select(person).where(person.c.id == p["id"])).mappings().one()
            vf = conn.execute(select(person_version.c.valid_from).where(and_(
                person_version.c.person_id == p["id"],
                person_version.c.version == cur["version"]))).scalar_one()
            _apply_person_change(conn, actor, dict(cur), {"status": "deceased",
                                                          "status_date": death,
                                                          "death_date": death},
                                 max(death, vf), "death reported by the household registry",
                                 source, run_id)
            ended = end_open_activity(conn, actor, p["id"], death, "death")
            audit.record(conn, actor, "registry.person.death", "person", p["id"],
                         fields=["status", "death_date"], purpose="household-registry extract",
                         detail={"death_date": death, "source": source, "import_run_id": run_id,
                                 "sha256": sheet.sha256, **ended})
        bulk.bulk_insert(conn, hukou_mismatch, [{**m, "import_run_id": run_id} for m in mism],
                         columns=["import_run_id", "row", "citizen_id", "person_id", "field",
                                  "registry_value", "hukou_value"])
        _finish(conn, actor, res, sheet, rows, run_id, "registry.import.hukou")
    return res

