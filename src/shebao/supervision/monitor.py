"""Run the monitoring rules over a region subtree and keep their alerts, deduplicated.

``run(engine, actor, region, as_of)`` resolves every rule's record in force for the region
and date (``supervision.monitor.<code>``, dated YAML with its legal basis), runs its detector
(set-based, :mod:`.detectors`), scores each finding (``weight + bonus × strength``, strength in
[0, 1]) and merges the findings into ``monitor_alert`` by fingerprint (rule × subject): a new
finding is inserted as ``open``; a finding already known is updated (score, evidence, last run,
times seen) whatever its status, so a dismissed alert stays dismissed and an alert under
inspection keeps its case — nothing is raised twice. One transaction, one audit record.
"""
from __future__ import annotations

import datetime as dt
import json
import time

from sqlalchemy import bindparam, insert, select, update

from shebao.benefits.model import region_prefix
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.core.regions import NATIONAL, check_region
from shebao.db.uow import now, transaction
from shebao.rules.loader import load_rules
from shebao.security import audit, policy

from .detectors import DETECTORS, Finding
from .tables import monitor_alert, monitor_run

PARAM = "supervision.monitor."


def scope_like(region: str) -> str:
    """LIKE pattern of a region subtree; ``national`` matches every region."""
    return "%" if region == NATIONAL else region_prefix(check_region(region))


def rule_set(region: str, on: dt.date, only: list[str] | None = None) -> dict[str, dict]:
    """code → {params, reference, effective_from} of the rules enabled on ``on`` in ``region``."""
    rules = load_rules()
    out = {}
    for code in sorted(DETECTORS):
        if only and code not in only:
            continue
        r = rules.lookup(PARAM + code, region, on) if rules.has(PARAM + code, region, on) else None
        if r is None or not r.value.get("enabled", True):
            continue
        out[code] = {"params": dict(r.value), "reference": r.reference,
                     "basis": rules.parameter(PARAM + code).reference,
                     "effective_from": r.effective_from.isoformat()}
    if only:
        unknown = sorted(set(only) - set(DETECTORS))
        if unknown:
            raise InputError(f"unknown monitoring rule(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(DETECTORS))}", field="rule")
    return out


def score(params: dict, f: Finding) -> int:
    num, den = f.strength
    num = max(0, min(int(num), int(den)))
    return int(params["weight"]) + int(params.get("bonus", 0)) * num // max(int(den), 1)


def fingerprint(code: str, f: Finding) -> str:
    return f"{code}:{f.subject_type}:{f.subject_key}"


def run(engine, actor: Actor, region: str = NATIONAL, as_of: dt.date | None = None,
        only: list[str] | None = None) -> dict:
    """Run the rules; returns {run_id, found, new, repeated, per_rule: {code: n}}."""
    policy.require(actor, "supervision.monitor.run")
    if region != NATIONAL:
        check_region(region)
    policy.require_region(actor, region)      # national: only a national scope
    as_of = as_of or now().date()
    active = rule_set(region, as_of, only)
    like = scope_like(region)
    t0 = time.perf_counter()
    with transaction(engine) as conn:
        started = now()
        run_id = conn.execute(insert(monitor_run).values(
            region=region, as_of=as_of, rules=json.dumps(
                {c: {"effective_from": r["effective_from"], "reference": r["reference"]}
                 for c, r in active.items()}, ensure_ascii=False),
            actor=actor.id, started_at=started)).inserted_primary_key[0]
        found: dict[str, dict] = {}
        per_rule = {}
        for code, r in active.items():
            fs = DETECTORS[code](conn, r["params"], like, as_of)
            per_rule[code] = len(fs)
            for f in fs:
                found[fingerprint(code, f)] = {
                    "rule": code, "subject_type": f.subject_type, "subject_id": f.subject_id,
                    "subject_key": f.subject_key, "region": f.region,
                    "score": score(r["params"], f),
                    "evidence": json.dumps(f.evidence, ensure_ascii=False, sort_keys=True,
                                           default=str),
                    "basis": r["basis"]}
        known: dict[str, int] = {}
        keys = sorted(found)
        for i in range(0, len(keys), 1000):
            known.update({fp: aid for fp, aid in conn.execute(
                select(monitor_alert.c.fingerprint, monitor_alert.c.id).where(
                    monitor_alert.c.fingerprint.in_(keys[i:i + 1000])))})
        fresh = [{**v, "fingerprint": fp, "status": "open", "first_run_id": run_id,
                  "last_run_id": run_id, "times_seen": 1, "first_seen_at": started,
                  "last_seen_at": started} for fp, v in found.items() if fp not in known]
        if fresh:
            conn.execute(insert(monitor_alert), fresh)
        again = [{"k": known[fp], "s": v["score"], "e": v["evidence"]}
                 for fp, v in found.items() if fp in known]
        if again:
            conn.execute(update(monitor_alert).where(monitor_alert.c.id == bindparam("k")).values(
                score=bindparam("s"), evidence=bindparam("e"), last_run_id=run_id,
                last_seen_at=started, times_seen=monitor_alert.c.times_seen + 1), again)
        seconds = f"{time.perf_counter() - t0:.3f}"
        conn.execute(update(monitor_run).where(monitor_run.c.id == run_id).values(
            found=len(found), new=len(fresh), repeated=len(again), seconds=seconds,
            finished_at=now()))
        audit.record(conn, actor, "supervision.monitor.run", "monitor_run", run_id,
                     detail={"region": region, "as_of": as_of, "rules": sorted(active),
                             "found": len(found), "new": len(fresh), "repeated": len(again)})
    return {"run_id": int(run_id), "region": region, "as_of": as_of.isoformat(),
            "found": len(found), "new": len(fresh), "repeated": len(again),
            "per_rule": per_rule, "seconds": seconds}
