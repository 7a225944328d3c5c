"""Late fees charged and posted, on both databases; arithmetic in comments.

The world (conftest): the employer's July 2025 bill is 2775.12 (277512 fen), due 2025-08-15
(``collection.payment_due_day``); the flexible worker's bill is 2088.80 (208880 fen: pension 1492.00 + medical 596.80). Daily
rate ``collection.late_fee_rate`` = 0.0005 (社会保险法 第八十六条), employers only.
"""
import datetime as dt
import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shebao.channels.cli.main import app
from shebao.formats import receipts_csv
from shebao.collection import bank, bills, declarations
from shebao.collection.arrears import arrears
from shebao.collection.assess import assess
from shebao.collection.latefee import charge_late_fees
from shebao.collection.reconcile import reconcile
from shebao.core.errors import InputError
from shebao.ledger import service as ledger
from tests.support.accounts import cli_accounts

from .conftest import ADMIN, REGION

JULY = dt.date(2025, 7, 1)
INCOME = f"{REGION}.pension.late_fee_income"     # collection_account.suspense_scheme = pension


def _q(engine, sql, **p):
    with engine.connect() as c:
        return c.execute(text(sql), p).all()


def _setup(engine, world):
    assess(engine, ADMIN, REGION, JULY)
    bills.make_bills(engine, ADMIN, REGION, JULY)
    return (f"SB{REGION}202507E{world['employer']:010d}",
            f"SB{REGION}202507F{world['flexible']:010d}")


def _import(engine, tmp_path, name, refs, e2es, amounts, day):
    f = tmp_path / name
    f.write_bytes(receipts_csv.build(refs, e2es, amounts, day))
    return bank.import_bank(engine, ADMIN, f, region=REGION, kept_dir=tmp_path / "kept")


def test_late_payment_charges_days_times_rate_once(engine, world, tmp_path):
    emp, flex = _setup(engine, world)
    assert ledger.balance(engine, INCOME) == 0
    # both bills paid in full 10 days late (booked 2025-08-25)
    r = _import(engine, tmp_path, "late.csv", ["L1", "L2"], [emp, flex], [277512, 208880],
                dt.date(2025, 8, 25))
    # 277512 fen × 10 days × 0.0005 = 1387.56 → 1388 fen; the flexible worker: no fee
    assert r.late_fee_fen == 1388
    rows = _q(engine, "SELECT payer_type, payer_id, from_day, to_day, days, base_fen, fen_days, "
                      "rate, fen, source FROM late_fee_charge")
    assert len(rows) == 1
    pt, pid, frm, to, days, base, fd, rate, fen, source = rows[0]
    assert (pt, pid, str(frm), str(to), days, base, fd, rate, fen) == (
        "E", world["employer"], "2025-08-15", "2025-08-25", 10, 277512, 2775120, "0.0005", 1388)
    assert source == f"bank:{r.import_id}"
    # ledger: Dr receivable_employer / Cr late_fee_income, effective in the bill's month
    assert ledger.balance(engine, INCOME) == 1388
    assert _q(engine, "SELECT COUNT(*) FROM ledger_entry WHERE source = 'collection.late_fee' "
                      "AND effective_date = :m", m=JULY)[0][0] == 1
    # re-importing the same file charges nothing twice
    again = _import(engine, tmp_path, "late.csv", ["L1", "L2"], [emp, flex], [277512, 208880],
                    dt.date(2025, 8, 25))
    assert (again.new, again.late_fee_fen) == (0, 0)
    # a run afterwards finds nothing more: the bill was settled on 08-25
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 10, 1)).charges == 0
    assert _q(engine, "SELECT COUNT(*), SUM(fen) FROM late_fee_charge")[0] == (1, 1388)
    assert ledger.balance(engine, INCOME) == 1388
    rec = reconcile(engine, ADMIN, REGION, JULY)
    assert rec.ok, rec.differences
    assert rec.late_fees["charged"] == rec.late_fees["posted_income"] == 1388


def test_on_time_payment_charges_nothing(engine, world, tmp_path):
    emp, _ = _setup(engine, world)
    r = _import(engine, tmp_path, "ontime.csv", ["T1"], [emp], [277512], dt.date(2025, 8, 15))
    assert r.late_fee_fen == 0
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 12, 1)).charges == 0
    assert _q(engine, "SELECT COUNT(*) FROM late_fee_charge")[0][0] == 0
    assert ledger.balance(engine, INCOME) == 0


def test_unpaid_bill_two_as_of_dates_charge_the_increment(engine, world, tmp_path):
    emp, _ = _setup(engine, world)
    first = charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 14))
    # 277512 × 30 days (08-15 → 09-14) × 0.0005 = 4162.68 → 4163; the flexible bill: none
    assert (first.charges, first.fen) == (1, 4163)
    rerun = charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 14))
    assert (rerun.charges, rerun.fen, rerun.ledger_key) == (0, 0, None)
    second = charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 10, 14))
    # to 10-14: 277512 × 60 × 0.0005 = 8325.36 → 8325; increment 8325 − 4163 = 4162
    assert (second.charges, second.fen) == (1, 4162)
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 10, 14)).charges == 0
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 20)).charges == 0  # earlier
    rows = _q(engine, "SELECT from_day, to_day, days, fen, payer_type FROM late_fee_charge "
                      "ORDER BY id")
    assert [(str(a), str(b), d, f, t) for a, b, d, f, t in rows] == [
        ("2025-08-15", "2025-09-14", 30, 4163, "E"), ("2025-09-14", "2025-10-14", 30, 4162, "E")]
    assert ledger.balance(engine, INCOME) == 8325
    # arrears on 10-20: accrued 277512 × 66 × 0.0005 = 9157.896 → 9158; charged 8325; 833 not yet
    a = arrears(engine, ADMIN, REGION, dt.date(2025, 10, 20))
    e = next(p for p in a.payers if p["payer_type"] == "employer")
    assert (e["late_fee_fen"], e["late_fee_charged_fen"], e["late_fee_not_charged_fen"]) == (
        9158, 8325, 833)
    f = next(p for p in a.payers if p["payer_type"] == "flexible")
    assert (f["late_fee_fen"], f["late_fee_charged_fen"], f["outstanding_fen"]) == (0, 0, 208880)
    # the bill view and its export show the same
    b = bills.get_bill(engine, ADMIN, e2e_id=emp, as_of=dt.date(2025, 10, 20))
    assert (b["late_fee"]["accrued"], b["late_fee"]["charged"],
            b["late_fee"]["not_yet_charged"]) == ("91.58", "83.25", "8.33")
    assert [c["fee"] for c in b["late_fee"]["charges"]] == ["41.63", "41.62"]
    out = bills.export_bill(engine, ADMIN, tmp_path / "bill.csv", e2e_id=emp,
                              as_of=dt.date(2025, 10, 20))
    body = out.read_text(encoding="utf-8")
    assert "not_yet_charged,8.33" in body and "2025-09-14,2025-10-14,30,2775.12,0.0005,41.62" \
        in body
    rec = reconcile(engine, ADMIN, REGION, JULY)
    assert rec.ok, rec.differences
    assert rec.late_fees == {"charges": 2, "charged": 8325, "posted_income": 8325,
                             "posted_receivable": 8325}


def test_receipt_arriving_after_a_charge_lowers_it(engine, world, tmp_path):
    emp, _ = _setup(engine, world)
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 14)).fen == 4163
    # the bank's statement for 08-25 arrives late: the bill was paid in full 10 days late
    r = _import(engine, tmp_path, "late.csv", ["L1"], [emp], [277512], dt.date(2025, 8, 25))
    # accrued to 09-14 is now 277512 × 10 × 0.0005 = 1387.56 → 1388: adjustment 1388 − 4163
    assert r.late_fee_fen == 1388 - 4163
    assert _q(engine, "SELECT SUM(fen) FROM late_fee_charge")[0][0] == 1388
    assert ledger.balance(engine, INCOME) == 1388
    assert charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 11, 1)).charges == 0
    assert reconcile(engine, ADMIN, REGION, JULY).ok


def _cli_env(engine, tmp_path) -> dict:
    """A collection clerk of the region, signed in from a credentials file."""
    return {**cli_accounts(engine, tmp_path, {"clerk": ("collection_clerk", REGION)}),
            "SHEBAO_ACTOR": "clerk"}


def test_reconcile_sees_a_difference_and_the_cli_exits_1(engine, db_url, world, tmp_path):
    _setup(engine, world)
    runner = CliRunner()
    env = _cli_env(engine, tmp_path)
    res = runner.invoke(app, ["collect", "late-fees", "--region", REGION, "--as-of",
                              "2025-09-14", "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["charged"] == "41.63"
    res = runner.invoke(app, ["collect", "reconcile", "--region", REGION, "--month", "2025-07",
                              "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["late_fees"]["charged"] == "41.63"
    with engine.begin() as c:               # a charge that the ledger never saw
        c.execute(text("UPDATE late_fee_charge SET fen = fen + 1"))
    rec = reconcile(engine, ADMIN, REGION, JULY)
    assert not rec.ok
    assert {d["check"] for d in rec.differences} == {
        "late fees charged = ledger late_fee_income credited",
        "late fees charged = ledger receivable_employer debited (collection.late_fee)"}
    assert all(d["difference"] == 1 for d in rec.differences)
    res = runner.invoke(app, ["collect", "reconcile", "--region", REGION, "--month", "2025-07"],
                        env=env)
    assert res.exit_code == 1 and "late_fee_income" in " ".join(res.output.split())


@pytest.mark.parametrize("args, words", [
    (["--region", REGION, "--as-of", "2025-13-01"], "not a date"),
    (["--region", REGION, "--as-of", "14/09/2025"], "not a date"),
    (["--region", "31010", "--as-of", "2025-09-14"], "six-digit"),
    (["--region", "999999", "--as-of", "2025-09-14"], "not a known"),
    (["--region", REGION, "--as-of", "2999-01-01"], "in the future"),
])
def test_bad_as_of_or_region_is_a_clear_error(engine, db_url, world, args, words, tmp_path):
    _setup(engine, world)
    res = CliRunner().invoke(app, ["collect", "late-fees", *args],
                             env=_cli_env(engine, tmp_path))
    assert res.exit_code == 2, res.output
    assert words in res.output
    assert _q(engine, "SELECT COUNT(*) FROM late_fee_charge")[0][0] == 0


def test_service_refuses_bad_input(engine, world):
    with pytest.raises(InputError) as e:
        charge_late_fees(engine, ADMIN, "abc", dt.date(2025, 9, 14))
    assert e.value.field == "region"
    with pytest.raises(InputError) as e:
        charge_late_fees(engine, ADMIN, REGION, "2025-09-14")
    assert e.value.field == "as_of"


def test_cli_bill_and_arrears_show_charged_and_not_yet_charged(engine, db_url, world, tmp_path):
    emp, _ = _setup(engine, world)
    charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 14))      # 41.63 (see above)
    runner = CliRunner()
    env = {**_cli_env(engine, tmp_path), "COLUMNS": "200"}
    res = runner.invoke(app, ["collect", "bill", "--e2e", emp, "--as-of", "2025-10-20"], env=env)
    assert res.exit_code == 0, res.output
    # accrued to 10-20: 277512 × 66 × 0.0005 = 9157.896 → 91.58; 91.58 − 41.63 = 49.95
    flat = " ".join(res.output.split())          # the console may wrap the line
    assert "accrued 91.58, charged 41.63, accrued not yet charged 49.95" in flat
    res = runner.invoke(app, ["collect", "bill", "--e2e", emp, "--as-of", "20-10-2025"], env=env)
    assert res.exit_code == 2 and "not a date" in res.output
    res = runner.invoke(app, ["collect", "arrears", "--region", REGION, "--as-of", "2025-10-20",
                              "--json"], env=env)
    assert res.exit_code == 0, res.output
    e = next(p for p in json.loads(res.output)["payers"] if p["payer_type"] == "employer")
    assert (e["late_fee"], e["late_fee_charged"], e["late_fee_not_charged"]) == (
        "91.58", "41.63", "49.95")
