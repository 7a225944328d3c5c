"""Where every bench script leaves its figures: ``bench/results/<name>.json``.

    from results import save            # (bench/ is the script's own directory)
    save("payroll", {"args": {...}, "figures": {...}})

The file holds the figures of the last run, the command line, the commit, the machine's load
average before/after and the time, so a later change can be compared against it. Nothing
here is timed."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parent / "results"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=DIR.parent,
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""


def save(name: str, figures: dict, *, load_before: str | None = None) -> Path:
    """Write ``figures`` (JSON-able) to ``bench/results/<name>.json``; returns the path."""
    DIR.mkdir(exist_ok=True)
    path = DIR / f"{name}.json"
    doc = {"bench": name, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "commit": _commit(), "argv": sys.argv[1:], "cpus": os.cpu_count(),
           "loadavg_before": load_before, "loadavg_after": loadavg(), "figures": figures}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"figures written to {path}", flush=True)
    return path
