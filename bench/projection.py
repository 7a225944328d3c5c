"""The 30-year pension projection for a region of N insured, with a person-at-a-time baseline
in the same run.

    PYTHONPATH=src .venv/bin/python bench/projection.py [--insured 1000000] [--sample 2000]

Setup (not timed): N synthetic insured as arrays (what ``monitoring.sources.insured`` reads
from the registry in two packed reads): 72% contributors aged 18–64 with a base of
4,000–30,000 yuan, 28% pensioners aged 55–99 drawing 2,000–8,000 yuan, 55% men.

Timed:

* ``cohort``: ``projection.base_from_micro`` (one bincount per array) and
  ``projection.project`` for every scenario of ``monitoring.projection.scenarios`` — integer
  arithmetic on (sex × age) arrays, the reform's retirement age per cohort and year;
* ``person-at-a-time`` baseline on the first ``--sample`` people, baseline scenario only: each
  person a Python object stepped year by year (survival weight, statutory retirement looked
  up for that person, indexation, base growth) — the obvious implementation — extrapolated to
  N and to the number of scenarios. The two are compared on the sample (pensioners and
  expenditure in the last year).

Prints figures; asserts nothing about time. Writes ``bench/results/projection.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from results import loadavg, save
from shebao.monitoring import projection as pj
from shebao.rules.formulas.retirement import statutory_retirement
from shebao.rules.loader import load_rules

REGION, START = "310000", 2026
SCALE = 1000


def population(n: int, seed: int = 14) -> dict:
    rng = np.random.default_rng(seed)
    pensioner = rng.random(n) < 0.28
    age = np.where(pensioner, rng.integers(55, 100, n), rng.integers(18, 65, n))
    return {"female": (rng.random(n) >= 0.55).astype(np.int64),
            "birth_year": START - age, "pensioner": pensioner,
            "pension_fen": np.where(pensioner, rng.integers(200_000, 800_001, n), 0),
            "base_fen": np.where(pensioner, 0, rng.integers(400_000, 3_000_001, n)),
            # about 14 months of payment (the order of the 2015 national average, rules-2 §6.4)
            "balance_fen": int(np.where(pensioner, rng.integers(200_000, 800_001, n), 0).sum())
            * 14}


def cohort(pop: dict, scenarios: list[str], rules):
    base = pj.base_from_micro(REGION, START, **pop)
    on = dt.date(START, 1, 1)
    return base, [pj.project(base, pj.assumptions(REGION, on, s, rules), scenario=s, rules=rules)
                  for s in scenarios]


def person_at_a_time(pop: dict, m: int, rules) -> dict:
    """The obvious implementation on the first ``m`` people (floats: it is the baseline)."""
    a = pj.assumptions(REGION, dt.date(START, 1, 1), "baseline", rules)
    q = pj.mortality_ppm(a) / pj.PPM
    wage = float(a["wage_growth"])
    index = float(a["indexation_alpha"]) * wage + float(a["indexation_beta"]) * float(a["cpi"])
    people = [{"sex": int(pop["female"][i]), "born": int(pop["birth_year"][i]),
               "pens": bool(pop["pensioner"][i]), "amount": float(pop["pension_fen"][i]),
               "w": 1.0} for i in range(m)]
    base = float(np.mean(pop["base_fen"][:m][~pop["pensioner"][:m]]))
    cat = {0: "male", 1: str(a["female_category"])}
    for t in range(START, START + int(a["years"])):
        expenditure = sum(p["w"] * p["amount"] * 12 for p in people if p["pens"])
        pensioners = sum(p["w"] for p in people if p["pens"])
        for p in people:
            age = min(t + 1 - p["born"], pj.AGES - 1)
            p["w"] *= 1 - q[p["sex"], min(t - p["born"], pj.AGES - 1)]
            if p["pens"]:
                p["amount"] *= 1 + index
            else:
                born = min(max(p["born"], pj.OLDEST_SCHEDULED), 2100)
                r = statutory_retirement(rules, [born], [6], [15], cat[p["sex"]], REGION)
                if age * 12 >= int(r.age_months[0]):
                    p["pens"], p["amount"] = True, base * float(a["replacement"])
        base *= 1 + wage
    return {"pensioners_last": pensioners, "expenditure_last_fen": expenditure}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--insured", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=2000)
    args = ap.parse_args()
    load = loadavg()
    rules = load_rules()
    scenarios = sorted(rules.value("monitoring.projection.scenarios", REGION, dt.date(START, 1, 1)))
    pop = population(args.insured)
    t0 = time.perf_counter()
    base, ps = cohort(pop, scenarios, rules)
    t_cohort = time.perf_counter() - t0
    sample = {k: (v[:args.sample] if isinstance(v, np.ndarray) else v) for k, v in pop.items()}
    t0 = time.perf_counter()
    slow = person_at_a_time(pop, args.sample, rules)
    t_sample = time.perf_counter() - t0
    t_base = t_sample * args.insured / args.sample * len(scenarios)
    # the cohort model on the same sample, each person counted SCALE times (integer persons
    # round deaths per cell: a cell of one person would never die)
    sb = pj.base_from_micro(REGION, START, **sample)
    sb.contributors, sb.pensioners, sb.pension_fen = (x * SCALE for x in (
        sb.contributors, sb.pensioners, sb.pension_fen))
    last = pj.project(sb, pj.assumptions(REGION, dt.date(START, 1, 1), "baseline", rules),
                      rules=rules).rows[-1]
    dev_p = abs(last["pensioners"] / SCALE - slow["pensioners_last"]) / slow["pensioners_last"]
    dev_e = abs(last["expenditure_fen"] / SCALE - slow["expenditure_last_fen"]) / \
        slow["expenditure_last_fen"]
    b = {p.scenario: p.rows for p in ps}["baseline"]
    print(f"{args.insured:,} insured ({int(base.contributors.sum()):,} contributors, "
          f"{int(base.pensioners.sum()):,} pensioners), {len(scenarios)} scenarios × "
          f"{len(b)} years")
    print(f"  cohort-component          {t_cohort:8.2f} s   (target ≤ 10 s)")
    print(f"  person-at-a-time baseline {t_base:8.1f} s   (extrapolated from {args.sample:,} "
          f"people: {t_sample:.2f} s) → {t_base / t_cohort:,.0f}× slower")
    print(f"  agreement on the sample (cohort model × {SCALE}), year {b[-1]['year']}: "
          f"pensioners {dev_p:.2%}, expenditure {dev_e:.2%} apart")
    for s in (b[0], b[9], b[-1]):
        print(f"  baseline {s['year']}: contributors {s['contributors']:,} pensioners "
              f"{s['pensioners']:,} balance {s['balance_fen'] / 1e10:,.1f} 亿 payable "
              f"{s['payable_months']} months")
    save("projection", {"insured": args.insured, "scenarios": scenarios,
                        "cohort_seconds": round(t_cohort, 3),
                        "baseline_seconds_extrapolated": round(t_base, 1),
                        "baseline_sample": args.sample, "baseline_sample_seconds": round(t_sample, 3),
                        "speedup": round(t_base / t_cohort, 1),
                        "sample_deviation": {"pensioners": round(dev_p, 4),
                                             "expenditure": round(dev_e, 4)},
                        "baseline_rows": [{k: str(v) for k, v in r.items()} for r in b]},
         load_before=load)


if __name__ == "__main__":
    main()
