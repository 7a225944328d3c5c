"""Synthetic region: ``shebao generate --people N --employers M --region CODE``.

Everything is drawn with numpy from a seeded generator (no per-person Python objects in the
hot path, no per-row database round trips): zh_CN surnames (weighted by frequency) and given
names from faker's tables, addresses built from the region's real county names and faker
street names, citizen IDs built from real GB/T 2260 area codes (python-stdnum's table, not
``faker.ssn()``) with a correct GB 11643 check character, a plausible age pyramid, log-normal
wages in integer fen, employers across GB/T 4754 industries (risk class from the rules) and
floating tiers, employees with current and past spells (some involuntary), flexible workers,
urban–rural residents, students, retirees, some deceased, and a share of legacy duplicates
(typos, homophones, swapped characters, transposed ID digits, changed or missing contacts).

The people themselves come from :mod:`shebao.devtools.synthetic_people` (pure); this module writes them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from shebao.core.actor import Actor
from shebao.devtools.synthetic_people import build_uscc, counties_in, synth_people


# --------------------------------------------------------------------------- writing

@dataclass
class GenerateResult:
    region: str
    persons: int
    duplicates: int
    deceased: int
    employers: int
    spells: int
    enrolments: int
    seconds: float

    def as_json(self) -> dict:
        return dict(self.__dict__)


_INDUSTRY_WEIGHTS = {  # rough shares of employers by division group (synthetic)
    "51": 8, "52": 10, "62": 6, "61": 2, "65": 5, "64": 3, "72": 6, "74": 3, "70": 3,
    "66": 1, "68": 1, "82": 2, "83": 2, "47": 3, "48": 2, "49": 2, "50": 3, "54": 3,
    "58": 2, "59": 1, "13": 2, "14": 2, "17": 1, "18": 2, "26": 1, "29": 2, "30": 1,
    "33": 2, "34": 2, "36": 1, "38": 2, "39": 3, "06": 0.3, "08": 0.2, "25": 0.2, "44": 0.5,
    "79": 3, "81": 2, "87": 1, "89": 1, "01": 1, "04": 0.3, "02": 0.3,
}


def generate_region(engine, actor: Actor, *, people: int, employers: int, region: str,
                    seed: int = 1, duplicate_share: float = 0.01,
                    today: dt.date | None = None, progress=None) -> GenerateResult:
    """Build a synthetic region in the registry (bulk writes in one transaction)."""
    import time

    from shebao.core.errors import InputError
    from shebao.rules.loader import load_rules
    from shebao.security import audit

    from shebao.registry import bulk
    from shebao.registry.model import EMPLOYEE_SCHEMES
    from shebao.registry.tables import employment, enrolment

    t0 = time.perf_counter()
    if not re.fullmatch(r"\d{6}", str(region)):
        raise InputError("not a six-digit GB/T 2260 region code", field="region", value=region)
    if people < 1 or employers < 1:
        raise InputError("need at least one person and one employer", field="people")
    today = today or dt.date.today()
    rng = np.random.default_rng(seed + 7)
    counties = np.array(counties_in(region))
    rules = load_rules()
    risk = rules.value("registry.industry_risk_class", region, today)
    tiers = rules.value("registry.injury_float_tiers", region, today)

    # employers
    divs = np.array(list(_INDUSTRY_WEIGHTS))
    w = np.array(list(_INDUSTRY_WEIGHTS.values()), dtype=float)
    ind = rng.choice(divs, employers, p=w / w.sum())
    e_area = rng.choice(counties, employers)
    uscc = build_uscc(e_area, rng)
    from faker import Faker

    fk = Faker("zh_CN")
    fk.seed_instance(seed)
    cos = [fk.company() for _ in range(min(employers, 3000))]
    emp_recs = []
    seen_uscc = set()
    for i in range(employers):
        if uscc[i] in seen_uscc:
            continue
        seen_uscc.add(uscc[i])
        rc = int(risk[ind[i]])
        allowed = [int(x) for x in tiers[rc]]
        pw = np.array([3 if t == 100 else 1 for t in allowed], dtype=float)
        emp_recs.append(dict(
            uscc=str(uscc[i]), name=(cos[i % len(cos)] + (f"{i // len(cos)}分公司"
                                                      if i >= len(cos) else ""))[:120],
            region=str(e_area[i]), industry_code=str(ind[i]), risk_class=rc,
            float_tier_pct=int(rng.choice(allowed, p=pw / pw.sum())), bank_name="中国工商银行",
            bank_account="9558" + str(int(rng.integers(0, 10**15))).zfill(15),
            status="active"))

    pop = synth_people(people, region, seed=seed, duplicate_share=duplicate_share, today=today)
    n_all = len(pop)
    is_dup = pop.original_of >= 0
    birth = pop.birth_date
    age = ((np.datetime64(today, "D") - birth).astype(np.int64) / 365.25).astype(np.int64)
    male = pop.sex == "M"
    retire_age = np.where(male, 60, 55)
    # deaths: mostly the old, 0.5 % overall
    dead = (~is_dup) & (rng.random(n_all) < np.where(age >= 70, 0.03, 0.001))
    death = (np.datetime64(today, "D") - rng.integers(1, 5 * 365, n_all)).astype(
        "datetime64[D]")
    death = np.where(death > birth, death, np.datetime64(today, "D"))
    # roles of the living originals
    working = (~is_dup) & (~dead) & (age >= 18) & (age < retire_age)
    u = rng.random(n_all)
    employee = working & (u < 0.62)
    flexible = working & (u >= 0.62) & (u < 0.72)
    resident_adult = (~is_dup) & (~dead) & (age >= 18) & ~employee & ~flexible & \
        ~((age >= 18) & (age < retire_age) & (u < 0.72))
    retiree = (~is_dup) & (~dead) & (age >= retire_age) & (rng.random(n_all) < 0.6)
    resident_adult &= ~retiree
    student = (~is_dup) & (~dead) & (age >= 6) & (age < 18)
    child = (~is_dup) & (~dead) & (age < 6)

    source = f"generate:seed={seed}"
    with engine.begin() as conn:
        from shebao.registry.queries import last_enrolment_id

        mark = last_enrolment_id(conn)
        run_id = bulk.new_run(conn, actor, "generate", f"generate {region}", f"seed-{seed}",
                              None)
        eids = bulk.insert_employers(conn, actor, run_id, emp_recs, source=source,
                                     valid_from=today, reason="synthetic region")
        emp_id = np.array([eids[r["uscc"]] for r in emp_recs])
        emp_region = np.array([r["region"] for r in emp_recs])
        # a few large employers, many small (Zipf-like)
        ew = 1.0 / np.arange(1, len(emp_id) + 1) ** 0.8
        ew = ew / ew.sum()
        recs = []
        bd = birth.astype(object)
        dd = death.astype(object)
        L = {f: getattr(pop, f).tolist() for f in ("citizen_id", "name", "sex", "hukou_region",
                                                   "residence_region", "phone", "address",
                                                   "bank_account")}
        dead_l = dead.tolist()
        for i in range(n_all):
            recs.append(dict(
                citizen_id=L["citizen_id"][i], name=L["name"][i], sex=L["sex"][i],
                birth_date=bd[i], hukou_region=L["hukou_region"][i],
                residence_region=L["residence_region"][i], pension_region=None,
                phone=L["phone"][i] or None, address=L["address"][i] or None,
                notify_channels="sms" if L["phone"][i] else "post",
                bank_name="中国工商银行" if L["bank_account"][i] else None,
                bank_account=L["bank_account"][i] or None,
                status="deceased" if dead_l[i] else "active",
                status_date=dd[i] if dead_l[i] else None,
                death_date=dd[i] if dead_l[i] else None, merged_into=None))
        # legacy duplicates: stored as they came (their sex/birth date need not match the ID)
        pids = bulk.insert_persons(conn, actor, run_id, recs, source=source, valid_from=today,
                                   reason="synthetic region")
        pid = np.array([pids[r["citizen_id"]] for r in recs])
        t = dt.datetime.now(dt.timezone.utc)
        spells, enrols = [], []
        n_enrols = 0
        pension_at: dict[int, str] = {}

        def add_enrol(i, scheme, kind, region_code, start, end, employer_id=None, spell=None,
                      end_reason=None):
            enrols.append(dict(
                person_id=int(pid[i]), origin_person_id=int(pid[i]), scheme=scheme,
                region=str(region_code), kind=kind, employer_id=employer_id, employment_id=spell,
                start_date=start, end_date=end, status="active" if end is None else "ended",
                end_reason=end_reason, source=source, import_run_id=run_id, created_at=t,
                created_by=actor.id))
            if scheme in ("pension", "resident_pension") and end is None:
                pension_at[int(pid[i])] = str(region_code)
            if len(enrols) >= 200_000:      # bounded memory: flush in chunks
                flush()

        def flush():
            nonlocal n_enrols
            bulk.bulk_insert(conn, enrolment, enrols)
            n_enrols += len(enrols)
            enrols.clear()

        idx_emp = np.flatnonzero(employee | retiree)
        pick = rng.choice(len(emp_id), len(idx_emp), p=ew)
        prev_pick = rng.choice(len(emp_id), len(idx_emp), p=ew)
        has_prev = rng.random(len(idx_emp)) < 0.25
        wage = np.clip(np.exp(rng.normal(np.log(750_000), 0.55, len(idx_emp))), 200_000,
                       20_000_000).astype(np.int64)
        reasons = np.array(["resignation", "contract_end", "dismissal", "bankruptcy",
                            "mutual_agreement"])
        from shebao.registry.model import LEAVE_REASONS

        spell_rows = []
        for j, i in enumerate(idx_emp):
            b = bd[i]
            adult = dt.date(b.year + 18, b.month, min(b.day, 28))
            if retiree[i]:
                ret = dt.date(b.year + int(retire_age[i]), b.month, min(b.day, 28))
                start = max(adult, ret - dt.timedelta(days=int(rng.integers(8, 35)) * 365))
                spell_rows.append((i, int(emp_id[pick[j]]), emp_region[pick[j]], start, ret,
                                   "retirement", False, None, None))
                continue
            start = today - dt.timedelta(days=int(rng.integers(30, 12 * 365)))
            start = max(start, adult)
            if has_prev[j] and prev_pick[j] != pick[j]:
                p_end = start - dt.timedelta(days=int(rng.integers(1, 200)))
                p_start = p_end - dt.timedelta(days=int(rng.integers(200, 2000)))
                if p_start > adult:
                    r = str(rng.choice(reasons))
                    spell_rows.append((i, int(emp_id[prev_pick[j]]), emp_region[prev_pick[j]],
                                       p_start, p_end, r, LEAVE_REASONS[r], None, None))
            spell_rows.append((i, int(emp_id[pick[j]]), emp_region[pick[j]], start, None, None,
                               None, int(wage[j]), today.year - 1))
        for (i, e, _, s, en, r, inv, wf, wy) in spell_rows:
            spells.append(dict(person_id=int(pid[i]), origin_person_id=int(pid[i]),
                               employer_id=e, start_date=s, end_date=en, leave_reason=r,
                               involuntary=inv, wage_fen=wf, wage_year=wy, source=source,
                               import_run_id=run_id, created_at=t, created_by=actor.id,
                               ended_at=t if en else None, ended_by=actor.id if en else None))
        bulk.bulk_insert(conn, employment, spells)
        from sqlalchemy import select

        sid = {(r.person_id, r.employer_id, r.start_date): r.id for r in conn.execute(
            select(employment.c.id, employment.c.person_id, employment.c.employer_id,
                   employment.c.start_date).where(employment.c.import_run_id == run_id))}
        for (i, e, reg, s, en, r, inv, wf, wy) in spell_rows:
            for scheme in EMPLOYEE_SCHEMES:
                add_enrol(i, scheme, "employee", reg, s, en, e, sid[(int(pid[i]), e, s)],
                          None if en is None else f"employment ended: {r}")
        for i in np.flatnonzero(flexible):
            s = today - dt.timedelta(days=int(rng.integers(30, 8 * 365)))
            b = bd[i]
            s = max(s, dt.date(b.year + 18, b.month, min(b.day, 28)))
            for scheme in ("pension", "medical"):
                add_enrol(i, scheme, "flexible", L["residence_region"][i], s, None)
        for i in np.flatnonzero(resident_adult):
            b = bd[i]
            s = max(dt.date(2014, 1, 1), dt.date(b.year + 18, b.month, min(b.day, 28)))
            add_enrol(i, "resident_pension", "resident", L["residence_region"][i], s, None)
            add_enrol(i, "resident_medical", "resident", L["residence_region"][i],
                      dt.date(today.year, 1, 1), None)
        for i in np.flatnonzero(student):
            add_enrol(i, "resident_medical", "student", L["residence_region"][i],
                      dt.date(today.year, 1, 1), None)
        for i in np.flatnonzero(child):
            add_enrol(i, "resident_medical", "resident", L["residence_region"][i],
                      dt.date(today.year, 1, 1), None)
        flush()
        if pension_at:
            from sqlalchemy import bindparam, update

            from shebao.registry.tables import person, person_version

            upd = [{"p": k, "r": v} for k, v in pension_at.items()]
            conn.execute(update(person).where(person.c.id == bindparam("p"))
                         .values(pension_region=bindparam("r")), upd)
            conn.execute(update(person_version).where(
                (person_version.c.person_id == bindparam("p")) & (person_version.c.version == 1))
                .values(pension_region=bindparam("r")), upd)
        from shebao.collection.enrolment import open_accounts   # as enrolment does (#19)

        open_accounts(conn, actor, after_id=mark)
        res = GenerateResult(region, int(n_all), int(is_dup.sum()), int(dead.sum()),
                             len(emp_recs), len(spells), n_enrols,
                             round(time.perf_counter() - t0, 2))
        bulk.finish_run(conn, run_id, rows=n_all, inserted=n_all)
        audit.record(conn, actor, "registry.generate", "registry", run_id,
                     detail={**res.as_json(), "seed": seed})
        return res


def demo_region(engine, *, region: str, people: int, employers: int, seed: int = 1) -> str:
    """Used by ``shebao demo`` (``make demo``): generate a region, return a one-line summary."""
    from shebao.core.actor import SYSTEM

    r = generate_region(engine, SYSTEM, people=people, employers=employers, region=region,
                        seed=seed)
    return (f"{r.persons} persons ({r.duplicates} legacy duplicates, {r.deceased} deceased), "
            f"{r.employers} employers, {r.spells} employment spells, {r.enrolments} "
            f"enrolments in {r.seconds:.1f} s")
