"""Dedup quality and speed on a synthetic population with known duplicates.

    .venv/bin/python bench/dedup.py                 # 100k (quality + speed) and 1M (speed)
    .venv/bin/python bench/dedup.py --n 100000      # one size, in this process

The population comes from ``shebao.devtools.synthetic_people.synth_people``: zh_CN names, valid IDs
from real area codes, and 1 % duplicates perturbed as legacy data is (homophone characters,
typos, swapped characters, transposed or substituted ID digits, missing IDs and birth dates,
changed or missing phone and address). The truth is known, so precision, recall and F1 are
computed on pairs: "merge" = probability ≥ upper threshold, "flag" = ≥ lower threshold
(merge or review queue). Time is wall clock for the linkage (preparation included: pinyin,
ID check characters); peak memory is the process's maximum RSS (Python + DuckDB). Each size
runs in its own process so the peaks do not mix. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(n: int, seed: int, threads: int | None) -> dict:
    import numpy as np

    from shebao.registry import dedup
    from shebao.devtools.synthetic_people import synth_people

    t0 = time.perf_counter()
    pop = synth_people(n, "310000", seed=seed, duplicate_share=0.01, allow_missing_ids=True)
    t_gen = time.perf_counter() - t0
    m = len(pop)
    births = [None if np.isnat(b) else b.item() for b in pop.birth_date]
    rss_before = peak_mib()
    t1 = time.perf_counter()
    table = dedup.prepare(np.arange(m), list(pop.citizen_id), list(pop.name), births,
                          list(pop.sex), list(pop.phone), list(pop.address),
                          list(pop.hukou_region))
    t_prep = time.perf_counter() - t1
    lower, upper = dedup.thresholds()
    con = dedup.connect(threads=threads)
    t2 = time.perf_counter()
    pairs = dedup.find_pairs(table, lower, con=con)
    t_link = time.perf_counter() - t2
    truth = {(int(min(o, i)), int(max(o, i))) for i, o in enumerate(pop.original_of) if o >= 0}
    out = {"persons": m, "true_duplicate_pairs": len(truth),
           "generate_s": round(t_gen, 1), "prepare_s": round(t_prep, 1),
           "link_s": round(t_link, 1), "dedup_total_s": round(t_prep + t_link, 1),
           "peak_rss_mib": round(peak_mib()), "rss_before_dedup_mib": round(rss_before)}
    for label, thr in (("merge", upper), ("flag", lower)):
        found = {(min(p.id_l, p.id_r), max(p.id_l, p.id_r)) for p in pairs
                 if p.probability >= thr}
        tp = len(found & truth)
        prec = tp / len(found) if found else 1.0
        rec = tp / len(truth) if truth else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {"threshold": thr, "pairs": len(found), "true_positives": tp,
                      "precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}
    review = [p for p in pairs if lower <= p.probability < upper]
    out["review_queue_pairs"] = len(review)
    # what the misses look like (for tuning, no personal data: synthetic)
    found_flag = {(min(p.id_l, p.id_r), max(p.id_l, p.id_r)) for p in pairs}
    missed = sorted(truth - found_flag)[:5]
    out["missed_examples"] = [
        {k: (str(getattr(pop, k)[i]) if k != "birth_date" else str(pop.birth_date[i]))
         for k in ("citizen_id", "name", "birth_date", "phone", "address")}
        | {"other": {k: (str(getattr(pop, k)[j]) if k != "birth_date"
                         else str(pop.birth_date[j]))
                     for k in ("citizen_id", "name", "birth_date", "phone", "address")}}
        for i, j in missed]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, help="one population size, in this process")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.n:
        res = one(args.n, args.seed, args.threads)
        print(json.dumps(res, ensure_ascii=False, indent=None if args.json else 1))
        return
    runs = []
    for n in [int(x) for x in args.sizes.split(",")]:
        env = dict(os.environ)
        p = subprocess.run([sys.executable, __file__, "--n", str(n), "--seed", str(args.seed),
                            "--threads", str(args.threads), "--json"], capture_output=True,
                           text=True, env=env)
        if p.returncode:
            print(f"n={n}: failed\n{p.stderr[-3000:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        runs.append(r)
        print(f"n={r['persons']:>9,} ({r['true_duplicate_pairs']:,} true duplicate pairs): "
              f"dedup {r['dedup_total_s']} s (prepare {r['prepare_s']} s, link "
              f"{r['link_s']} s), peak RSS {r['peak_rss_mib']} MiB")
        for label in ("merge", "flag"):
            q = r[label]
            print(f"    {label:<5} p≥{q['threshold']}: precision {q['precision']:.4f}  "
                  f"recall {q['recall']:.4f}  F1 {q['f1']:.4f}  ({q['pairs']} pairs)")
        print(f"    review queue: {r['review_queue_pairs']} pairs")
    _save("dedup", {"runs": runs})


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    main()
