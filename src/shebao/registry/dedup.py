"""Duplicate detection: probabilistic record linkage (splink 5 on DuckDB).

Fields compared (Fellegi–Sunter; m/u probabilities below are the model, set by hand from the
duplicate-generating processes the registry sees and checked by ``bench/dedup.py``):

* citizen ID: equal; one substitution or one adjacent transposition (Damerau–Levenshtein ≤ 1,
  i.e. a typo: the GB 11643 check character always catches one of those, so at least one of
  the two is invalid); **both valid and different** (strong evidence of two people: twins,
  siblings sharing an address and phone); otherwise different;
* name: same characters; same toneless pinyin (张伟/章伟/"Zhang Wei"); the same characters
  in another order (盖志强/盖强志); similar pinyin (Jaro–Winkler ≥ 0.88) or one character
  changed; different;
* birth date: equal; one digit changed or transposed; different;
* sex, phone, address (equal / Jaro–Winkler ≥ 0.9), household-registration region.

Blocking (a pair is scored only if it agrees on one of these, so the work grows with the
population, not its square): ID; five ID fragments (area+birth date; birth date+sequence;
area+day+sequence; area+birth month+last four; recorded birth date+last four) — a single typo
leaves at least one intact; pinyin+birth date; surname character+birth date; phone; address.
Values shared by too many records (placeholder phones, collective addresses) are blanked
before blocking.

Decision: match probability ≥ ``registry.dedup_threshold_upper`` → duplicate (merged);
≥ ``registry.dedup_threshold_lower`` → review queue; below → distinct.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import model

log = logging.getLogger(__name__)

COMMON_VALUE_LIMIT = 25          # phones/addresses shared by more records are blanked
EXPECTED_DUPLICATE_SHARE = 0.01  # prior: about 1 record in 100 duplicates another
MIN_PRIOR_POPULATION = 100_000   # below this size the prior is that of a 100k-person region,
                                 # so a pair means the same on a small test set as in a county

_W = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def valid_ids(cids: list[str | None]) -> np.ndarray:
    """Vectorised GB 11643 check: True where the 18-character ID is well formed and its check
    character matches."""
    n = len(cids)
    buf = np.frombuffer("".join((c if c and len(c) == 18 else "#" * 18)
                                for c in cids).encode("ascii", "replace"),
                        dtype=np.uint8).reshape(n, 18) if n else np.zeros((0, 18), np.uint8)
    digits = buf[:, :17].astype(np.int64) - 48
    ok = np.all((digits >= 0) & (digits <= 9), axis=1)
    s = (np.clip(digits, 0, 9) * _W).sum(axis=1) % 11
    return ok & (_CHECK[s] == buf[:, 17])


def prepare(unique_id, citizen_id, name, birth_date, sex, phone, address, hukou_region
            ) -> pa.Table:
    """Columns (lists/arrays of equal length) → the linkage input table."""
    names = list(name)
    py_cache: dict = {}
    name_py = []
    for nm in names:
        v = py_cache.get(nm)
        if v is None and nm not in py_cache:
            v = py_cache[nm] = model.pinyin_key(nm)
        name_py.append(v)
    cids = [c if c else None for c in citizen_id]
    dobs = [d.isoformat() if isinstance(d, dt.date) else (d or None) for d in birth_date]
    return pa.table({
        "unique_id": pa.array(np.asarray(unique_id, dtype=np.int64)),
        "cid": pa.array(cids, pa.string()),
        "cid_valid": pa.array(valid_ids(cids)),
        "name": pa.array([n or None for n in names], pa.string()),
        "name_py": pa.array(name_py, pa.string()),
        "dob": pa.array(dobs, pa.string()),
        "sex": pa.array([s or None for s in sex], pa.string()),
        "phone": pa.array([p or None for p in phone], pa.string()),
        "addr": pa.array([a or None for a in address], pa.string()),
        "hukou": pa.array([h or None for h in hukou_region], pa.string()),
    })


def _lvl(cond, m, u, label, null=False):
    d = {"sql_condition": cond, "label_for_charts": label}
    if null:
        d["is_null_level"] = True
    else:
        d.update(m_probability=m, u_probability=u)
    return d


def settings(prior: float, link_type: str = "dedupe_only") -> dict:
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
        "blocking_rules_to_generate_predictions": [
            "l.cid = r.cid",
            "l.k1 = r.k1", "l.k2 = r.k2", "l.k3 = r.k3", "l.k4 = r.k4",
            "l.k5 = r.k5",
            "l.name_py = r.name_py AND l.dob = r.dob",
            "l.surname = r.surname AND l.dob = r.dob",
            "l.phone = r.phone",
            "l.addr = r.addr",
        ],
        "comparisons": [
            {"output_column_name": "cid", "comparison_levels": [
                _lvl("cid_l IS NULL OR cid_r IS NULL", 0, 0, "null", null=True),
                _lvl("cid_l = cid_r", 0.80, 1e-8, "equal"),
                _lvl("cid_valid_l AND cid_valid_r", 0.002, 0.9999, "both valid, different"),
                _lvl("damerau_levenshtein(cid_l, cid_r) <= 1", 0.18, 1e-7, "one typo"),
                _lvl("ELSE", 0.018, 0.9999, "different"),
            ]},
            {"output_column_name": "name", "comparison_levels": [
                _lvl("name_l IS NULL OR name_r IS NULL", 0, 0, "null", null=True),
                _lvl("name_l = name_r", 0.80, 2e-4, "equal"),
                _lvl("name_py_l = name_py_r", 0.10, 1e-4, "same pinyin"),
                _lvl("name_sorted_l = name_sorted_r", 0.05, 1e-5, "same characters reordered"),
                _lvl("jaro_winkler_similarity(name_py_l, name_py_r) >= 0.88 OR "
                     "(length(name_l) = length(name_r) AND "
                     "levenshtein(name_l, name_r) <= 1)", 0.048, 0.01, "similar"),
                # a duplicate almost never carries an unrelated name: strong evidence against
                _lvl("ELSE", 0.002, 0.99, "different"),
            ]},
            {"output_column_name": "dob", "comparison_levels": [
                _lvl("dob_l IS NULL OR dob_r IS NULL", 0, 0, "null", null=True),
                _lvl("dob_l = dob_r", 0.93, 5e-5, "equal"),
                _lvl("damerau_levenshtein(dob_l, dob_r) <= 1", 0.05, 1e-3, "one typo"),
                _lvl("ELSE", 0.02, 0.999, "different"),
            ]},
            {"output_column_name": "sex", "comparison_levels": [
                _lvl("sex_l IS NULL OR sex_r IS NULL", 0, 0, "null", null=True),
                _lvl("sex_l = sex_r", 0.98, 0.5, "equal"),
                _lvl("ELSE", 0.02, 0.5, "different"),
            ]},
            {"output_column_name": "phone", "comparison_levels": [
                _lvl("phone_l IS NULL OR phone_r IS NULL", 0, 0, "null", null=True),
                _lvl("phone_l = phone_r", 0.65, 1e-6, "equal"),
                _lvl("ELSE", 0.35, 0.999999, "different"),
            ]},
            {"output_column_name": "addr", "comparison_levels": [
                _lvl("addr_l IS NULL OR addr_r IS NULL", 0, 0, "null", null=True),
                _lvl("addr_l = addr_r", 0.65, 2e-5, "equal"),
                _lvl("jaro_winkler_similarity(addr_l, addr_r) >= 0.9", 0.15, 2e-3, "similar"),
                _lvl("ELSE", 0.20, 0.998, "different"),
            ]},
            {"output_column_name": "hukou", "comparison_levels": [
                _lvl("hukou_l IS NULL OR hukou_r IS NULL", 0, 0, "null", null=True),
                _lvl("hukou_l = hukou_r", 0.9, 0.06, "equal"),
                _lvl("ELSE", 0.1, 0.94, "different"),
            ]},
        ],
    }


_PREP_SQL = """
CREATE OR REPLACE TABLE {out} AS
WITH base AS (SELECT *, count(*) OVER (PARTITION BY phone) AS n_phone,
                        count(*) OVER (PARTITION BY addr) AS n_addr FROM {src})
SELECT unique_id, {extra} cid, cid_valid, name, name_py, dob, sex,
       CASE WHEN n_phone > {lim} THEN NULL ELSE phone END AS phone,
       CASE WHEN n_addr > {lim} THEN NULL ELSE addr END AS addr, hukou,
       CASE WHEN length(cid) = 18 THEN substr(cid, 1, 14) END AS k1,
       CASE WHEN length(cid) = 18 THEN substr(cid, 7, 12) END AS k2,
       CASE WHEN length(cid) = 18 THEN substr(cid, 1, 6) || substr(cid, 13, 6) END AS k3,
       CASE WHEN length(cid) = 18 THEN substr(cid, 1, 12) || substr(cid, 15, 4) END AS k4,
       CASE WHEN length(cid) = 18 AND dob IS NOT NULL THEN dob || substr(cid, 15, 4) END AS k5,
       substr(name, 1, 1) AS surname,
       array_to_string(list_sort(string_split(name, '')), '') AS name_sorted
FROM base
"""


@dataclass
class Pair:
    id_l: int
    id_r: int
    probability: float
    weight: float
    detail: str


def _linker(con, tables: list[str], prior: float, link_type: str):
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(con)
    sdfs = [db.register(t, table_name=t) for t in tables]
    return Linker(sdfs if len(sdfs) > 1 else sdfs[0], settings(prior, link_type),
                  log_level=logging.WARNING)


def _collect(con, linker, threshold: float) -> list[Pair]:
    pred = linker.inference.predict(threshold_match_probability=threshold,
                                    warning_mode="never")
    keys = ("cid", "name", "dob", "sex", "phone", "addr", "hukou")
    cols = {c[0] for c in con.execute(f"DESCRIBE {pred.physical_name}").fetchall()}
    parts = ", ".join(f"round(mw_{k}, 2)" if f"mw_{k}" in cols else "NULL" for k in keys)
    rows = con.execute(
        f"SELECT unique_id_l, unique_id_r, match_probability, match_weight, {parts} "
        f"FROM {pred.physical_name}").fetchall()
    pred.drop_table_from_database_and_remove_from_cache()
    return [Pair(int(r[0]), int(r[1]), float(r[2]), float(r[3]),
                 json.dumps(dict(zip(keys, r[4:])), separators=(",", ":"))) for r in rows]


def connect(threads: int | None = None, memory_limit: str | None = None):
    import duckdb

    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    return con


def find_pairs(table: pa.Table, threshold: float, *, con=None) -> list[Pair]:
    """All pairs within ``table`` with match probability ≥ ``threshold``."""
    con = con or connect()
    con.register("src_in", table)
    con.execute(_PREP_SQL.format(out="recs", src="src_in", lim=COMMON_VALUE_LIMIT, extra=""))
    con.unregister("src_in")
    n = max(table.num_rows, MIN_PRIOR_POPULATION)
    prior = 2 * EXPECTED_DUPLICATE_SHARE / n
    pairs = _collect(con, _linker(con, ["recs"], prior, "dedupe_only"), threshold)
    con.execute("DROP TABLE recs")
    return pairs


def find_links(new: pa.Table, existing: pa.Table, threshold: float, *, con=None) -> list[Pair]:
    """Pairs (new id, existing id) with probability ≥ threshold, new × existing only."""
    con = con or connect()
    con.register("new_in", new)
    con.register("old_in", existing)
    con.execute(_PREP_SQL.format(out="recs_new", src="new_in", lim=COMMON_VALUE_LIMIT,
                                 extra=""))
    con.execute(_PREP_SQL.format(out="recs_old", src="old_in", lim=COMMON_VALUE_LIMIT,
                                 extra=""))
    prior = EXPECTED_DUPLICATE_SHARE / max(existing.num_rows, MIN_PRIOR_POPULATION)
    pairs = _collect(con, _linker(con, ["recs_new", "recs_old"], prior, "link_only"),
                     threshold)
    new_ids = set(new.column("unique_id").to_pylist())
    out = []
    for p in pairs:
        if p.id_l in new_ids and p.id_r not in new_ids:
            out.append(p)
        elif p.id_r in new_ids and p.id_l not in new_ids:
            out.append(Pair(p.id_r, p.id_l, p.probability, p.weight, p.detail))
    return out


# --------------------------------------------------------------------------- registry side

def thresholds(on: dt.date | None = None) -> tuple[float, float]:
    """(lower, upper) from the rules (national; operating parameters, not law)."""
    from shebao.rules.loader import load_rules

    r = load_rules()
    on = on or dt.date.today()
    return (float(r.value("registry.dedup_threshold_lower", "national", on)),
            float(r.value("registry.dedup_threshold_upper", "national", on)))


def load_population(conn, where=None) -> pa.Table:
    """Persons not merged away, as a linkage table (keyset chunks by id)."""
    from sqlalchemy import select

    from .tables import person

    cols = [person.c.id, person.c.citizen_id, person.c.name, person.c.birth_date,
            person.c.sex, person.c.phone, person.c.address, person.c.hukou_region]
    acc: dict[str, list] = {k: [] for k in ("id", "cid", "name", "dob", "sex", "phone", "addr",
                                            "hukou")}
    last = 0
    while True:
        q = select(*cols).where(person.c.id > last, person.c.status != "merged")
        if where is not None:
            q = q.where(where)
        rows = conn.execute(q.order_by(person.c.id).limit(100_000)).all()
        if not rows:
            break
        for r in rows:
            acc["id"].append(r[0])
            acc["cid"].append(r[1])
            acc["name"].append(r[2])
            acc["dob"].append(r[3])
            acc["sex"].append(r[4])
            acc["phone"].append(r[5])
            acc["addr"].append(r[6])
            acc["hukou"].append(r[7])
        last = rows[-1][0]
    return prepare(acc["id"], acc["cid"], acc["name"], acc["dob"], acc["sex"], acc["phone"],
                   acc["addr"], acc["hukou"])


@dataclass
class Verdict:
    decision: str        # duplicate | review
    person_id: int
    probability: float
    weight: float
    detail: str


def check_against_registry(conn, records: list[dict], today: dt.date) -> list[Verdict | None]:
    """For each new record (dict with citizen_id, name, birth_date, sex, phone, address,
    hukou_region): the best match in the registry above the lower threshold, or None."""
    from sqlalchemy import func, select

    from .tables import person

    if not records or not conn.execute(select(func.count()).select_from(person)).scalar():
        return [None] * len(records)
    lower, upper = thresholds(today)
    dobs = {r["birth_date"] for r in records if r.get("birth_date")}
    phones = {r["phone"] for r in records if r.get("phone")}
    if len(records) > 2000:
        existing = load_population(conn)
    else:
        ids: set[int] = set()
        for col, vals in ((person.c.birth_date, list(dobs)), (person.c.phone, list(phones)),
                          (person.c.name_pinyin,
                           list({model.pinyin_key(r["name"]) for r in records}))):
            for i in range(0, len(vals), 900):
                ids.update(conn.execute(select(person.c.id).where(
                    col.in_(vals[i:i + 900]))).scalars())
        if not ids:
            return [None] * len(records)
        existing = load_population(conn, person.c.id.in_(sorted(ids)))
    if existing.num_rows == 0:
        return [None] * len(records)
    offset = -1  # new records get negative ids so they cannot collide with person ids
    new = prepare([offset - i for i in range(len(records))],
                  [r["citizen_id"] for r in records], [r["name"] for r in records],
                  [r.get("birth_date") for r in records], [r.get("sex") for r in records],
                  [r.get("phone") for r in records], [r.get("address") for r in records],
                  [r.get("hukou_region") for r in records])
    best: dict[int, Pair] = {}
    for p in find_links(new, existing, lower):
        if p.id_l not in best or p.probability > best[p.id_l].probability:
            best[p.id_l] = p
    out: list[Verdict | None] = []
    for i in range(len(records)):
        p = best.get(offset - i)
        if p is None:
            out.append(None)
        else:
            out.append(Verdict("duplicate" if p.probability >= upper else "review", p.id_r,
                               p.probability, p.weight, p.detail))
    return out


def queue_pairs(conn, pairs: list[tuple[int, int, float, float, str]], *, found_by: str) -> int:
    """Put (person, person, probability, weight, detail) pairs in the review queue, once:
    a pair already queued or decided is left as it is."""
    from sqlalchemy import select

    from shebao.db import dialect

    from .bulk import bulk_insert
    from .tables import dedup_candidate

    norm = {}
    for a, b, p, w, d in pairs:
        a, b = (a, b) if a < b else (b, a)
        if a != b and ((a, b) not in norm or norm[(a, b)][0] < p):
            norm[(a, b)] = (p, w, d)
    if not norm:
        return 0
    keys = list(norm)
    known = set()
    for i in range(0, len(keys), 400):
        chunk = keys[i:i + 400]
        cond = dialect.pairs_in(conn, dedup_candidate.c.person_a, dedup_candidate.c.person_b,
                                chunk)
        known.update(tuple(r) for r in conn.execute(
            select(dedup_candidate.c.person_a, dedup_candidate.c.person_b).where(cond)))
    t = dt.datetime.now(dt.timezone.utc)
    rows = [dict(person_a=a, person_b=b, match_probability=p, match_weight=w, status="pending",
                 found_by=found_by, detail=d, created_at=t)
            for (a, b), (p, w, d) in norm.items() if (a, b) not in known]
    bulk_insert(conn, dedup_candidate, rows)
    return len(rows)


@dataclass
class RunResult:
    persons: int
    pairs_scored_above_lower: int
    merged: int
    queued: int
    merge_refused: int
    seconds: float

    def as_json(self) -> dict:
        return dict(self.__dict__)


def run(engine, actor, *, auto_merge: bool = True) -> RunResult:
    """``shebao dedup run``: find duplicate pairs in the whole registry; merge those above the
    upper threshold (clusters merge into one survivor: the lowest id with a valid citizen ID;
    a cluster never joins two valid, different citizen IDs — such a pair is queued), queue
    those between the thresholds. A merge the invariants refuse (e.g. both records hold
    an open enrolment in the same scheme) goes to the review queue instead."""
    import time

    from shebao.security import audit

    from .merge import MergeRefused, merge_persons

    t0 = time.perf_counter()
    lower, upper = thresholds()
    with engine.connect() as conn:
        pop = load_population(conn)
    pairs = find_pairs(pop, lower) if pop.num_rows > 1 else []
    valid = dict(zip(pop.column("unique_id").to_pylist(), pop.column("cid_valid").to_pylist()))
    from sqlalchemy import select

    from .tables import dedup_candidate

    with engine.connect() as conn:  # pairs a clerk (or an undone merge) declared distinct
        distinct = {tuple(r) for r in conn.execute(
            select(dedup_candidate.c.person_a, dedup_candidate.c.person_b)
            .where(dedup_candidate.c.status == "distinct"))}
    pairs = [p for p in pairs if (min(p.id_l, p.id_r), max(p.id_l, p.id_r)) not in distinct]
    strong = [p for p in pairs if p.probability >= upper] if auto_merge else []
    weak = [p for p in pairs if p.probability < upper or not auto_merge]
    # union-find over strong pairs → one survivor per cluster
    parent: dict[int, int] = {}

    def find(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def better(a, b):  # the survivor: a valid ID first, then the older record
        return (not valid.get(a, False), a) < (not valid.get(b, False), b)

    # a cluster may hold at most one valid citizen ID: two valid, different IDs are two legal
    # identities, which only a clerk may join (the pair goes to review instead)
    has_valid: dict[int, bool] = {}
    held_back: list[Pair] = []
    for p in sorted(strong, key=lambda p: -p.probability):
        ra, rb = find(p.id_l), find(p.id_r)
        if ra == rb:
            continue
        va = has_valid.get(ra, valid.get(ra, False))
        vb = has_valid.get(rb, valid.get(rb, False))
        if va and vb:
            held_back.append(p)
            continue
        if better(ra, rb):
            parent[rb] = ra
            parent.setdefault(ra, ra)
            has_valid[ra] = va or vb
        else:
            parent[ra] = rb
            parent.setdefault(rb, rb)
            has_valid[rb] = va or vb
    weak = weak + held_back
    merged = refused = 0
    refused_pairs = []
    by_pair = {(min(p.id_l, p.id_r), max(p.id_l, p.id_r)): p for p in strong}
    for member in sorted(parent):
        root = find(member)
        if root == member:
            continue
        key = (min(root, member), max(root, member))
        p = by_pair.get(key)
        try:
            merge_persons(engine, actor, root, member,
                          reason=f"dedup run: match probability "
                                 f"{p.probability if p else upper:.4f}")
            merged += 1
        except MergeRefused as exc:
            refused += 1
            pr = p or Pair(root, member, upper, 0.0, "{}")
            refused_pairs.append((root, member, pr.probability, pr.weight,
                                  json.dumps({"refused": str(exc)[:150]})))
    # doubtful pairs are queued between cluster survivors, once per pair
    weak_pairs = [(find(p.id_l), find(p.id_r), p.probability, p.weight, p.detail)
                  for p in weak]
    weak_pairs = [w for w in weak_pairs if w[0] != w[1]]
    with engine.begin() as conn:
        queued = queue_pairs(conn, weak_pairs + refused_pairs, found_by="dedup run")
        res = RunResult(pop.num_rows, len(pairs), merged, queued, refused,
                        round(time.perf_counter() - t0, 2))
        audit.record(conn, actor, "registry.dedup.run", "registry", None,
                     detail={**res.as_json(), "lower": lower, "upper": upper})
    return res
