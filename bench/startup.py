"""How long a fresh process takes to answer: ``shebao --help`` and ``shebao calc NAME`` for every
calculator (its first law case from tests/rules/*.yaml as the request), wall time of a new
Python process each, the median of ``--repeat`` runs.

    .venv/bin/python bench/startup.py [--repeat 5] [--baseline-src /path/to/old/src]

Printed side by side, from the same run:

* ``now``: this tree, the rules cache warm (``load_rules`` reads the tree's cache file);
* ``no cache``: this tree with ``SHEBAO_RULES_CACHE=off`` (every process parses the 100+ YAML
  files, as before the cache);
* ``baseline`` (with ``--baseline-src``): another tree's ``src`` (e.g. a worktree of the commit
  before the change), run the same way.

The aim (issue #19): ``--help`` and each calculator ≤ 0.3 s. Writes
``bench/results/startup.json``. On a shared machine the load average is printed with it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import loadavg, save  # noqa: E402

ROOT = HERE.parent
AIM = 0.3
ENTRY = "from shebao.channels.cli.main import main; main()"


def _plain(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def requests() -> dict[str, dict]:
    """The first law case with an expected output, per calculator."""
    out: dict[str, dict] = {}
    for path in sorted((ROOT / "tests" / "rules").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if "output" in case and case["calc"] not in out:
                out[case["calc"]] = _plain(case["input"])
    return out


def timed(src: Path, args: list[str], env_extra: dict, repeat: int) -> tuple[float, float, int]:
    """(median wall seconds, median CPU seconds = user + system of the child, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(src), **env_extra}
    walls, cpus, rc = [], [], 0
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", ENTRY, *args], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        rc = rc or p.returncode
    return statistics.median(walls), statistics.median(cpus), rc


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="the src directory of the tree to compare against")
    args = ap.parse_args(argv)
    src = ROOT / "src"
    before = loadavg()
    cases = [("--help", ["--help"])] + [
        (f"calc {n}", ["calc", n, "--json", json.dumps(r, ensure_ascii=False)])
        for n, r in sorted(requests().items())]
    # warm the cache (and the OS's file cache) once for every variant
    timed(src, ["calc", "citizen-id", "--json", '{"id": "11010519491231002X"}'], {}, 1)
    variants = [("now", src, {}), ("no cache", src, {"SHEBAO_RULES_CACHE": "off"})]
    if args.baseline_src:
        variants.append(("baseline", args.baseline_src.resolve(), {}))
    print(f"{'seconds: wall / cpu':28s}" + "".join(f"{v[0]:>16s}" for v in variants),
          flush=True)
    rows = {}
    for label, argv_ in cases:
        row = {}
        for name, where, env in variants:
            wall, cpu, rc = timed(where, argv_, env, args.repeat)
            row[name] = {"seconds": round(wall, 4), "cpu_seconds": round(cpu, 4), "exit": rc}
        rows[label] = row
        print(f"{label:28s}" + "".join(
            f"{row[v[0]]['seconds']:>9.3f} /{row[v[0]]['cpu_seconds']:.3f}"
            f"{'!' if row[v[0]]['exit'] else ' '}" for v in variants), flush=True)
    worst = max(r["now"]["seconds"] for r in rows.values())
    worst_cpu = max(r["now"]["cpu_seconds"] for r in rows.values())
    failed = [k for k, r in rows.items() if r["now"]["exit"]]
    print(f"slowest now: wall {worst:.3f} s, cpu {worst_cpu:.3f} s (aim ≤ {AIM} s wall: "
          f"{'met' if worst <= AIM else 'NOT met'}); failed: {failed or 'none'}; "
          f"load average before {before} after {loadavg()}", flush=True)
    save("startup", {"aim_seconds": AIM, "repeat": args.repeat, "slowest_now": worst,
                     "slowest_now_cpu": worst_cpu, "met": worst <= AIM and not failed,
                     "commands": rows}, load_before=before)


if __name__ == "__main__":
    main()
