"""Bulk person import speed: a 100,000-row CSV into a fresh SQLite (and optionally PostgreSQL).

    .venv/bin/python bench/import_persons.py                     # 100k rows, SQLite
    .venv/bin/python bench/import_persons.py --rows 200000
    .venv/bin/python bench/import_persons.py --pg postgresql+psycopg://postgres@127.0.0.1/postgres

The file is synthetic (``synth_people``: zh_CN names, valid IDs from real area codes, contact
data, bank accounts) with 0.5 % broken rows (bad check character, impossible date, sex
contradicting the ID) so the error path is timed too. Timed: first import (validation, bulk
insert of persons and their first versions, error file, audit record), a dry run, and a
re-import of the same file (idempotent: every row unchanged). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import time
from pathlib import Path


def write_csv(path: Path, rows: int, seed: int) -> int:
    import numpy as np

    from shebao.devtools.synthetic_people import synth_people

    pop = synth_people(rows, "310000", seed=seed, duplicate_share=0.0)
    rng = np.random.default_rng(seed)
    bad = set(rng.choice(rows, rows // 200, replace=False).tolist())
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["citizen_id", "name", "sex", "birth_date", "hukou_region",
                    "residence_region", "phone", "address", "bank_account"])
        for i in range(rows):
            cid, sex = pop.citizen_id[i], pop.sex[i]
            birth = str(pop.birth_date[i])
            if i in bad:
                k = i % 3
                if k == 0:
                    cid = cid[:17] + ("0" if cid[17] != "0" else "1")
                elif k == 1:
                    birth = "1990-02-30"
                else:
                    sex = "F" if sex == "M" else "M"
            w.writerow([cid, pop.name[i], sex, birth, pop.hukou_region[i],
                        pop.residence_region[i], pop.phone[i], pop.address[i],
                        pop.bank_account[i]])
    return len(bad)


def run(url: str, path: Path) -> None:
    from sqlalchemy import func, select

    from shebao.core.actor import SYSTEM
    from shebao.db.engine import make_engine
    from shebao.db.migrate import upgrade
    from shebao.registry.importer import import_persons
    from shebao.registry.tables import person

    upgrade(url)
    engine = make_engine(url)
    t = time.perf_counter()
    dry = import_persons(engine, SYSTEM, path, dry_run=True)
    t_dry = time.perf_counter() - t
    t = time.perf_counter()
    res = import_persons(engine, SYSTEM, path)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    again = import_persons(engine, SYSTEM, path)
    t_again = time.perf_counter() - t
    with engine.connect() as c:
        n = c.execute(select(func.count()).select_from(person)).scalar()
    print(f"  {engine.dialect.name}: dry run {t_dry:.1f} s ({dry.inserted} valid, "
          f"{dry.rejected} rejected, nothing written)")
    print(f"  {engine.dialect.name}: first import {t_first:.1f} s — {res.inserted} inserted, "
          f"{res.rejected} rejected → {Path(res.error_file).name if res.error_file else '-'}; "
          f"{n} persons in the registry; {res.rows / t_first:,.0f} rows/s")
    print(f"  {engine.dialect.name}: re-import {t_again:.1f} s — {again.inserted} inserted, "
          f"{again.unchanged} unchanged (idempotent)")
    out = {"backend": engine.dialect.name, "dry_run_s": round(t_dry, 2),
           "first_import_s": round(t_first, 2), "reimport_s": round(t_again, 2),
           "inserted": res.inserted, "rejected": res.rejected,
           "rows_per_s": round(res.rows / t_first, 1)}
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pg", help="PostgreSQL admin URL: a scratch database is created there")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "persons.csv"
        t = time.perf_counter()
        nbad = write_csv(path, args.rows, args.seed)
        print(f"wrote {args.rows:,} rows ({nbad} broken) in {time.perf_counter() - t:.1f} s, "
              f"{path.stat().st_size / 1e6:.1f} MB")
        figures = {"rows": args.rows, "runs": [run(f"sqlite:///{d}/bench.db", path)]}
        if args.pg:
            from shebao.devtools.scratch_db import scratch_database

            with scratch_database("postgresql", admin=args.pg, migrate=False) as url:
                figures["runs"].append(run(url, path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")
    figures["peak_rss_mib"] = round(peak, 1)
    _save("import_persons", figures)


def _save(name: str, figures: dict) -> None:
    """Write the figures to bench/results/<name>.json (bench/results.py)."""
    import sys as _sys
    from pathlib import Path as _Path
    _sys.path.insert(0, str(_Path(__file__).resolve().parent))
    from results import save
    save(name, figures)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
