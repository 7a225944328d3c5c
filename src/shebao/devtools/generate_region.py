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

:func:`synth_people` is pure (used by ``bench/dedup.py``); :func:`generate_region` writes it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from shebao.core import regions
from shebao.core.actor import Actor

_W = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))
_USCC_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --------------------------------------------------------------------------- reference data

def area_table() -> dict[str, str]:
    """Current county-level GB/T 2260 codes → names (core.regions reads stdnum's table)."""
    return regions.county_codes()


def counties_in(region: str) -> list[str]:
    table = area_table()
    if region in table:
        return [region]
    prefix = region[:2] if region.endswith("0000") else region[:4] if region.endswith("00") \
        else region
    codes = sorted(c for c in table if c.startswith(prefix))
    return codes or [region]


@lru_cache(maxsize=1)
def _faker_tables():
    from faker.providers.address.zh_CN import Provider as Addr
    from faker.providers.person.zh_CN import Provider as Person
    from faker.providers.phone_number.zh_CN import Provider as Phone

    last = list(Person.last_names.keys())
    w = np.array(list(Person.last_names.values()), dtype=float)
    return (np.array(last), w / w.sum(), np.array(Person.first_names_male),
            np.array(Person.first_names_female), [str(p) for p in Phone.phonenumber_prefixes],
            list(Addr.cities), list(Addr.districts))


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """first17: (n, 17) int array of digits → check characters."""
    return _CHECK[(first17 * _W).sum(axis=1) % 11]


def _digits(strings, width):
    b = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    return b.astype(np.int64) - 48


def build_ids(area: np.ndarray, birth: np.ndarray, sex_male: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Valid 18-character citizen IDs (area code, birth date, sequence with sex parity)."""
    n = len(area)
    seq = rng.integers(0, 500, n) * 2 + sex_male.astype(np.int64)
    ymd = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D")
    body = np.char.add(np.char.add(area.astype("U6"), np.char.replace(ymd, "-", "")),
                       np.char.zfill(seq.astype("U3"), 3))
    check = id_check_chars(_digits(body.tolist(), 17)) if n else np.array([], dtype="U1")
    return np.char.add(body, check)


def build_uscc(area: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(area)
    org = rng.integers(0, 10, (n, 8))
    w = np.array([3, 7, 9, 10, 5, 8, 4, 2])
    c9 = 11 - (org * w).sum(axis=1) % 11
    c9s = np.where(c9 == 10, "X", np.where(c9 == 11, "0", c9.astype("U2")))
    out = []
    alpha = _USCC_ALPHA
    weights = [pow(3, i, 31) for i in range(17)]
    for i in range(n):
        body = "91" + area[i] + "".join(map(str, org[i])) + c9s[i]
        total = sum(alpha.index(ch) * wt for ch, wt in zip(body, weights))
        out.append(body + alpha[(31 - total) % 31])
    return np.array(out)


# --------------------------------------------------------------------------- people

@dataclass
class People:
    """Columns of a synthetic population (numpy arrays of equal length) and the truth."""

    citizen_id: np.ndarray     # str, may be "" (missing) in bench variants
    name: np.ndarray
    sex: np.ndarray            # "M"/"F"
    birth_date: np.ndarray     # datetime64[D]; NaT = missing
    hukou_region: np.ndarray
    residence_region: np.ndarray
    phone: np.ndarray          # "" = missing
    address: np.ndarray
    bank_account: np.ndarray
    original_of: np.ndarray    # -1, or the index of the record this one duplicates

    def __len__(self):
        return len(self.name)


def _homophones():
    """Characters grouped by toneless pinyin, from faker's name tables."""
    from pypinyin import Style, lazy_pinyin

    last, _, fm, ff, *_ = _faker_tables()
    chars = sorted({c for s in list(fm) + list(ff) + list(last) for c in s})
    groups: dict[str, list[str]] = {}
    for c in chars:
        groups.setdefault(lazy_pinyin(c, style=Style.NORMAL)[0], []).append(c)
    return {c: [x for x in groups[lazy_pinyin(c, style=Style.NORMAL)[0]] if x != c]
            for c in chars}, chars


def synth_people(n: int, region: str, *, seed: int = 1, duplicate_share: float = 0.01,
                 today: dt.date | None = None, allow_missing_ids: bool = False) -> People:
    """``n`` distinct people plus ``round(n × duplicate_share)`` duplicates of some of them."""
    rng = np.random.default_rng(seed)
    today = today or dt.date.today()
    last, lw, fm, ff, prefixes, cities, districts = _faker_tables()
    counties = np.array(counties_in(region))
    names_tbl = area_table()
    allc = np.array(sorted(names_tbl))
    male = rng.random(n) < 0.51
    # age pyramid: piecewise weights by age (0–95)
    ages = np.arange(96)
    aw = np.where(ages < 18, 0.9, np.where(ages < 60, 1.3, np.where(ages < 80, 0.9, 0.25)))
    age = rng.choice(ages, n, p=aw / aw.sum())
    birth = (np.datetime64(today, "D") - (age * 365.25).astype(np.int64)
             - rng.integers(0, 365, n)).astype("datetime64[D]")
    local = rng.random(n) < 0.8
    area = np.where(local, rng.choice(counties, n), rng.choice(allc, n))
    cid = build_ids(area, birth, male, rng)
    # collisions are possible (same area, day and sequence): redraw until unique
    for _ in range(20):
        _, first = np.unique(cid, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        if len(dup) == 0:
            break
        cid[dup] = build_ids(area[dup], birth[dup], male[dup], rng)
    surname = rng.choice(last, n, p=lw)
    given = np.where(male, rng.choice(fm, n), rng.choice(ff, n))
    two = rng.random(n) < 0.55   # many given names have two characters
    given2 = np.where(male, rng.choice(fm, n), rng.choice(ff, n))
    two &= np.char.str_len(given) == 1
    given = np.where(two, np.char.add(given, np.array([g[:1] for g in given2])), given)
    name = np.char.add(surname, given)
    pre = rng.choice(np.array(prefixes), n)
    phone = np.char.add(pre, np.char.zfill(rng.integers(0, 10**8, n).astype("U8"), 8))
    phone = np.where(rng.random(n) < 0.04, "", phone)
    residence = rng.choice(counties, n)
    hukou = np.where(rng.random(n) < 0.9, area, residence)
    address = make_addresses(residence, rng)
    bank = np.where((age >= 55) | ((age >= 18) & (rng.random(n) < 0.75)),
                    np.char.add("6222", np.char.zfill(rng.integers(0, 10**15, n).astype("U15"),
                                                      15)), "")
    people = People(cid.astype(object), name.astype(object), np.where(male, "M", "F"),
                    birth, hukou, residence, phone.astype(object), address.astype(object),
                    bank.astype(object), np.full(n, -1))
    k = int(round(n * duplicate_share))
    if k:
        people = add_duplicates(people, k, rng, allow_missing_ids=allow_missing_ids)
    return people


def make_addresses(county: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from faker import Faker

    f = Faker("zh_CN")
    f.seed_instance(int(rng.integers(0, 2**31)))
    streets = np.array(sorted({f.street_name() for _ in range(600)}))
    names = area_table()
    cn = np.array([names.get(c, "") for c in county])
    n = len(county)
    num = rng.integers(1, 999, n).astype("U4")
    bld = rng.integers(1, 40, n).astype("U3")
    room = (rng.integers(1, 30, n) * 100 + rng.integers(1, 8, n)).astype("U5")
    s = np.char.add(cn, rng.choice(streets, n))
    s = np.char.add(np.char.add(s, num), "号")
    s = np.char.add(np.char.add(s, bld), "栋")
    return np.char.add(np.char.add(s, room), "室")


def _perturb_id(cid: str, rng, mode: str) -> str:
    d = list(cid)
    if mode == "transpose":
        for _ in range(10):
            i = int(rng.integers(0, 16))
            if d[i] != d[i + 1]:
                d[i], d[i + 1] = d[i + 1], d[i]
                break
    else:
        i = int(rng.integers(0, 17))
        d[i] = str((int(d[i]) + int(rng.integers(1, 10))) % 10)
    return "".join(d)


def add_duplicates(p: People, k: int, rng: np.random.Generator, *,
                   allow_missing_ids: bool) -> People:
    """Append ``k`` perturbed copies of distinct originals."""
    homo, chars = _homophones()
    n = len(p)
    src = rng.choice(n, k, replace=False)
    cols = {f: list(getattr(p, f)[src]) for f in ("citizen_id", "name", "phone", "address",
                                                 "bank_account")}
    birth = p.birth_date[src].copy()
    hukou = p.hukou_region[src].copy()
    residence = p.residence_region[src].copy()
    new_addr = make_addresses(residence, rng)
    for j in range(k):
        r = rng.random()
        nm = cols["name"][j]
        if r < 0.40:                               # homophone character (章伟 for 张伟)
            pos = [i for i, c in enumerate(nm) if homo.get(c)]
            if pos:
                i = pos[int(rng.integers(0, len(pos)))]
                alts = homo[nm[i]]
                nm = nm[:i] + alts[int(rng.integers(0, len(alts)))] + nm[i + 1:]
        elif r < 0.55:                             # typo: another character
            i = int(rng.integers(1, len(nm)))
            nm = nm[:i] + chars[int(rng.integers(0, len(chars)))] + nm[i + 1:]
        elif r < 0.65 and len(nm) == 3:            # swapped characters of the given name
            nm = nm[0] + nm[2] + nm[1]
        cols["name"][j] = nm
        r = rng.random()
        cid = cols["citizen_id"][j]
        if r < 0.35:
            cid = _perturb_id(cid, rng, "transpose")
        elif r < 0.60:
            cid = _perturb_id(cid, rng, "substitute")
        elif r < 0.70:
            cid = "" if allow_missing_ids else _perturb_id(cid, rng, "transpose")
        elif not allow_missing_ids:
            cid = _perturb_id(cid, rng, "substitute" if rng.random() < 0.5 else "transpose")
        cols["citizen_id"][j] = cid
        r = rng.random()
        if r < 0.40:
            cols["phone"][j] = "1" + str(int(rng.integers(3, 10))) + str(
                int(rng.integers(0, 10**9))).zfill(9)
        elif r < 0.55:
            cols["phone"][j] = ""
        r = rng.random()
        if r < 0.40:
            cols["address"][j] = new_addr[j]
        elif r < 0.55:
            cols["address"][j] = ""
        if allow_missing_ids and rng.random() < 0.10:
            birth[j] = np.datetime64("NaT")
    return People(
        np.concatenate([p.citizen_id, np.array(cols["citizen_id"], dtype=object)]),
        np.concatenate([p.name, np.array(cols["name"], dtype=object)]),
        np.concatenate([p.sex, p.sex[src]]),
        np.concatenate([p.birth_date, birth]),
        np.concatenate([p.hukou_region, hukou]),
        np.concatenate([p.residence_region, residence]),
        np.concatenate([p.phone, np.array(cols["phone"], dtype=object)]),
        np.concatenate([p.address, np.array(cols["address"], dtype=object)]),
        np.concatenate([p.bank_account, np.array(cols["bank_account"], dtype=object)]),
        np.concatenate([p.original_of, src]))


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
