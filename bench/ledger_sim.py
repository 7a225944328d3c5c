"""Seeded fault simulation of the ledger, for long runs.

    .venv/bin/python bench/ledger_sim.py --ops 10000 --seed 7 [--backend sqlite|postgresql|both]

Prints operations, violations (must be 0) and time per backend; exit 1 on any violation.
The PostgreSQL run uses a database it creates and drops (``--pg-admin`` URL's server).
Replay a failure with the same --seed (thread interleavings differ, outcomes may not).
"""
from __future__ import annotations

import argparse
import json
import sys

from shebao.devtools.ledger_simulation import SimulationFailure, Simulator
from shebao.devtools.scratch_db import scratch_database


def run_one(backend: str, args) -> dict:
    with scratch_database(backend, admin=args.pg_admin, prefix="ledger_sim") as url:
        sim = Simulator(url, args.seed, persons=args.persons, kill_every=args.kill_every,
                        full_every=args.full_every, log=lambda m: print(f"[{backend}]{m}",
                                                                         file=sys.stderr))
        try:
            out = sim.run(args.ops)
        except SimulationFailure as exc:
            out = {"seed": args.seed, "ops": sum(sim.ops.values()), "violations":
                   max(1, len(sim.violations)), "error": str(exc)[:2000]}
    out["backend"] = backend
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--persons", type=int, default=40)
    ap.add_argument("--kill-every", type=int, default=500,
                    help="a SIGKILLed writer every N steps (0: never)")
    ap.add_argument("--full-every", type=int, default=250, help="full check every N steps")
    ap.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    bad = 0
    figures = {"ops": args.ops, "seed": args.seed, "backends": {}}
    for b in backends:
        res = run_one(b, args)
        figures["backends"][b] = res
        print(f"{b:<10} ops={res['ops']} violations={res['violations']} "
              f"time={res.get('seconds', '-')}s seed={res['seed']}")
        print("           " + json.dumps({k: res[k] for k in res
                                          if k in ("by_op", "refused_as_expected", "entries",
                                                   "error")}, ensure_ascii=False))
        bad += res["violations"]
    _save("ledger_sim", figures)
    return 1 if bad else 0


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    sys.exit(main())
