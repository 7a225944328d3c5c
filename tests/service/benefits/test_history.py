"""One contribution record for determination: legacy pension_history ∪ the months shebao's
collection bureau assessed for the pension scheme and collected in full (real databases)."""
from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

from sqlalchemy import select

from shebao.benefits import case_compute, decision_record
from shebao.benefits import determination as det
from shebao.benefits import history as H
from shebao.benefits.record import SHEBAO_SOURCE
from shebao.benefits.tables import pension_case
from shebao.formats import receipts_csv
from shebao.collection import bank, bills, declarations
from shebao.collection.assess import assess
from shebao.collection.model import e2e_id
from shebao.collection.tables import bill, bill_line
from shebao.core.actor import Actor
from shebao.core.money import round_half_up, to_fen
from shebao.registry import service as registry
from shebao.rules import load_rules

from .conftest import ADMIN, MAKER, make_person

REGION = "310104"
CLERK = Actor(id="coll-clerk", role="collection_clerk", scope="310000")
JUL, AUG, SEP = dt.date(2025, 7, 1), dt.date(2025, 8, 1), dt.date(2025, 9, 1)
WAGE_FEN = 1_000_000          # 10000.00 a month: inside Shanghai's 2025 floor and ceiling


def _uscc() -> str:
    from stdnum.cn import uscc
    body = f"91{REGION}MA1BF0001"[:17]
    return body + uscc.calc_check_digit(body)


def _employee(engine) -> tuple[int, int]:
    # man born 1965-09-15: k = 8 → +3 months → retires 2025-12-15 (pension from 2026-01)
    pid = make_person(engine, dt.date(1965, 9, 15), seq=71, region=REGION)
    eid = registry.register_employer(engine, ADMIN, uscc=_uscc(), name="测试养老有限公司",
                                     region=REGION, industry_code="65", float_tier_pct=100,
                                     bank_name="BANK", bank_account="6222000000000099",
                                     valid_from=dt.date(2020, 1, 1))
    registry.start_employment(engine, ADMIN, pid, eid, dt.date(2024, 1, 1), wage_fen=WAGE_FEN,
                              wage_year=2024)
    return pid, eid


def _bill(engine, eid: int, month: dt.date) -> tuple[str, int, int]:
    """(end-to-end id, bill total, pension line) of the employer's bill for the month."""
    e2e = e2e_id(REGION, month, "E", eid)
    with engine.connect() as c:
        b = c.execute(select(bill.c.id, bill.c.total_fen).where(bill.c.e2e_id == e2e)).one()
        line = c.execute(select(bill_line.c.amount_fen).where(
            (bill_line.c.bill_id == b.id) & (bill_line.c.scheme == "pension"))).scalar_one()
    return e2e, int(b.total_fen), int(line)


def _pay(engine, tmp_path, name: str, payments: list[tuple[str, int]], day: dt.date) -> None:
    data = receipts_csv.build([f"R{name}{i:04d}" for i in range(len(payments))],
                              [e for e, _ in payments], [a for _, a in payments], day)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    res = bank.import_bank(engine, CLERK, path, region=REGION, kept_dir=tmp_path / "kept")
    assert res.new == len(payments)


def _collect(engine, months) -> None:
    for m in months:
        assess(engine, CLERK, REGION, m)
        bills.make_bills(engine, CLERK, REGION, m)


def _legacy_years(first: int, last: int) -> list[dict]:
    """Yearly legacy periods (July–June) at exactly the average wage: index 1.0 each year."""
    rules = load_rules()
    return [dict(region=REGION, period_start=dt.date(y, 7, 1), months=12,
                 base_total_fen=to_fen(rules.value("wage.average_monthly", REGION,
                                                   dt.date(y, 7, 1))) * 12,
                 source="legacy import") for y in range(first, last + 1)]


def _decision(engine, cid: int) -> dict:
    """The case as a clerk reads it — and, computed, the same decision as the per-case path
    gives (the column path stored it compactly; the reference is recomputed and rolled back)."""
    case = det.get_case(engine, MAKER, cid)
    if case["status"] == "computed":
        with engine.begin() as c:
            stored = c.execute(select(pension_case.c.decision).where(
                pension_case.c.id == cid)).scalar_one()
            assert json.loads(stored).get("v") == 2          # the column path computed it
            case_compute.compute_cases(c, [cid], columns=False)
            again = json.loads(c.execute(select(pension_case.c.decision).where(
                pension_case.c.id == cid)).scalar_one())
            c.rollback()
        assert again == case["decision"]
    return case


def test_paid_shebao_months_count_assessed_unpaid_do_not(engine, tmp_path):
    pid, eid = _employee(engine)
    det.record_history(engine, MAKER, pid, _legacy_years(2010, 2024), source="legacy import")
    _collect(engine, (JUL, AUG, SEP))
    e_jul, t_jul, p_jul = _bill(engine, eid, JUL)
    e_aug, t_aug, _ = _bill(engine, eid, AUG)
    e_sep, t_sep, p_sep = _bill(engine, eid, SEP)
    # pension of a 10000.00 base: 16 % employer + 8 % employee = 2400.00
    assert p_jul == p_sep == 240000
    # July and August paid in full; September: less than its pension line (pension fills first)
    _pay(engine, tmp_path, "a", [(e_jul, t_jul), (e_aug, t_aug), (e_sep, p_sep - 100)],
         dt.date(2025, 10, 10))

    cid = det.open_case(engine, MAKER, pid, region=REGION)
    case = _decision(engine, cid)
    assert case["status"] == "computed", case["missing"]
    inp = case["decision"]["inputs"]
    # 180 legacy months + July and August from shebao; September assessed but not paid in full
    assert inp["paid_months"] == inp["contribution_months"] == 182
    h = inp["history"]
    assert h["legacy"]["paid_months"] == 180 and h["shebao"]["paid_months"] == 2
    assert h["shebao"]["unpaid_months"] == 1
    assert [x["month"] for x in h["not_counted"]] == ["2025-09"]
    assert h["not_counted"][0]["bills"] == [e_sep]
    # the decision says where each period came from
    shebao = [p for p in inp["periods"] if p["origin"] == "shebao"]
    assert [(p["period_start"], p["months"], p["base_total"]) for p in shebao] == [
        ("2025-07-01", 2, "20000.00")]                 # one run: same base, same wage
    assert shebao[0]["source"] == SHEBAO_SOURCE
    assert {p["source"] for p in inp["periods"] if p["origin"] == "legacy"} == {"legacy import"}
    # …and in words, beside the decision, for the citizen and the clerk
    rec = case["contribution_record"]
    assert rec[0] == "2010-07 × 12 month(s) paid in 310104 — legacy record (legacy import)"
    assert "2025-07 × 2 month(s) paid in 310104 — shebao's own record (assessed and paid)" in rec
    assert rec[-1].startswith("2025-09 not counted — assessed by shebao but")
    # the average index, exactly: 180 months at 1.0, 2 months at 10000 / average wage
    rules = load_rules()
    w = to_fen(rules.value("wage.average_monthly", REGION, JUL))
    lo, hi = (Fraction(str(x)) for x in rules.value("pension.contribution_index_bounds",
                                                    REGION, dt.date(2025, 12, 15)).values())
    idx = min(max(Fraction(WAGE_FEN, w), lo), hi)
    expect = round_half_up((180 + 2 * idx) * 1_000_000 / 182)
    assert inp["avg_index_scaled"] == expect

    # September's arrears are paid: recomputing counts it
    _pay(engine, tmp_path, "b", [(e_sep, t_sep - (p_sep - 100))], dt.date(2025, 10, 20))
    assert det.recompute_case(engine, MAKER, cid) == "computed"
    inp = _decision(engine, cid)["decision"]["inputs"]
    assert inp["paid_months"] == 183 and inp["history"]["not_counted"] == []


def test_a_month_in_both_sources_counts_once_from_shebaos_record(engine, tmp_path):
    pid, eid = _employee(engine)
    rules = load_rules()
    rows = _legacy_years(2010, 2023)                                   # 168 months
    # the old system also sent January–September 2025 (9 months at 8000.00): July–September
    # are shebao's own months, so only January–June of this period count from legacy
    rows.append(dict(region=REGION, period_start=dt.date(2025, 1, 1), months=9,
                     base_total_fen=9 * 800_000, source="legacy import"))
    rows.append(dict(region=REGION, period_start=dt.date(2024, 7, 1), months=6,
                     base_total_fen=6 * 800_000, source="legacy import"))  # Jul–Dec 2024
    det.record_history(engine, MAKER, pid, rows, source="legacy import")
    _collect(engine, (JUL, AUG, SEP))
    pays = [(_bill(engine, eid, m)[0], _bill(engine, eid, m)[1]) for m in (JUL, AUG, SEP)]
    _pay(engine, tmp_path, "c", pays, dt.date(2025, 10, 10))

    with engine.connect() as c:
        periods, not_counted = H.history_rows(c, [pid])[pid]
    assert not_counted == []
    by_origin = {(p.origin, p.period_start): p for p in periods}
    trimmed = by_origin[("legacy", dt.date(2025, 1, 1))]
    assert (trimmed.months, trimmed.superseded_months, trimmed.index_months) == (6, 3, 9)
    assert [p.period_start for p in periods if p.origin == "shebao"] == [JUL, AUG, SEP]

    cid = det.open_case(engine, MAKER, pid, region=REGION)
    case = _decision(engine, cid)
    assert case["status"] == "computed", case["missing"]
    inp = case["decision"]["inputs"]
    # 168 + 6 (Jul–Dec 2024) + 6 (Jan–Jun 2025) legacy + 3 shebao = 183, not 186
    assert inp["contribution_months"] == 183
    assert inp["history"]["legacy"]["superseded_by_shebao_months"] == 3
    p25 = next(p for p in inp["periods"] if p["period_start"] == "2025-01-01")
    assert p25["origin"] == "legacy" and p25["months"] == 6 and p25["superseded_months"] == 3
    # the trimmed legacy period keeps its own index (8000.00 / average wage), weight 6
    lo, hi = (Fraction(str(x)) for x in rules.value("pension.contribution_index_bounds",
                                                    REGION, dt.date(2025, 12, 15)).values())

    def ix(base, on):
        return min(max(Fraction(base, to_fen(rules.value("wage.average_monthly", REGION, on))),
                       lo), hi)
    acc = 168 + 6 * ix(800_000, dt.date(2024, 7, 1)) + 6 * ix(800_000, dt.date(2025, 1, 1)) \
        + 3 * ix(WAGE_FEN, JUL)
    assert inp["avg_index_scaled"] == round_half_up(acc * 1_000_000 / 183)
    # stored decision JSON carries the sources too (what the citizen's record shows)
    with engine.connect() as c:
        stored = decision_record.load(c, c.execute(select(pension_case.c.decision).where(
            pension_case.c.id == cid)).scalar_one())
    assert stored["inputs"]["history"]["rule"].startswith("legacy history")


def test_no_history_at_all_is_still_reported_missing(engine):
    pid = make_person(engine, dt.date(1965, 9, 15), seq=72, region=REGION)
    with engine.connect() as c:
        assert H.history_rows(c, [pid]) == {pid: ([], [])}
    cid = det.open_case(engine, MAKER, pid, region=REGION)
    case = _decision(engine, cid)
    assert case["status"] == "incomplete"
    assert "no paid or deemed period" in case["missing"][0]


def test_record_histories_checks_everything_before_writing(engine):
    import pytest
    from shebao.benefits.tables import pension_history
    from shebao.core.errors import InputError
    a = make_person(engine, dt.date(1965, 9, 15), seq=73, region=REGION)
    b = make_person(engine, dt.date(1965, 9, 15), seq=74, region=REGION)
    good = _legacy_years(2010, 2024)
    with pytest.raises(InputError) as info:
        det.record_histories(engine, MAKER, {a: good, b: [dict(good[0], months=13)]},
                             source="legacy import")
    assert info.value.field == f"persons[{b}][0].months"
    with engine.connect() as c:
        assert c.execute(select(pension_history)).all() == []
    assert det.record_histories(engine, MAKER, {a: good, b: good[:3]},
                                source="legacy import") == 18
    cids = [det.open_case(engine, MAKER, p, region=REGION) for p in (a, b)]
    # a's record is 180 months but no individual account: incomplete; b is short: ineligible
    assert det.recompute_cases(engine, MAKER, cids) == {cids[0]: "incomplete",
                                                        cids[1]: "ineligible"}


def test_the_columns_read_gives_collections_rows(engine, tmp_path):
    # collection.queries.contribution_record_columns (the column path's read) against
    # contribution_record row by row: a correction run (a later declaration: the latest
    # run's base), a month with no bill yet, a partly paid pension line
    from shebao.collection.queries import contribution_record, contribution_record_columns

    pid, eid = _employee(engine)
    _collect(engine, (JUL, AUG))
    declarations.declare_wage(engine, CLERK, person_id=pid, employer_id=eid, year=2025,
                              wage_fen=1_200_000)
    assess(engine, CLERK, REGION, JUL)                       # the correction run of July
    assess(engine, CLERK, REGION, SEP)                       # September: no bill made
    e_jul, t_jul, p_jul = _bill(engine, eid, JUL)
    _pay(engine, tmp_path, "d", [(e_jul, p_jul - 1)], dt.date(2025, 10, 10))
    with engine.connect() as c:
        rows = contribution_record(c, [pid, pid + 1000])
        cols, e2e = contribution_record_columns(c, [pid, pid + 1000])
    got = [(int(cols["person_id"][i]), f"{cols['region'][i]:06d}",
            dt.date(1970, 1, 1) + dt.timedelta(days=int(cols["day"][i])),
            int(cols["pension_fen"][i]), int(cols["base_fen"][i]), e2e[i] or None,
            None if cols["line_fen"][i] < 0 else int(cols["line_fen"][i]),
            None if cols["line_paid_fen"][i] < 0 else int(cols["line_paid_fen"][i]))
           for i in range(len(e2e))]
    assert got == [tuple(r) for r in rows]
    assert [r.month for r in rows] == [JUL, AUG, SEP]
    assert rows[0].base_fen == 1_200_000 and rows[2].bill_e2e_id is None
    assert rows[0].line_paid_fen == p_jul - 1
