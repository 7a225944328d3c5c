"""The column path of pension determination (``retirement_batch``) against the per-case path
(``model.gather``): the same cases computed both ways give the same status, amounts and
decision — every input, every parameter, the arithmetic — on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import select

from shebao.benefits import case_compute, decision_record, determination as det
from shebao.benefits.tables import pension_case
from shebao.core.money import to_fen
from shebao.rules import load_rules
from shebao.rules.formulas.retirement import statutory_retirement

from .conftest import MAKER, average_wage_years, fund_account, make_person

# sources with characters JSON must escape, and one non-ASCII
SOURCES = ("legacy import", 'old system "A"\\2', "档案补录")


def _world(engine) -> tuple[list[int], set[int]]:
    """Persons of many shapes; returns (case ids, ids of the early-retirement cases)."""
    rules = load_rules()
    rng = np.random.default_rng(20261205)
    wages = {y: to_fen(rules.value("wage.average_monthly", "310000", dt.date(y, 7, 1)))
             for y in range(2000, 2025)}
    cases, early = [], set()
    for seq in range(1, 41):
        male = seq % 5 != 0
        # men of 1965-08 retire in 2025-10 on their birth day (31 → the 31st of October;
        # 1965-08-29/30/31 exercise the month-length rule); women are female_worker
        birth = dt.date(1965, 8, 1 + (seq * 7) % 31) if male else dt.date(1975, 3, 1 + seq % 28)
        region = ("310000", "310104", "310115")[seq % 3]
        pid = make_person(engine, birth, male=male, seq=seq, region=region)
        shape = seq % 10
        rows = []
        years = sorted(rng.choice(np.arange(2001, 2025), size=20, replace=False).tolist())
        partial = set(rng.choice(years, size=4, replace=False).tolist())
        if shape == 7:
            years = years[:8]                                      # too few months: ineligible
        for y in years:
            months = int(rng.integers(1, 12)) if y in partial else 12
            # index from 0.3 to 3.6: both clamps of the bounds occur
            factor = int(rng.integers(30, 360))
            rows.append(dict(region=region, period_start=dt.date(y, int(rng.integers(1, 13)), 1)
                             if months < 12 else dt.date(y, 1, 1), months=months,
                             base_total_fen=wages[y] * factor * months // 100,
                             source=SOURCES[int(rng.integers(0, 3))]))
        if shape in (2, 5):                                         # deemed service
            rows.append(dict(region=region, period_start=dt.date(1990 + seq % 5, 1, 1),
                             months=12, kind="deemed"))
        if shape == 9:                                              # a period after retirement
            rows.append(dict(region=region, period_start=dt.date(2030, 1, 1), months=3,
                             base_total_fen=wages[2024] * 3))
        # unique (person, region, period_start): merge years that drew the same start
        seen, clean = set(), []
        for r in rows:
            if (r["period_start"], r["region"]) not in seen:
                seen.add((r["period_start"], r["region"]))
                clean.append(r)
        if shape != 3:                                              # 3: no history at all
            det.record_history(engine, MAKER, pid, clean)
        if shape != 4:                                              # 4: no individual account
            fund_account(engine, region, pid, int(rng.integers(1, 40_000_000)),
                         dt.date(2024, 12, 31))
            if not male:            # a credit on the first day of her retirement month
                rr = statutory_retirement(rules, np.array([birth.year]), np.array([birth.month]),
                                          np.array([birth.day]), "female_worker", region)
                fund_account(engine, region, pid, 222_222,
                             dt.date(int(rr.year[0]), int(rr.month[0]), 1), key=f"d{pid}")
            if shape in (1, 6):     # credits of the retirement year: before, in and after the month
                fund_account(engine, region, pid, 123_456, dt.date(2025, 3, 31), key=f"a{pid}")
                fund_account(engine, region, pid, 654_321, dt.date(2025, 11, 30), key=f"b{pid}")
                fund_account(engine, region, pid, 111_111, dt.date(2025, 10, 1), key=f"c{pid}")
        claim = dict(claim="early", requested_date=dt.date(2025, 9, 15)) if shape == 8 else {}
        cid = det.open_case(engine, MAKER, pid, region=region,
                            category=None if male else "female_worker", **claim)
        cases.append(cid)
        if shape == 8:
            early.add(cid)
    return cases, early


def _stored(conn, ids):
    rows = conn.execute(select(pension_case).where(pension_case.c.id.in_(ids))).mappings()
    return {r["id"]: (r["status"], r["basic_fen"], r["account_fen"], r["transitional_fen"],
                      r["total_fen"], str(r["retirement_date"])[:10], r["missing"],
                      r["options"], r["decision"]) for r in rows}


def test_column_path_gives_the_per_case_decision(engine):
    cases, early = _world(engine)
    with engine.begin() as conn:
        first = _stored(conn, cases)
        expanded = {c: (*v[:-1], decision_record.load(conn, v[-1])) for c, v in first.items()}
        case_compute.compute_cases(conn, cases, columns=False)     # the reference
        again = _stored(conn, cases)
        reference = {c: (*v[:-1], json.loads(v[-1])) for c, v in again.items()}
        for c in cases:
            assert expanded[c] == reference[c], c
        statuses = {v[0] for v in reference.values()}
        assert {"computed", "incomplete", "ineligible"} <= statuses
        # every computed statutory case went through the column path (a compact decision);
        # the others (early claim, what is missing, too few months) case by case
        compact = {c for c, v in first.items() if json.loads(v[-1]).get("v") == 2}
        regular = {c for c, v in reference.items() if v[0] == "computed" and c not in early}
        assert compact == regular and len(regular) >= 15
        # the same cases through the column path again: the same again
        case_compute.compute_cases(conn, cases)
        third = _stored(conn, cases)
        assert {c: (*v[:-1], decision_record.load(conn, v[-1])) for c, v in third.items()} \
            == reference
        # a compact decision keeps what is its own; the shared part is stored once
        c0 = min(regular)
        assert len(first[c0][-1]) * 3 < len(again[c0][-1])
        conn.rollback()


def test_batch_of_a_month_uses_the_column_path(engine):
    # a month's retirements by open_batch: the men with full records computed in columns,
    # and a case read back through get_case shows the full decision with its record
    pids = []
    for seq in range(1, 4):
        pid = make_person(engine, dt.date(1965, 8, 10 + seq), seq=seq)
        det.record_history(engine, MAKER, pid, average_wage_years(range(2008, 2025)))
        fund_account(engine, "310000", pid, 10_000_000, dt.date(2024, 12, 31))
        pids.append(pid)
    res = det.open_batch(engine, MAKER, "310000", dt.date(2025, 10, 1))
    assert res.opened == 3 and res.by_status == {"computed": 3}
    case = det.get_case(engine, MAKER, res.case_ids[0])
    d = case["decision"]
    assert d["inputs"]["contribution_months"] == 17 * 12
    assert d["inputs"]["avg_index"] == "1"               # every year at the average wage
    assert len(d["inputs"]["history"]["periods"]) == 17
    assert case["contribution_record"][0].startswith("2008-07 × 12 month(s) paid in 310000")
    assert {p["name"] for p in d["parameters"]} >= {"wage.average_monthly",
                                                    "pension.calc_base", "pension.divisor"}
    assert d["result"]["total"] == case["total"]
    # copied in finished: the case's own columns read back as the table defines them
    assert isinstance(case["opened_at"], dt.datetime) and case["opened_by"] == MAKER.id
    assert isinstance(case["computed_at"], dt.datetime) and case["status"] == "computed"
    assert str(case["retirement_date"])[:10] == d["inputs"]["retirement_date"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_second_batch_of_the_province_is_refused_while_one_runs(engine):
    # two batches at once would open the same persons' cases: the second is refused at once
    # (PostgreSQL; on SQLite the second writer waits for the first's transaction)
    from shebao.core.errors import AlreadyRunning
    from shebao.db.dialect import try_xact_lock

    pid = make_person(engine, dt.date(1965, 8, 20))
    fund_account(engine, "310000", pid, 1_000_000, dt.date(2024, 12, 31))
    with engine.connect() as other:
        with other.begin():
            assert try_xact_lock(other, det.LOCK_NS, "pension.open_batch:31")
            with pytest.raises(AlreadyRunning, match="already being opened"):
                det.open_batch(engine, MAKER, "310104", dt.date(2025, 10, 1))   # a district
    with engine.connect() as c:
        assert c.execute(select(pension_case.c.id)).first() is None
    assert det.open_batch(engine, MAKER, "310000", dt.date(2025, 10, 1)).opened == 1
