"""Synthetic people as numpy columns: zh_CN names from faker's tables, addresses from the
region's real county names, citizen IDs from real GB/T 2260 area codes with a correct GB 11643
check character, USCCs, an age pyramid, and a share of legacy duplicates (typos, homophones,
swapped characters, transposed ID digits, changed or missing contacts).

Pure: nothing here touches a database (``bench/dedup.py`` and ``bench/import_persons.py`` use
:func:`synth_people` directly; :mod:`shebao.devtools.generate_region` writes a region from it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from shebao.core import regions

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
