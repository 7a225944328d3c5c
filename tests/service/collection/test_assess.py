"""Monthly assessment against a real database (SQLite and PostgreSQL), arithmetic in comments.

Shanghai 2025-07: floor 7460.00, ceiling 37302.00; employer pension 16%, employee 8%,
medical 10% / 2%, unemployment 0.5% / 0.5%, injury class 1 = 0.2% × 1.0 (industry 65).
"""
import csv
import datetime as dt

import pytest
from sqlalchemy import text

from shebao.collection import bills, declarations
from shebao.collection.assess import assess
from shebao.devtools.synthetic_population import load_population
from shebao.core.errors import InputError
from shebao.ledger import service as ledger

from .conftest import ADMIN, REGION

JULY = dt.date(2025, 7, 1)


def _sum(engine, sql, **p):
    with engine.connect() as c:
        return c.execute(text(sql), p).scalar_one()


def test_employee_below_floor_flexible_on_floor(engine, world):
    r = assess(engine, ADMIN, REGION, JULY)
    assert (r.kind, r.persons) == ("initial", 3)
    with engine.connect() as c:
        row = c.execute(text(
            "SELECT wage_fen, base_fen, clamp, basis, pension_er_pool, pension_ee_ind, "
            "medical_er_pool, medical_ee_ind, unemployment_er_pool, unemployment_ee_pool, "
            "injury_er_pool, total_fen FROM contribution WHERE person_id = :p"),
            {"p": world["employee"]}).one()
        # wage 5000.00 < floor 7460.00 → base 7460.00, raised (-1), from the employment record
        # 746000 × 16% = 119360; × 8% = 59680; × 10% = 74600; × 2% = 14920; × 0.5% = 3730 (×2);
        # × 0.2% = 1492; total 277512
        assert tuple(row) == (500000, 746000, -1, 1, 119360, 59680, 74600, 14920, 3730, 3730,
                              1492, 277512)
        flex = c.execute(text("SELECT payer_type, base_fen, pension_ee_pool, pension_ee_ind, "
                              "total_fen FROM contribution WHERE person_id = :p"),
                         {"p": world["flexible"]}).one()
        # no base chosen → floor 746000; pension 12% pooled 89520, 8% account 59680; medical
        # (contribution.flexible.medical_rate 8%: 6% pooled 44760 + 2% account 14920) 59680
        assert tuple(flex) == ("F", 746000, 89520, 59680, 149200 + 59680)
        # the resident is billed only in the billing month (collection.resident_billing_month)
        assert c.execute(text("SELECT COUNT(*) FROM contribution WHERE person_id = :p"),
                         {"p": world["resident"]}).scalar_one() == 0
    # ledger: receivable debited by the employer's whole bill, funds credited
    assert ledger.balance(engine, f"{REGION}.pension.receivable_employer") == 119360 + 59680
    assert ledger.balance(engine, f"{REGION}.pension.receivable_individual") == 149200
    assert ledger.balance(engine, f"{REGION}.pension.pooled_fund") == 119360 + 89520
    assert ledger.balance(engine, f"{REGION}.pension.individual.{world['employee']}") == 59680
    assert ledger.balance(engine, f"{REGION}.medical.individual.{world['employee']}") == 14920


def test_rerun_changes_nothing_and_correction_posts_the_difference(engine, world):
    assess(engine, ADMIN, REGION, JULY)
    bills.make_bills(engine, ADMIN, REGION, JULY)
    entries = _sum(engine, "SELECT COUNT(*) FROM ledger_entry")
    again = assess(engine, ADMIN, REGION, JULY)
    assert (again.kind, again.rows, again.total_fen) == ("correction", 0, 0)
    assert _sum(engine, "SELECT COUNT(*) FROM ledger_entry") == entries
    assert bills.make_bills(engine, ADMIN, REGION, JULY).changed == 0
    # a late declaration: wage 10000.00 for 2025, effective 2025-07-01 (adjustment month 7)
    d = declarations.declare_wage(engine, ADMIN, person_id=world["employee"],
                             employer_id=world["employer"], year=2025, wage_fen=1_000_000)
    assert d.effective_from == JULY and d.clamp == 0
    fix = assess(engine, ADMIN, REGION, JULY)
    # base 7460 → 10000: difference 254000 × 37.2% (16+8+10+2+0.5+0.5+0.2) = 94488
    assert (fix.rows, fix.total_fen) == (1, 94488)
    assert _sum(engine, "SELECT SUM(total_fen) FROM contribution WHERE person_id = :p",
                p=world["employee"]) == 277512 + 94488
    assert ledger.balance(engine, f"{REGION}.pension.individual.{world['employee']}") == 80000
    b = bills.make_bills(engine, ADMIN, REGION, JULY)
    assert b.changed == 1
    bill = bills.get_bill(engine, ADMIN, e2e_id=f"SB{REGION}202507E{world['employer']:010d}")
    assert bill["total"] == "3720.00"
    assert bill["persons"][0]["base"] == "10000.00"
    assert bill["persons"][0]["why"].startswith("declared wage")
    assert [ln["scheme"] for ln in bill["lines"]] == ["pension", "medical", "unemployment",
                                                        "injury"]


class _Crash(RuntimeError):
    """The process 'dies' between two chunks."""


def _crash_after(chunks: int):
    seen = []

    def fault_point(name):
        seen.append(name)
        if seen.count("chunk_done") >= chunks:
            raise _Crash(f"simulated crash after {chunks} chunk(s)")
    return fault_point


def test_resume_after_crash_gives_the_same_result(engine):
    load_population(engine, REGION, 240, seed=3)
    with pytest.raises(_Crash):
        assess(engine, ADMIN, REGION, JULY, chunk_size=50, fault_point=_crash_after(2))
    with engine.connect() as c:
        assert c.execute(text("SELECT status, chunks_done FROM assessment_run")).one() == (
            "running", 2)
    r = assess(engine, ADMIN, REGION, JULY, chunk_size=50)
    assert r.resumed and r.chunks == 5 and r.kind == "initial"
    clean = assess(engine, ADMIN, REGION, dt.date(2025, 8, 1), chunk_size=50)  # same rates
    assert clean.total_fen == r.total_fen and clean.rows == r.rows
    assert _sum(engine, "SELECT COUNT(*) FROM (SELECT person_id, payer_id FROM contribution "
                        "WHERE month = :m GROUP BY person_id, payer_id HAVING COUNT(*) > 1) d",
                m=JULY) == 0
    assert ledger.balance(engine, f"{REGION}.pension.pooled_fund") > 0


def test_declarations_limits_and_refusals(engine, world, tmp_path):
    # above the ceiling: cut, and the reason says so
    d = declarations.declare_wage(engine, ADMIN, person_id=world["employee"],
                             employer_id=world["employer"], year=2025, wage_fen=5_000_000)
    assert (d.base_fen, d.clamp) == (3_730_200, 1) and "above the ceiling 37302.00" in d.reason
    with pytest.raises(InputError) as e:
        declarations.declare_wage(engine, ADMIN, person_id=world["flexible"],
                             employer_id=world["employer"], year=2025, wage_fen=800_000)
    assert e.value.field == "person_id"
    with pytest.raises(InputError) as e:
        declarations.choose_flexible_base(engine, ADMIN, person_id=world["flexible"], month=JULY,
                                     base_fen=700_000)
    assert e.value.field == "base" and "7460.00" in str(e.value)
    ok = declarations.choose_flexible_base(engine, ADMIN, person_id=world["flexible"], month=JULY,
                                      base_fen=1_000_000)
    assert ok.base_fen == 1_000_000
    with pytest.raises(InputError) as e:
        declarations.choose_resident_tier(engine, ADMIN, person_id=world["resident"], year=2026,
                                     tier_yuan=250)
    assert e.value.field == "tier"
    declarations.choose_resident_tier(engine, ADMIN, person_id=world["resident"], year=2026,
                                 tier_yuan=500)
    march = assess(engine, ADMIN, REGION, dt.date(2026, 3, 1))
    assert _sum(engine, "SELECT resident_pension_ee_ind FROM contribution WHERE person_id = :p",
                p=world["resident"]) == 50000
    assert _sum(engine, "SELECT base_fen FROM contribution WHERE person_id = :p AND month = :m",
                p=world["flexible"], m=dt.date(2026, 3, 1)) == 1_000_000
    assert march.persons == 3
    hist = declarations.declarations(engine, ADMIN, world["employee"])
    assert hist[0]["clamp"] == "cut to the ceiling"


def test_upload_dry_run_then_real(engine, world, tmp_path):
    f = tmp_path / "decl.csv"
    f.write_text("citizen_id,uscc,wage\n"
                 f"{world['ids'][0]},{world['uscc']},6000.00\n"
                 f"{world['ids'][1]},{world['uscc']},9000\n"          # not an employee of it
                 f"310104199001011234,{world['uscc']},9000\n"        # unknown person
                 f"{world['ids'][0]},{world['uscc']},12.345\n", encoding="utf-8")
    dry = declarations.upload_declarations(engine, ADMIN, f, year=2025, dry_run=True)
    assert dry.accepted == 1 and [(p["row"], p["field"]) for p in dry.problems] == [
        (3, "citizen_id"), (4, "citizen_id"), (5, "wage")]
    assert _sum(engine, "SELECT COUNT(*) FROM base_declaration") == 0
    real = declarations.upload_declarations(engine, ADMIN, f, year=2025)
    assert real.accepted == 1 and real.clamped == 1
    assert (tmp_path / "decl.csv.errors.csv").read_text(encoding="utf-8").count("\n") == 4
    assert _sum(engine, "SELECT base_fen FROM base_declaration WHERE superseded_by IS NULL") \
        == 746000
    declarations.upload_declarations(engine, ADMIN, f, year=2025)   # again: the old one superseded
    assert _sum(engine, "SELECT COUNT(*) FROM base_declaration WHERE superseded_by IS NULL") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("citizen,uscc,wage\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        declarations.upload_declarations(engine, ADMIN, bad, year=2025, dry_run=True)
    assert e.value.file == str(bad) and e.value.row == 1


def test_two_concurrent_runs_never_assess_twice(engine):
    import threading

    from shebao.core.errors import ConflictError
    load_population(engine, REGION, 240, seed=4)
    errors = []

    def run():
        try:
            assess(engine, ADMIN, REGION, JULY, chunk_size=40)
        except ConflictError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) <= 1
    clean = assess(engine, ADMIN, REGION, dt.date(2025, 8, 1), chunk_size=40)
    assert _sum(engine, "SELECT SUM(total_fen) FROM contribution WHERE month = :m",
                m=JULY) == clean.total_fen
    last = assess(engine, ADMIN, REGION, JULY, chunk_size=40)   # finishes whatever is left
    assert last.rows == 0 or errors
    assert _sum(engine, "SELECT SUM(total_fen) FROM contribution WHERE month = :m",
                m=JULY) == clean.total_fen


def test_late_fee_accrues_until_paid(engine, world, tmp_path):
    from shebao.collection import bank
    from shebao.collection.arrears import arrears
    from shebao.formats import receipts_csv
    assess(engine, ADMIN, REGION, JULY)
    bills.make_bills(engine, ADMIN, REGION, JULY)
    e2e = f"SB{REGION}202507E{world['employer']:010d}"      # 2775.12 due 2025-08-15
    f = tmp_path / "late.csv"
    # half paid 10 days late (booked 2025-08-25)
    f.write_bytes(receipts_csv.build(["L1"], [e2e], [138756], dt.date(2025, 8, 25)))
    bank.import_bank(engine, ADMIN, f, region=REGION, kept_dir=tmp_path / "k")
    a = arrears(engine, ADMIN, REGION, dt.date(2025, 9, 14))
    emp = next(p for p in a.payers if p["payer_type"] == "employer")
    # owed 138756 × 30 days + paid late 138756 × 10 days = 5550240 fen·days × 0.0005
    # = 2775.12 → 2775 fen
    assert (emp["outstanding_fen"], emp["days"], emp["late_fee_fen"]) == (138756, 30, 2775)
    flex = next(p for p in a.payers if p["payer_type"] == "flexible")
    assert flex["late_fee_fen"] == 0 and flex["outstanding_fen"] == 208880
    # everything paid late: nothing outstanding, the fee stays owed
    g = tmp_path / "rest.csv"
    g.write_bytes(receipts_csv.build(["L2"], [e2e], [138756], dt.date(2025, 9, 14)))
    bank.import_bank(engine, ADMIN, g, region=REGION, kept_dir=tmp_path / "k")
    a = arrears(engine, ADMIN, REGION, dt.date(2025, 12, 1))
    emp = next(p for p in a.payers if p["payer_type"] == "employer")
    assert (emp["outstanding_fen"], emp["late_fee_fen"]) == (0, 2775)


def test_injury_rate_from_the_employer_version_in_force(engine, world):
    from shebao.registry import service as reg
    # from 2025-08 the employer is in industry 47 (risk class 6, 1.3%) at tier 120%
    reg.change_employer(engine, ADMIN, world["employer"], {"industry_code": "47",
                        "float_tier_pct": 120}, reason="industry reclassified",
                        valid_from=dt.date(2025, 8, 1))
    assess(engine, ADMIN, REGION, JULY)
    assess(engine, ADMIN, REGION, dt.date(2025, 8, 1))
    with engine.connect() as c:
        rows = c.execute(text("SELECT month, injury_num, injury_er_pool FROM contribution "
                              "WHERE person_id = :p ORDER BY month"),
                         {"p": world["employee"]}).all()
    # July: class 1 × 1.0 = 0.2% of 7460.00 = 14.92
    # August: 1.3% × 1.2 = 1.56% of 7460.00 = 116.376 → 116.38
    assert rows[0][1:] == (200000, 1492)
    assert rows[1][1:] == (1560000, 11638)


def test_upload_refuses_full_width_amounts_and_neutralises_formulas_in_the_error_file(
        engine, world, tmp_path):
    # Security probe: full-width １０００ was taken as 1000.00; the error file is opened in a
    # spreadsheet, so a formula in a rejected cell must not come back live (numbers stay).
    f = tmp_path / "decl.csv"
    f.write_text("citizen_id,uscc,wage\n"
                 f"{world['ids'][0]},{world['uscc']},１０００\n"
                 f"{world['ids'][0]},{world['uscc']},=HYPERLINK(\"http://evil.example\")\n"
                 f"{world['ids'][0]},{world['uscc']},-5\n", encoding="utf-8")
    rep = declarations.upload_declarations(engine, ADMIN, f, year=2025)
    assert rep.accepted == 0
    assert [(p["row"], p["field"]) for p in rep.problems] == [(2, "wage"), (3, "wage"),
                                                                (4, "wage")]
    with (tmp_path / "decl.csv.errors.csv").open(encoding="utf-8", newline="") as fh:
        values = [r["value"] for r in csv.DictReader(fh)]
    assert values == ["１０００", "'=HYPERLINK(\"http://evil.example\")", "-5"]
    assert _sum(engine, "SELECT COUNT(*) FROM base_declaration") == 0
