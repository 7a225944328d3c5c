"""Medical settlement of N claim lines on PostgreSQL, beside a row-at-a-time baseline in the
same run.

    PYTHONPATH=src .venv/bin/python bench/medical_settlement.py --lines 1000000 [--sample 2000]

Setup (not timed): a freshly migrated throw-away PostgreSQL database; one tertiary hospital in
Beijing (110105) and a catalogue of 1,000 items (A/B/C) for Beijing and Shanghai; N/5 claims of
5 lines each in 2025 (20% retired, 10% outpatient, 10% treated in Shanghai without a
registration: off-site, the lower ratio and inter-region clearing accounts) for N/10 persons
insured in 110105 — so caps, later-stay deductibles and the serious-illness layer all occur —
plus ``--sample`` claims of the same shape insured in 110106 for the baseline. Written by
``INSERT … SELECT generate_series`` (bench data, not a use case).

Timed, each in a fresh child process:
* ``set-based``: ``medical.settle.settle`` over 110105 — mark the run's claims, read claims
  and lines (joined to the catalogue) as packed int64 matrices, the persons' year so far, numpy
  arithmetic (``rules.formulas.medical``), COPY the settlement rows, one ledger batch; one
  transaction, one audit row;
* ``row-at-a-time`` baseline on 110106: per claim (admission order) read the claim, its lines
  with their classes and the person's year so far, settle it alone with the same formulas,
  insert its settlement row, mark it settled and post its own ledger entry — one transaction
  per claim, the obvious implementation — extrapolated to N lines.

Writes ``bench/results/medical_settlement.json``. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from payroll import _in_child, peak_rss_kib  # noqa: E402
from results import loadavg, save  # noqa: E402
from shebao.devtools.scratch_db import scratch_database  # noqa: E402

CLERK = dict(id="bench_clerk", role="benefits_clerk", scope="national")

_CLAIMS = """
INSERT INTO medical_claim (id, provider_id, person_id, bill_no, insured_region,
  treatment_region, catalogue_region, scheme, person_type, level, inpatient, offsite,
  use_account, admitted_on, total_fen, lines, fingerprint, channel, status, created_by,
  created_at)
SELECT g, :prov, :p0 + (g - :c0) % :persons, 'B' || g, :region,
       CASE WHEN g % 10 = 3 THEN '310104' ELSE '110105' END,
       CASE WHEN g % 10 = 3 THEN '310000' ELSE '110000' END,
       'medical', CASE WHEN g % 5 = 0 THEN 1 ELSE 0 END, 0, g % 10 <> 7,
       CASE WHEN g % 10 = 3 THEN 5 ELSE 0 END, false,
       DATE '2025-01-01' + CAST((g * 37) % 360 AS INTEGER), 0, 5, md5(g::text), 'file', 'submitted', 'bench',
       now()
FROM generate_series(CAST(:c0 AS BIGINT), CAST(:c1 AS BIGINT)) g"""

_LINES = """
INSERT INTO medical_claim_line (claim_id, line_no, item_code, amount_fen)
SELECT g, k, 'I' || ((g * 7 + k * 13) % 1200), 1000 + (g * 7919 + k * 104729) % 1200000
FROM generate_series(CAST(:c0 AS BIGINT), CAST(:c1 AS BIGINT)) g, generate_series(1, 5) k"""


def seed(url: str, n_lines: int, sample: int) -> dict:
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.medical import providers
    eng = make_engine(url)
    clerk = Actor(**CLERK)
    prov = providers.register_provider(eng, clerk, code="H110105001", name="北京某三甲医院",
                                       region="110105", kind="hospital", level="tertiary")
    rows = ["code,name,kind,class,valid_from"] + [
        f"I{i},item {i},drug,{'ABBC'[i % 4]},2020-01-01" for i in range(1000)]
    for r in ("110000", "310000"):
        providers.load_catalogue(eng, clerk, r, "\n".join(rows) + "\n")
    n_claims = n_lines // 5
    with eng.begin() as conn:
        for region, c0, c1, p0, persons in (
                ("110105", 1, n_claims, 1, max(n_claims // 2, 1)),
                ("110106", n_claims + 1, n_claims + sample, 10**7, max(sample // 2, 1))):
            p = {"prov": prov, "region": region, "c0": c0, "c1": c1, "p0": p0,
                 "persons": persons}
            conn.execute(text(_CLAIMS), p)
            conn.execute(text(_LINES), p)
        conn.execute(text("UPDATE medical_claim m SET total_fen = s.t FROM (SELECT claim_id, "
                          "SUM(amount_fen) t FROM medical_claim_line GROUP BY claim_id) s "
                          "WHERE s.claim_id = m.id"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('medical_claim', 'id'), "
                          "(SELECT max(id) FROM medical_claim))"))
        conn.exec_driver_sql("ANALYZE")
    eng.dispose()
    return {"claims": n_claims, "sample_claims": sample}


def _child_seed(url, n, sample, q):
    t0 = time.perf_counter()
    out = seed(url, n, sample)
    q.put({"seconds": time.perf_counter() - t0, **out})


def _child_set_based(url, q):
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.medical import settle
    eng = make_engine(url)
    t0 = time.perf_counter()
    out = settle.settle(eng, Actor(**CLERK), "110105", on=dt.date(2026, 1, 15))
    q.put({"seconds": time.perf_counter() - t0, "rss_kib": peak_rss_kib(), **out})


_ONE_CLAIM = """SELECT id, person_id, person_type, level, CASE WHEN inpatient THEN 1 ELSE 0 END,
 offsite, 0, CAST(insured_region AS BIGINT), CAST(treatment_region AS BIGINT),
 CAST(catalogue_region AS BIGINT), 0, admitted_on - DATE '1970-01-01', total_fen
FROM medical_claim WHERE id = :id"""
_ONE_LINES = """SELECT l.claim_id, l.amount_fen,
 CASE c.class WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE 3 END
FROM medical_claim_line l JOIN medical_claim m ON m.id = l.claim_id
LEFT JOIN medical_catalogue_item c ON c.region = m.catalogue_region AND c.code = l.item_code
 AND c.valid_from <= m.admitted_on AND (c.valid_to IS NULL OR c.valid_to >= m.admitted_on)
WHERE l.claim_id = :id"""
_ONE_PRIOR = """SELECT s.person_id, s.year * 10, SUM(s.basic_fen), SUM(s.serious_fen),
 SUM(s.inpatient) FROM medical_settlement s
WHERE s.person_id = :p AND s.year = :y GROUP BY s.person_id, s.year"""


def _child_row_at_a_time(url, q):
    from shebao.core.actor import Actor
    from shebao.db.engine import make_engine
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line
    from shebao.medical import settle
    from shebao.medical.tables import SETTLED_AMOUNTS
    from shebao.rules.loader import load_rules
    eng = make_engine(url)
    actor = Actor(**CLERK)
    rules = load_rules()
    with eng.begin() as conn:
        ids = [r[0] for r in conn.execute(text(
            "SELECT id FROM medical_claim WHERE insured_region = '110106' "
            "ORDER BY person_id, admitted_on, id"))]
        ledger.open_chart(conn, actor, "110106", ("medical",))
        ledger.open_chart(conn, actor, "310104", ("medical",))
    t0 = time.perf_counter()
    lines = 0
    for cid in ids:
        with eng.begin() as conn:
            c = np.array([tuple(conn.execute(text(_ONE_CLAIM), {"id": cid}).one())], np.int64)
            ln = np.array([tuple(r) for r in conn.execute(text(_ONE_LINES), {"id": cid})],
                          np.int64)
            year = int((np.datetime64("1970-01-01") + int(c[0, 11])).astype(
                "datetime64[Y]").astype(int) + 1970)
            pr = [tuple(r) for r in conn.execute(text(_ONE_PRIOR),
                                                 {"p": int(c[0, 1]), "y": year})]
            prior = np.array(pr, np.int64).reshape(-1, 5)
            order, r, yr, _ = settle.compute(rules, c, ln, prior, np.zeros((0, 3), np.int64))
            vals = {a: int(getattr(r, a[:-4])[0]) for a in SETTLED_AMOUNTS}
            conn.execute(text(
                "INSERT INTO medical_settlement (claim_id, run_id, person_id, year, inpatient, "
                "offsite, " + ", ".join(SETTLED_AMOUNTS) + ") VALUES (:c, 0, :p, :y, :i, :o, "
                + ", ".join(f":{a}" for a in SETTLED_AMOUNTS) + ")"),
                {"c": cid, "p": int(c[0, 1]), "y": year, "i": int(c[0, 4]), "o": int(c[0, 5]),
                 **vals})
            conn.execute(text("UPDATE medical_claim SET status = 'settled' WHERE id = :c"),
                         {"c": cid})
            fund = vals["basic_fen"] + vals["serious_fen"]
            if fund:
                ls = [Line.debit("110106.medical.pooled_fund", vals["basic_fen"])] \
                    if vals["basic_fen"] else []
                if vals["serious_fen"]:
                    ls.append(Line.debit("110106.medical.expenses", vals["serious_fen"]))
                ls.append(Line.credit("110106.medical.benefits_payable", fund))
                ledger.post_entry(conn, actor, f"bench-claim:{cid}",
                                  EntryRequest(dt.date(2026, 1, 15), tuple(ls),
                                               source="medical.settle"))
            lines += len(ln)
    q.put({"seconds": time.perf_counter() - t0, "claims": len(ids), "lines": lines,
           "rss_kib": peak_rss_kib()})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=2000, help="baseline claims (5 lines each)")
    ap.add_argument("--pg-admin", default=None)
    args = ap.parse_args()
    before = loadavg()
    with scratch_database("postgresql", admin=args.pg_admin, prefix="medical_bench") as url:
        sd = _in_child(_child_seed, url, args.lines, args.sample)
        print(f"seeded {sd['claims']} claims ({args.lines} lines) + {sd['sample_claims']} "
              f"baseline claims in {sd['seconds']:.1f} s")
        sb = _in_child(_child_set_based, url)
        print(f"set-based: {sb['claims']} claims, {sb['lines']} lines in {sb['seconds']:.2f} s "
              f"({sb['lines'] / sb['seconds']:,.0f} lines/s), peak RSS {sb['rss_kib'] // 1024} "
              f"MiB; fund {sb['basic'] / 100:,.2f} serious {sb['serious'] / 100:,.2f}")
        rb = _in_child(_child_row_at_a_time, url)
        per_line = rb["seconds"] / max(rb["lines"], 1)
        est = per_line * args.lines
        print(f"row-at-a-time: {rb['claims']} claims, {rb['lines']} lines in "
              f"{rb['seconds']:.2f} s ({rb['lines'] / rb['seconds']:,.0f} lines/s) → "
              f"{est:,.0f} s for {args.lines} lines (extrapolated); set-based is "
              f"{est / sb['seconds']:.0f}× faster")
    save("medical_settlement", {
        "args": vars(args),
        "figures": {"seed_seconds": round(sd["seconds"], 2),
                    "set_based": {k: (round(v, 3) if isinstance(v, float) else v)
                                  for k, v in sb.items()},
                    "row_at_a_time": {k: (round(v, 3) if isinstance(v, float) else v)
                                      for k, v in rb.items()},
                    "row_at_a_time_extrapolated_seconds": round(est, 1),
                    "speedup": round(est / sb["seconds"], 1),
                    "within_30_s": sb["seconds"] <= 30}}, load_before=before)
    print(json.dumps({"set_based_seconds": round(sb["seconds"], 2),
                      "baseline_extrapolated_seconds": round(est, 1)}))


if __name__ == "__main__":
    mp.freeze_support()
    main()
