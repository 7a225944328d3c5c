"""One month of the collection bureau at scale, with a row-at-a-time baseline in the same run.

    .venv/bin/python bench/monthly_cycle.py --people N [--db URL] [--sample 2000]
                                            [--chunk 100000] [--bank camt053|csv]

``--db``: omitted or ``sqlite`` → a fresh SQLite file in a temporary directory; a
``postgresql://…/NAME`` URL → a throw-away database is created on that server (the NAME in the
URL is only used to connect for CREATE/DROP DATABASE) and dropped at the end (``--keep`` keeps
it). Everything is migrated first.

Setup (timed, reported apart): N insured bulk-loaded into region 310104 by
``devtools.synthetic_population.load_population`` (80% employees in 5 schemes, 12% flexible, 8%
residents; ~N/30 employers), then their individual accounts opened as enrolment opens them
(``collection.enrolment.open_accounts``, set-based; timed on its own line). With
``--accounts-at first-contribution`` they are not, and the first assessment opens them (the
behaviour before issue #19).

``--compare-first-contribution``: after the run, a second throw-away database is set up the
old way and only its first month is assessed — the baseline of "the first month costs what any
month costs", from the same run.

Figures go to ``bench/results/monthly_cycle.json``.

The cycle, each stage in a fresh child process (``ru_maxrss`` = that stage's peak memory):

* ``assess``    ``collection.assess.assess`` for 2025-07: keyset chunks, numpy, COPY, one
                ledger batch per chunk (aggregated pooled entries + per-person individual
                accounts; the first month opens the individual accounts);
* ``bill``      ``bills.make_bills``;
* ``export``    pain.008.001.08 (``--bank camt053``, XSD-validated before writing) or CSV;
* ``bank``      the simulated bank answers (not our work: reported, not in the cycle total);
* ``import``    camt.053 (XSD-validated) or CSV receipts: match, apply, post to the ledger
                (phases: read = parse and validate the file, check, apply, ledger, late_fee);
* ``reconcile`` receivable vs collected vs posted (must agree);
* ``assess`` of the following month (2025-08), when the individual accounts exist: the
  steady-state cost of a month (the cycle is printed with both).

On PostgreSQL the planner statistics are refreshed (``ANALYZE``, untimed) before each stage.

Baseline: the obvious ORM implementation of assessment *and* posting on the first ``--sample``
persons of the same data, for 2025-09: per person, ORM queries for the enrolments, spell and
employer, the same formula on arrays of length one, an ORM insert of the contribution row,
one ledger ``post_entry`` per scheme, a commit. Printed: its persons/s and the speed ratio of
the set-based ``assess`` stage to it. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

REGION = "310104"
MONTH = dt.date(2025, 7, 1)
NEXT_MONTH = dt.date(2025, 8, 1)
BASELINE_MONTH = dt.date(2025, 9, 1)


def _peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Phases(dict):
    """Seconds per phase, summed over the calls (the runs' ``on_phase``)."""

    def add(self, name: str, seconds: float) -> None:
        self[name] = self.get(name, 0.0) + seconds

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.1f}" for k, v in self.items()) + " s"


def _stage(name, url, args, q):
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    actor = Actor(id="bench", role="collection_clerk")
    engine = make_engine(url)
    out: dict = {}
    phases = _Phases()
    t = time.perf_counter()
    if name == "generate":
        from shebao.devtools.synthetic_population import load_population
        p = load_population(engine, REGION, args["people"], seed=1, open_accounts=False)
        out["detail"] = f"{p.persons} persons, {p.employers} employers, {p.employees} employees, " \
                        f"{p.flexible} flexible, {p.residents} residents"
    elif name == "open-accounts":
        from shebao.collection.enrolment import open_accounts
        opened = open_accounts(engine, actor, region=REGION)
        out["detail"] = f"{sum(opened.values()):,} individual accounts opened at enrolment " \
                        f"({', '.join(f'{k} {v:,}' for k, v in opened.items())})"
    elif name == "assess":
        from shebao.collection.assess import assess
        r = assess(engine, actor, REGION, MONTH, chunk_size=args["chunk"], on_phase=phases.add)
        out["detail"] = f"{r.rows} contribution rows, {r.chunks} chunks, total " \
                        f"{r.total_fen / 100:,.2f} yuan; {phases}"
    elif name == "assess-next":
        from shebao.collection.assess import assess
        r = assess(engine, actor, REGION, NEXT_MONTH, chunk_size=args["chunk"],
                   on_phase=phases.add)
        out["detail"] = f"2025-08: {r.rows} rows (individual accounts exist already); {phases}"
    elif name == "bill":
        from shebao.collection.bills import make_bills
        b = make_bills(engine, actor, REGION, MONTH)
        out["detail"] = f"{b.bills} bills"
    elif name == "export":
        from shebao.collection.bank import export_bank
        x = export_bank(engine, actor, REGION, MONTH, out_dir=args["dir"],
                        fmt="pain008" if args["bank"] == "camt053" else "csv")
        out["detail"] = f"{x.transactions} debits, {x.path.stat().st_size / 1e6:.1f} MB"
        out["path"] = str(x.path)
    elif name == "bank":
        from shebao.collection.bank import simulate_bank
        p = simulate_bank(args["export"], fmt=args["bank"])
        out["detail"] = f"{p.stat().st_size / 1e6:.1f} MB statement"
        out["path"] = str(p)
    elif name == "import":
        from shebao.collection.bank import import_bank
        r = import_bank(engine, actor, args["statement"], region=REGION,
                        kept_dir=Path(args["dir"]) / "rejected", on_phase=phases.add)
        out["detail"] = f"{r.new} receipts, {r.partial} partial, {r.overpaid} over, " \
                        f"{r.unmatched} unmatched; {phases}"
    elif name == "reconcile":
        from shebao.collection.reconcile import reconcile
        r = reconcile(engine, actor, REGION, MONTH)
        out["detail"] = "all agree" if r.ok else f"{len(r.differences)} DIFFERENCES"
    elif name == "baseline":
        out["detail"] = _baseline(engine, actor, args["sample"])
    out["seconds"] = time.perf_counter() - t
    out["peak_mib"] = _peak()
    engine.dispose()
    q.put(out)


def _baseline(engine, actor, sample: int) -> str:
    """Row at a time through the ORM: the implementation the set-based path replaces."""
    import numpy as np
    from sqlalchemy.orm import Session, registry

    from shebao.collection import model
    from shebao.collection.tables import contribution
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line, account_code
    from shebao.registry.tables import employer, employment, enrolment
    from shebao.rules.formulas.contribution import (DEN, assess_employees, assess_flexible,
                                                    clamp_base, rate_set)
    from shebao.rules.loader import load_rules

    class Enrolment: pass  # noqa: E701
    class Employment: pass  # noqa: E701
    class Employer: pass  # noqa: E701
    class Contribution: pass  # noqa: E701
    reg = registry()
    for cls, tbl in ((Enrolment, enrolment), (Employment, employment), (Employer, employer),
                     (Contribution, contribution)):
        reg.map_imperatively(cls, tbl)
    rs = rate_set(load_rules(), REGION, BASELINE_MONTH)
    with engine.connect() as c:
        pids = [r[0] for r in c.exec_driver_sql(
            "SELECT DISTINCT person_id FROM enrolment WHERE region = ? ORDER BY person_id LIMIT ?"
            if engine.dialect.name == "sqlite" else
            "SELECT DISTINCT person_id FROM enrolment WHERE region = %s ORDER BY person_id "
            "LIMIT %s", (REGION, sample))]
    n_rows = 0
    with Session(engine) as s:
        for pid in pids:
            ens = s.query(Enrolment).filter_by(person_id=pid, region=REGION).all()
            schemes = {e.scheme for e in ens}
            kind = ens[0].kind
            amounts = {}
            if kind == "employee":
                sp = s.get(Employment, ens[0].employment_id)
                emp = s.get(Employer, ens[0].employer_id)
                base, how = clamp_base(np.array([sp.wage_fen or 0]), rs.floor_fen, rs.ceiling_fen)
                inj = rs.injury_rate_num(np.array([emp.risk_class]),
                                         np.array([emp.float_tier_pct * (DEN // 100)]))
                for ln, a in assess_employees(rs, base, inj).items():
                    if ln.scheme in schemes:
                        amounts[model.column_for(ln.scheme, ln.payer, ln.account)] = int(a[0])
                payer_type, payer_id = "E", emp.id
            elif kind == "flexible":
                base, how = clamp_base(np.array([rs.floor_fen]), rs.floor_fen, rs.ceiling_fen)
                for ln, a in assess_flexible(rs, base).items():
                    amounts[model.column_for(ln.scheme, ln.payer, ln.account)] = int(a[0])
                payer_type, payer_id = "F", pid
            else:
                continue
            row = Contribution()
            for c in model.AMOUNT_COLUMNS:
                setattr(row, c, amounts.get(c, 0))
            row.run_id, row.region, row.month, row.person_id = -1, REGION, BASELINE_MONTH, pid
            row.payer_type, row.payer_id, row.wage_fen = payer_type, payer_id, int(base[0])
            row.base_fen, row.clamp, row.basis, row.injury_num = int(base[0]), int(how[0]), 1, 0
            row.total_fen = sum(amounts.values())
            s.add(row)
            s.flush()
            conn = s.connection()
            for scheme in {c.split("_")[0] for c, v in amounts.items() if v}:
                pool = sum(v for c, v in amounts.items() if c.startswith(scheme) and "pool" in c)
                ind = sum(v for c, v in amounts.items() if c.startswith(scheme) and "_ind" in c)
                recv = "receivable_employer" if payer_type == "E" else "receivable_individual"
                lines = [Line(account_code(REGION, scheme, recv), pool + ind)]
                if pool:
                    lines.append(Line(account_code(REGION, scheme, "pooled_fund"), -pool))
                if ind:
                    lines.append(Line(account_code(REGION, scheme, "individual", pid), -ind))
                ledger.post_entry(conn, actor, f"baseline:{pid}:{scheme}", EntryRequest(
                    BASELINE_MONTH, tuple(lines), source="collection.assess", memo="baseline"))
            s.commit()
            n_rows += 1
    return f"{n_rows} persons"


def _analyze(url: str) -> None:
    """PostgreSQL: refresh planner statistics between stages (untimed). Tables grow from
    nothing to millions of rows inside one run; autovacuum would analyze them eventually, but
    a plan made on empty-table statistics (e.g. the ledger's account lookup by an unnest join)
    can take minutes instead of seconds, so the figures would measure autovacuum's timing."""
    if not url.startswith("postgresql"):
        return
    from shebao.db.engine import make_engine
    eng = make_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql("ANALYZE")
    eng.dispose()


def _in_child(name, url, args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_stage, args=(name, url, args, q))
    p.start()
    out = q.get()
    p.join()
    if p.exitcode:
        raise SystemExit(f"stage {name} failed")
    return out


def _fig(r: dict) -> dict:
    return {"seconds": round(r["seconds"], 3), "peak_mib": round(r["peak_mib"], 1),
            "detail": r["detail"]}


def setup(url: str, a: dict, accounts_at_enrolment: bool, figures: dict) -> None:
    from shebao.db.migrate import upgrade
    upgrade(url)
    g = _in_child("generate", url, a)
    figures["setup"] = _fig(g)
    print(f"  setup     {g['seconds']:8.2f} s   ({g['detail']}; peak {g['peak_mib']:.0f} MiB)",
          flush=True)
    if accounts_at_enrolment:
        _analyze(url)
        o = _in_child("open-accounts", url, a)
        figures["open_accounts_at_enrolment"] = _fig(o)
        print(f"  enrolment {o['seconds']:8.2f} s   ({o['detail']}; peak {o['peak_mib']:.0f} "
              f"MiB) — part of enrolment, not of a month", flush=True)


def first_contribution_baseline(url: str, args, figures: dict) -> None:
    """A fresh database set up the old way; only its first month is assessed."""
    a = {"people": args.people, "chunk": args.chunk, "dir": tempfile.mkdtemp(), "bank": args.bank,
         "sample": args.sample}
    print("baseline: accounts opened at the first contribution (the behaviour before #19)",
          flush=True)
    f: dict = {}
    setup(url, a, False, f)
    _analyze(url)
    r = _in_child("assess", url, a)
    f["assess_first_month"] = _fig(r)
    figures["baseline_first_contribution"] = f
    print(f"  assess    {r['seconds']:8.2f} s  {args.people / r['seconds']:>12,.0f} persons/s  "
          f"peak {r['peak_mib']:6.0f} MiB   {r['detail']}", flush=True)


def run(url: str, args, figures: dict) -> None:
    work = tempfile.mkdtemp(prefix="shebao_cycle_")
    a = {"people": args.people, "chunk": args.chunk, "dir": work, "bank": args.bank,
         "sample": args.sample}
    n = args.people
    at_enrolment = args.accounts_at == "enrolment"
    print(f"database: {url.split('@')[-1]}   people: {n:,}   chunk: {args.chunk:,}   "
          f"bank files: {'pain.008 / camt.053' if args.bank == 'camt053' else 'CSV'}   "
          f"accounts opened at: {args.accounts_at}", flush=True)
    setup(url, a, at_enrolment, figures)
    res = {}
    for st in ("assess", "bill", "export", "bank", "import", "reconcile"):
        _analyze(url)
        r = _in_child(st, url, a)
        res[st] = r
        if st == "export":
            a["export"] = r["path"]
        if st == "bank":
            a["statement"] = r["path"]
        note = " (the bank's side: not in the total)" if st == "bank" else ""
        print(f"  {st:<9} {r['seconds']:8.2f} s  {n / r['seconds']:>12,.0f} persons/s  "
              f"peak {r['peak_mib']:6.0f} MiB   {r['detail']}{note}", flush=True)
    total = sum(r["seconds"] for k, r in res.items() if k != "bank")
    opens = "accounts exist since enrolment" if at_enrolment else "opens the individual accounts"
    print(f"  cycle     {total:8.2f} s  {n / total:>12,.0f} persons/s  (assess → bill → "
          f"export → import/post → reconcile; first month, {opens})", flush=True)
    figures["first_month"] = {k: _fig(r) for k, r in res.items()}
    figures["cycle_first_month_seconds"] = round(total, 3)
    _analyze(url)
    nx = _in_child("assess-next", url, a)
    steady = total - res["assess"]["seconds"] + nx["seconds"]
    print(f"  assess    {nx['seconds']:8.2f} s  {n / nx['seconds']:>12,.0f} persons/s  "
          f"peak {nx['peak_mib']:6.0f} MiB   {nx['detail']}", flush=True)
    print(f"  cycle     {steady:8.2f} s  {n / steady:>12,.0f} persons/s  (a following month: "
          f"this assess + the other stages above)", flush=True)
    figures["assess_following_month"] = _fig(nx)
    figures["cycle_following_month_seconds"] = round(steady, 3)
    b = _in_child("baseline", url, a)
    per = b["seconds"] / args.sample
    fast = nx["seconds"] / n
    print(f"  row-at-a-time ORM assessment + posting on {b['detail']}: {b['seconds']:.2f} s "
          f"({1 / per:,.0f} persons/s, peak {b['peak_mib']:.0f} MiB); extrapolated to {n:,}: "
          f"{per * n:,.0f} s", flush=True)
    print(f"  speed ratio set-based assess of a following month (incl. posting) / row-at-a-time: {per / fast:,.0f}×",
          flush=True)
    figures["row_at_a_time"] = {**_fig(b), "persons_per_second": round(1 / per, 1),
                                "ratio": round(per / fast, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--bank", choices=("camt053", "csv"), default="camt053")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--accounts-at", choices=("enrolment", "first-contribution"),
                    default="enrolment")
    ap.add_argument("--compare-first-contribution", action="store_true",
                    help="also set up a database the old way and assess its first month")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results import loadavg, save
    before = loadavg()
    figures: dict = {"people": args.people, "db": "sqlite" if args.db.startswith("sqlite")
                     else "postgresql", "accounts_at": args.accounts_at}
    if args.db == "sqlite" or args.db.startswith("sqlite"):
        url = args.db if args.db.startswith("sqlite:") else \
            f"sqlite:///{tempfile.mkdtemp(prefix='shebao_bench_')}/cycle.db"
        run(url, args, figures)
        if args.compare_first_contribution:
            first_contribution_baseline(
                f"sqlite:///{tempfile.mkdtemp(prefix='shebao_bench_')}/old.db", args, figures)
    else:
        from shebao.devtools.scratch_db import scratch_database

        from shebao.db.engine import database_url
        with scratch_database("postgresql", admin=database_url(args.db), prefix="shebao_cycle",
                              keep=args.keep, migrate=False) as url:
            run(url, args, figures)
        if args.compare_first_contribution:
            with scratch_database("postgresql", admin=database_url(args.db),
                                  prefix="shebao_cycle_old", keep=args.keep,
                                  migrate=False) as url:
                first_contribution_baseline(url, args, figures)
    if "baseline_first_contribution" in figures:
        old = figures["baseline_first_contribution"]["assess_first_month"]["seconds"]
        new = figures["first_month"]["assess"]["seconds"]
        nxt = figures["assess_following_month"]["seconds"]
        print(f"first month's assess: {new:.2f} s with accounts opened at enrolment vs "
              f"{old:.2f} s opening them at the first contribution (a following month: "
              f"{nxt:.2f} s)", flush=True)
    print(f"load average before {before} after {loadavg()}", flush=True)
    save("monthly_cycle", figures, load_before=before)


if __name__ == "__main__":
    main()
