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


# the registry side (thresholds, population, review queue, run) lives in dedup_run; imported
# last because it uses the model above
from .dedup_run import (RunResult, Verdict, check_against_registry, load_population,  # noqa
                        queue_pairs, run, thresholds)
