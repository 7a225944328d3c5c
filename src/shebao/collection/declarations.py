"""Base declarations: what each payer's base is and why (one audited action each).

``bind`` is an Engine (own transaction) or a Connection (joins the caller's). Money is integer
fen.

Declarations take effect on the region's adjustment date
(``collection.base_adjustment_month``): a wage declared for year Y applies from the first day
of that month of Y. The base is the wage clamped to the floor/ceiling in force on that date;
the declaration row keeps the wage, the base, the limits and the reason in words, so the payer
sees why a base differs from the wage. A new declaration for the same person × payer × year
supersedes the previous one (kept, with ``superseded_by``).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, select, text

from shebao.core import csvsafe
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.core.money import fen_to_yuan_str, parse_decimal, to_fen
from shebao.core.periods import month_str
from shebao.db.bulk import json_list, json_rows_sql
from shebao.db.uow import now, transaction
from shebao.registry import queries as registry
from shebao.rules.formulas.contribution import clamp_base
from shebao.rules.loader import load_rules
from shebao.security import audit, policy
from shebao.security.audit_appender import record_read

from . import model
from .tables import base_declaration, declaration_upload


def _limits(region: str, on: dt.date) -> tuple[int, int]:
    rules = load_rules()
    return (to_fen(rules.value("contribution.base.floor", region, on)),
            to_fen(rules.value("contribution.base.ceiling", region, on)))


def effective_date(region: str, year: int) -> dt.date:
    m = int(load_rules().value("collection.base_adjustment_month", region, dt.date(year, 1, 1)))
    return model.declaration_effective(year, m)


def parse_yuan(value, *, field: str, file: str | None = None, row: int | None = None) -> int:
    """A decimal amount in yuan (at most 2 decimals, not negative) → fen; refuses anything else."""
    s = str(value if value is not None else "").strip().replace(",", "")
    try:
        d = parse_decimal(s)
    except ValueError:
        raise InputError(f"amount {value!r} does not parse as a decimal number of yuan "
                         f"(ASCII digits)", field=field, file=file, row=row, value=value) from None
    if d < 0 or d.as_tuple().exponent < -2:
        raise InputError(f"amount {value!r} must be a non-negative number of yuan with at most "
                         f"2 decimals", field=field, file=file, row=row, value=value)
    return to_fen(d)


def _check_employer_actor(actor: Actor, employer_id: int) -> None:
    if actor.role == "employer" and actor.employer_id != employer_id:
        raise PermissionDenied("an employer may declare and view only its own employees")
    if actor.role == "citizen":
        raise PermissionDenied("citizens cannot declare wages for an employer")


def _employee_of(conn, person_id: int, employer_id: int, on: dt.date) -> str:
    """The employer's region if the person has an employee enrolment with it around ``on``."""
    region = registry.employee_region(conn, person_id, employer_id, on)
    if region is None:
        raise InputError(f"person {person_id} is not an insured employee of employer "
                         f"{employer_id} on {on}", field="person_id", value=person_id)
    return region


def _supersede(conn, kind: str, person_ids) -> None:
    """Mark older current declarations of the same person × kind × payer × year superseded,
    for the persons ``person_ids``."""
    conn.execute(text(f"""
UPDATE base_declaration SET superseded_by = (
  SELECT MAX(n.id) FROM base_declaration n
  WHERE n.person_id = base_declaration.person_id AND n.kind = base_declaration.kind
    AND COALESCE(n.employer_id, 0) = COALESCE(base_declaration.employer_id, 0)
    AND n.year = base_declaration.year AND n.id > base_declaration.id)
WHERE superseded_by IS NULL AND kind = :kind
  AND person_id IN (SELECT CAST(value AS BIGINT) FROM {json_rows_sql(conn)})
  AND EXISTS (SELECT 1 FROM base_declaration n
    WHERE n.person_id = base_declaration.person_id AND n.kind = base_declaration.kind
      AND COALESCE(n.employer_id, 0) = COALESCE(base_declaration.employer_id, 0)
      AND n.year = base_declaration.year AND n.id > base_declaration.id)"""),
                 {"kind": kind, "vals": json_list(sorted({int(p) for p in person_ids}))})


@dataclass
class Declared:
    id: int
    person_id: int
    effective_from: dt.date
    wage_fen: int
    base_fen: int
    clamp: int
    reason: str

    def as_dict(self) -> dict:
        return {"id": self.id, "person_id": self.person_id,
                "effective_from": self.effective_from.isoformat(),
                "wage": fen_to_yuan_str(self.wage_fen), "base": fen_to_yuan_str(self.base_fen),
                "clamp": model.CLAMP[self.clamp], "reason": self.reason}


def declare_wage(bind, actor: Actor, *, person_id: int, employer_id: int, year: int,
                 wage_fen: int, source: str = "form") -> Declared:
    """An employer declares one employee's previous-year average monthly wage (the form)."""
    _check_employer_actor(actor, employer_id)
    if isinstance(wage_fen, bool) or not isinstance(wage_fen, int) or wage_fen < 0:
        raise InputError("wage must be a non-negative integer number of fen", field="wage",
                         value=wage_fen)
    if not 1990 <= int(year) <= 2100:
        raise InputError("year out of range", field="year", value=year)
    with transaction(bind) as conn:
        region = _employee_of(conn, person_id, employer_id, dt.date(year, 1, 1))
        eff = effective_date(region, year)
        floor, ceiling = _limits(region, eff)
        base, how = clamp_base(np.array([wage_fen]), floor, ceiling)
        base, how = int(base[0]), int(how[0])
        reason = model.clamp_reason(wage_fen, base, floor, ceiling, how) + f" (from {eff})"
        did = conn.execute(base_declaration.insert().values(
            region=region, kind="employee", person_id=person_id, employer_id=employer_id,
            year=year, effective_from=eff, wage_fen=wage_fen, base_fen=base, floor_fen=floor,
            ceiling_fen=ceiling, clamp=how, reason=reason, source=source,
            declared_by=actor.id, declared_at=now())).inserted_primary_key[0]
        _supersede(conn, "employee", [person_id])
        audit.record(conn, actor, "collection.declare_wage", "person", person_id,
                     fields=["wage"], detail={"employer_id": employer_id, "year": year,
                                              "effective_from": eff, "base_fen": base,
                                              "clamp": how})
        return Declared(did, person_id, eff, wage_fen, base, how, reason)


def declare_for_employer(engine, actor: Actor, employer_id: int, citizen_id: str, year: int,
                         wage_fen: int) -> dict:
    """A wage declaration for one employee named by citizen ID (the employer itself, or a
    clerk whose scope holds the employer)."""
    from shebao.registry.service import resolve_person_id

    from .access import require_employer

    policy.require(actor, "declaration.write")
    with engine.connect() as conn:
        require_employer(conn, actor, employer_id)
        pid = resolve_person_id(conn, citizen_id)
    if pid is None:
        raise InputError("no registered person with this citizen ID", field="citizen_id")
    return declare_wage(engine, actor, person_id=pid, employer_id=employer_id, year=year,
                        wage_fen=wage_fen, source="web").as_dict()


def choose_flexible_base(bind, actor: Actor, *, person_id: int, month: dt.date,
                         base_fen: int) -> Declared:
    """A flexible worker chooses a base between the floor and ceiling in force (from ``month``)."""
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen may choose only their own base")
    month = month.replace(day=1)
    if isinstance(base_fen, bool) or not isinstance(base_fen, int):
        raise InputError("base must be an integer number of fen", field="base", value=base_fen)
    with transaction(bind) as conn:
        region = registry.enrolment_region(conn, person_id, "flexible", "pension", month)
        if region is None:
            raise InputError(f"person {person_id} is not enrolled as a flexible worker",
                             field="person_id", value=person_id)
        floor, ceiling = _limits(region, month)
        if not floor <= base_fen <= ceiling:
            raise InputError(f"base {fen_to_yuan_str(base_fen)} is outside the limits in force "
                             f"on {month}: choose between {fen_to_yuan_str(floor)} and "
                             f"{fen_to_yuan_str(ceiling)}", field="base", value=base_fen)
        reason = (f"chosen base {fen_to_yuan_str(base_fen)} within [{fen_to_yuan_str(floor)}, "
                  f"{fen_to_yuan_str(ceiling)}] (from {month})")
        did = conn.execute(base_declaration.insert().values(
            region=region, kind="flexible", person_id=person_id, year=month.year,
            effective_from=month, chosen_fen=base_fen, base_fen=base_fen, floor_fen=floor,
            ceiling_fen=ceiling, clamp=0, reason=reason, source="form",
            declared_by=actor.id, declared_at=now())).inserted_primary_key[0]
        audit.record(conn, actor, "collection.choose_flexible_base", "person", person_id,
                     detail={"month": month_str(month), "base_fen": base_fen})
        return Declared(did, person_id, month, base_fen, base_fen, 0, reason)


def choose_resident_tier(bind, actor: Actor, *, person_id: int, year: int,
                         tier_yuan: int) -> Declared:
    """A resident chooses the year's contribution tier from ``resident.pension_tiers``."""
    if actor.role == "citizen" and actor.person_id != person_id:
        raise PermissionDenied("a citizen may choose only their own tier")
    with transaction(bind) as conn:
        region = registry.enrolment_region(conn, person_id, "resident", model.RESIDENT_SCHEME,
                                           dt.date(year, 1, 1))
        if region is None:
            raise InputError(f"person {person_id} is not enrolled in the resident pension",
                             field="person_id", value=person_id)
        eff = dt.date(year, 1, 1)
        tiers = [int(t) for t in load_rules().value("resident.pension_tiers", region, eff)["tiers"]]
        if int(tier_yuan) not in tiers:
            raise InputError(f"tier {tier_yuan} is not one of the tiers in force: {tiers}",
                             field="tier", value=tier_yuan)
        fen = int(tier_yuan) * 100
        reason = f"tier {tier_yuan} yuan per year chosen for {year}"
        did = conn.execute(base_declaration.insert().values(
            region=region, kind="resident", person_id=person_id, year=year, effective_from=eff,
            chosen_fen=fen, base_fen=fen, clamp=0, reason=reason, source="form",
            declared_by=actor.id, declared_at=now())).inserted_primary_key[0]
        _supersede(conn, "resident", [person_id])
        audit.record(conn, actor, "collection.choose_resident_tier", "person", person_id,
                     detail={"year": year, "tier_yuan": int(tier_yuan)})
        return Declared(did, person_id, eff, fen, fen, 0, reason)


# --------------------------------------------------------------------------- file upload

DECLARATION_COLUMNS = ("citizen_id", "uscc", "wage")


@dataclass
class UploadReport:
    file: str
    rows: int
    accepted: int
    problems: list[dict] = field(default_factory=list)
    dry_run: bool = True
    error_file: str | None = None
    clamped: int = 0

    def as_dict(self) -> dict:
        return {"file": self.file, "rows": self.rows, "accepted": self.accepted,
                "rejected": len({p["row"] for p in self.problems}), "clamped": self.clamped,
                "dry_run": self.dry_run, "error_file": self.error_file,
                "problems": self.problems[:200]}


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            txt = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("file is neither UTF-8 nor GB18030", file=str(path))
    rows = list(csv.reader(io.StringIO(txt)))
    if not rows:
        raise InputError("file is empty", file=str(path))
    return [h.strip() for h in rows[0]], rows[1:]


def upload_declarations(bind, actor: Actor, path, *, year: int,
                        dry_run: bool = False) -> UploadReport:
    """Wage declarations from a CSV file: ``citizen_id,uscc,wage`` (wage in yuan).

    Every row is checked (known person, known employer, an employee of it, the wage parses);
    a dry run reports every problem and writes nothing; a real run writes the valid rows in
    bulk and the rejected rows with their reasons to ``<file>.errors.csv`` beside the input.
    """
    path = Path(path)
    fname = str(path)
    header, rows = _read_csv(path)
    missing = [c for c in DECLARATION_COLUMNS if c not in header]
    unknown = [c for c in header if c not in DECLARATION_COLUMNS + ("name", "note")]
    if missing or unknown:
        raise InputError(f"columns must be {', '.join(DECLARATION_COLUMNS)} (optional name, "
                         f"note); missing {missing}, unknown {unknown}", file=fname, row=1,
                         field=(missing or unknown)[0])
    ix = {c: header.index(c) for c in DECLARATION_COLUMNS}
    problems: list[dict] = []

    def bad(rowno, fld, value, reason):
        problems.append({"row": rowno, "field": fld, "value": value, "reason": reason})

    parsed = []
    nrows = 0
    for i, r in enumerate(rows, start=2):
        if not any(c.strip() for c in r):
            continue
        nrows += 1
        if len(r) != len(header):
            bad(i, "*", None, f"{len(r)} fields, expected {len(header)}")
            continue
        cid, uscc, wage = (r[ix[c]].strip() for c in DECLARATION_COLUMNS)
        try:
            w = parse_yuan(wage, field="wage", file=fname, row=i)
        except InputError as exc:
            bad(i, "wage", wage, exc.reason)
            continue
        parsed.append((i, cid.upper(), uscc.upper(), w))
    with transaction(bind) as conn:
        cids = sorted({p[1] for p in parsed})
        usccs = sorted({p[2] for p in parsed})
        persons = registry.person_ids_by_citizen_id(conn, cids)
        employers = registry.employer_ids_by_uscc(conn, usccs)
        pairs = registry.employee_pairs(conn, [persons[p[1]] for p in parsed if p[1] in persons],
                                        dt.date(year, 1, 1))
        good = []
        seen = {}
        for i, cid, uscc, w in parsed:
            pid, eid = persons.get(cid), employers.get(uscc)
            if pid is None:
                bad(i, "citizen_id", cid, "unknown person (not in the registry)")
            elif eid is None:
                bad(i, "uscc", uscc, "unknown employer (not in the registry)")
            elif (pid, eid) not in pairs:
                bad(i, "citizen_id", cid, f"not an insured employee of {uscc} in {year}")
            elif (pid, eid) in seen:
                bad(i, "citizen_id", cid, f"declared twice in this file (also row {seen[(pid, eid)]})")
            else:
                if actor.role == "employer" and actor.employer_id != eid:
                    bad(i, "uscc", uscc, "an employer may declare only its own employees")
                    continue
                seen[(pid, eid)] = i
                good.append((pid, eid, w, pairs[(pid, eid)]))
        rep = UploadReport(fname, nrows, len(good), sorted(problems, key=lambda p: p["row"]),
                           dry_run)
        if good:
            arr = np.array([(g[0], g[1], g[2]) for g in good], dtype=np.int64)
            regions = np.array([g[3] for g in good])
        else:
            arr, regions = np.zeros((0, 3), np.int64), np.array([], dtype=str)
        clamped = 0
        groups = {}
        for reg in sorted(set(regions.tolist())):
            sel = regions == reg
            eff = effective_date(reg, year)
            floor, ceiling = _limits(reg, eff)
            base, how = clamp_base(arr[sel, 2], floor, ceiling)
            clamped += int(np.count_nonzero(how))
            groups[reg] = (sel, base, how, eff, floor, ceiling)
        rep.clamped = clamped
        if not dry_run and problems:
            err = path.with_name(path.name + ".errors.csv")
            with err.open("w", newline="", encoding="utf-8") as fh:
                w = csvsafe.writer(fh)
                w.writerow(["row", "field", "value", "reason"])
                for p in rep.problems:
                    w.writerow([p["row"], p["field"], p["value"], p["reason"]])
            rep.error_file = str(err)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if dry_run:
            audit.record(conn, actor, "collection.upload_declarations.dry_run",
                         "declaration_upload", None, detail={"file": path.name, "sha256": sha,
                                                             **{k: v for k, v in rep.as_dict().items() if k != "problems"}})
            return rep
        uid = conn.execute(declaration_upload.insert().values(
            file_name=path.name, file_sha256=sha, region=str(regions[0]) if len(regions) else "",
            year=year, dry_run=0, rows=rep.rows, accepted=rep.accepted,
            rejected=len({p["row"] for p in problems}), error_file=rep.error_file,
            actor=actor.id, at=now())).inserted_primary_key[0]
        t = now()
        for reg, (sel, base, how, eff, floor, ceiling) in groups.items():
            wages = arr[sel, 2]
            reasons = [model.clamp_reason(int(w), int(b), floor, ceiling, int(h)) + f" (from {eff})"
                       for w, b, h in zip(wages.tolist(), base.tolist(), how.tolist())]
            conn.execute(base_declaration.insert(), [
                {"region": reg, "kind": "employee", "person_id": int(p), "employer_id": int(e),
                 "year": year, "effective_from": eff, "wage_fen": int(w), "base_fen": int(b),
                 "floor_fen": floor, "ceiling_fen": ceiling, "clamp": int(h), "reason": rs,
                 "source": f"file:{path.name}", "upload_id": uid, "declared_by": actor.id,
                 "declared_at": t}
                for p, e, w, b, h, rs in zip(arr[sel, 0].tolist(), arr[sel, 1].tolist(),
                                             wages.tolist(), base.tolist(), how.tolist(),
                                             reasons)])
        _supersede(conn, "employee", arr[:, 0].tolist())
        audit.record(conn, actor, "collection.upload_declarations", "declaration_upload", uid,
                     detail={"file": path.name, "sha256": sha, "year": year,
                             "accepted": rep.accepted, "rejected": len(problems),
                             "clamped": clamped})
        return rep


_OF_PERSON = (select(base_declaration).where(base_declaration.c.person_id == bindparam("p"))
              .order_by(base_declaration.c.effective_from.desc(),
                        base_declaration.c.id.desc()))             # built once (each page)


def declarations(bind, actor: Actor, person_id: int) -> list[dict]:
    """A person's declarations, newest first, with the reason for each base (audited read)."""
    with transaction(bind) as conn:
        rows = conn.execute(_OF_PERSON, {"p": person_id}).mappings().all()
        if actor.role == "employer":
            rows = [r for r in rows if r["employer_id"] == actor.employer_id]
        if actor.role == "citizen" and actor.person_id != person_id:
            raise PermissionDenied("a citizen may see only their own declarations")
        record_read(bind, conn, actor, "collection.declarations.read", "person", person_id,
                    purpose="view declared bases")
        return [{"id": r["id"], "kind": r["kind"], "year": r["year"],
                 "employer_id": r["employer_id"],
                 "effective_from": r["effective_from"].isoformat() if hasattr(
                     r["effective_from"], "isoformat") else str(r["effective_from"]),
                 "wage": fen_to_yuan_str(r["wage_fen"] if r["wage_fen"] is not None
                                         else r["chosen_fen"]),
                 "base": fen_to_yuan_str(r["base_fen"]), "clamp": model.CLAMP[r["clamp"]],
                 "reason": r["reason"], "current": r["superseded_by"] is None,
                 "source": r["source"]} for r in rows]
