"""The registry side of duplicate detection: thresholds from the rules, the population as a
linkage table, checking import rows against the registry, the review queue, and a full run
(with automatic merges above the upper threshold). Re-exported by :mod:`shebao.registry.dedup`
(the linkage model)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pyarrow as pa

from shebao.db.bulk import in_batches

from . import model
from .dedup import Pair, find_links, find_pairs, prepare


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
            for batch in in_batches(vals):
                ids.update(conn.execute(select(person.c.id).where(col.in_(batch))).scalars())
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

    from shebao.db.dialect import pairs_in

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
        cond = pairs_in(conn, dedup_candidate.c.person_a, dedup_candidate.c.person_b, chunk)
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
