"""pain.008 out, camt.053 / CSV in, XSD-validated, on both databases: matching, partial and
over-payment, suspense, re-import and overlap post nothing twice, bad files are refused and
kept, reconciliation agrees (and the CLI exits 1 when it does not), arrears are flagged."""
import datetime as dt

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shebao.channels.cli.main import app
from shebao.formats import receipts_csv
from shebao.formats.iso20022 import validate
from shebao.collection import bank, bills, declarations, suspense
from shebao.collection.arrears import arrears
from shebao.collection.assess import assess
from shebao.collection.reconcile import reconcile
from shebao.devtools.synthetic_population import load_population
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.ledger import service as ledger
from tests.support.accounts import cli_accounts

REGION = "310104"
JULY = dt.date(2025, 7, 1)
CLERK = Actor(id="clerk", role="collection_clerk")


def q(engine, sql, **p):
    with engine.connect() as c:
        return c.execute(text(sql), p).scalar_one()


def fund_bank(engine):
    return sum(ledger.balance(engine, f"{REGION}.{s}.fund_bank")
               for s in ("pension", "medical", "unemployment", "injury"))


def test_bank_round_trip(engine, db_url, tmp_path):
    load_population(engine, REGION, 150, seed=5)
    assess(engine, CLERK, REGION, JULY)
    b = bills.make_bills(engine, CLERK, REGION, JULY)
    x = bank.export_bank(engine, CLERK, REGION, JULY, out_dir=tmp_path)
    validate(x.path.read_bytes(), "pain.008.001.08")
    assert x.transactions == b.bills and x.total_fen == b.total_fen
    st = bank.simulate_bank(x.path, seed=11, shares=(0.6, 0.15, 0.15))
    kept = tmp_path / "kept"
    r = bank.import_bank(engine, CLERK, st, region=REGION, kept_dir=kept)
    assert r.new == r.rows > 0 and r.partial > 0 and r.overpaid > 0 and r.unmatched == 1
    received = q(engine, "SELECT SUM(amount_fen) FROM receipt")
    assert r.applied_fen + r.suspense_fen == received
    assert fund_bank(engine) == received                     # transit → fund special account
    assert ledger.balance(engine, f"{REGION}.pension.suspense") == r.suspense_fen
    assert ledger.balance(engine, f"{REGION}.pension.bank_transit") == 0
    paid = q(engine, "SELECT SUM(paid_fen) FROM bill")
    assert paid == r.applied_fen
    rec = reconcile(engine, CLERK, REGION, JULY)
    assert rec.ok, rec.differences
    entries = q(engine, "SELECT COUNT(*) FROM ledger_entry")

    # the same file again, and a file overlapping it: nothing twice
    again = bank.import_bank(engine, CLERK, st, kept_dir=kept)    # region from the e2e ids
    assert (again.new, again.duplicates, again.applied_fen) == (0, r.rows, 0)
    assert q(engine, "SELECT COUNT(*) FROM ledger_entry") == entries
    with engine.connect() as c:
        old = c.execute(text("SELECT bank_ref, e2e_id, amount_fen, booked_on FROM receipt "
                             "ORDER BY id LIMIT 3")).all()
        open_bill = c.execute(text("SELECT e2e_id, total_fen - paid_fen FROM bill "
                                   "WHERE paid_fen = 0 ORDER BY id LIMIT 1")).one()
    day = dt.date(2025, 8, 20)
    refs = [o[0] for o in old] + ["NEW0001"]
    e2e = [o[1] for o in old] + [open_bill[0]]
    amts = [o[2] for o in old] + [open_bill[1]]
    days = [o[3] if isinstance(o[3], dt.date) else dt.date.fromisoformat(str(o[3])) for o in old]
    assert len(set(days)) == 1
    overlap = tmp_path / "overlap.csv"
    data = receipts_csv.build(refs[:3], e2e[:3], amts[:3], days[0]).decode()
    data += receipts_csv.build(refs[3:], e2e[3:], amts[3:], day).decode().split("\n", 1)[1]
    overlap.write_text(data, encoding="utf-8")
    ov = bank.import_bank(engine, CLERK, overlap, region=REGION, kept_dir=kept)
    assert (ov.new, ov.duplicates, ov.applied_fen) == (1, 3, open_bill[1])
    assert fund_bank(engine) == received + open_bill[1]
    entries = q(engine, "SELECT COUNT(*) FROM ledger_entry")

    # bad files: refused with file/row/field, kept for review, nothing posted
    conflict = tmp_path / "conflict.csv"
    conflict.write_bytes(receipts_csv.build([refs[0]], [e2e[0]], [amts[0] + 1], days[0]))
    dup = tmp_path / "dup.csv"
    dup.write_bytes(receipts_csv.build(["D1", "D1"], [e2e[0], e2e[0]], [5, 5], day))
    clash = tmp_path / "clash.csv"
    clash.write_bytes(receipts_csv.build(["C1", "C1"], [e2e[0], e2e[0]], [5, 6], day))
    broken = tmp_path / "broken.xml"
    broken.write_bytes(st.read_bytes()[:500])
    amount = tmp_path / "amount.csv"
    amount.write_text("bank_ref,e2e_id,amount,currency,booked_on,payer_account\n"
                      "A1,X,1.00,CNY,2025-08-20,\nA2,X,1,0,CNY,2025-08-20,\n", encoding="utf-8")
    expect = {conflict: ("already posted", 2, "bank_ref"), dup: ("duplicate", 3, "bank_ref"),
              clash: ("conflicting", 3, "bank_ref"), broken: ("camt.053", None, None),
              amount: ("fields", 3, "*")}
    for f, (words, row, field) in expect.items():
        with pytest.raises(InputError) as e:
            bank.import_bank(engine, CLERK, f, region=REGION, kept_dir=kept)
        assert words in str(e.value) and e.value.file == str(f)
        if row is not None:
            assert (e.value.row, e.value.field) == (row, field)
    assert len(list(kept.glob("*.reason.txt"))) == len(expect)
    assert q(engine, "SELECT COUNT(*) FROM bank_import WHERE status = 'rejected'") == len(expect)
    assert q(engine, "SELECT COUNT(*) FROM ledger_entry") == entries

    # the clerk applies the stranger's money (in suspense) to an open bill
    queue = suspense.suspense(engine, REGION)
    stranger = next(x for x in queue if x["status"] == "unmatched")
    with engine.connect() as c:
        target = c.execute(text("SELECT e2e_id FROM bill WHERE paid_fen = 0 AND total_fen > "
                                ":a ORDER BY id LIMIT 1"), {"a": 12345}).scalar_one()
    before = ledger.balance(engine, f"{REGION}.pension.suspense")
    done = suspense.resolve_suspense(engine, CLERK, stranger["receipt_id"], target)
    assert done["applied"] == "123.45" and done["left_in_suspense"] == "0.00"
    assert ledger.balance(engine, f"{REGION}.pension.suspense") == before - 12345
    assert q(engine, "SELECT paid_fen FROM bill WHERE e2e_id = :e", e=target) == 12345
    with pytest.raises(InputError):
        suspense.resolve_suspense(engine, CLERK, stranger["receipt_id"], target)
    assert reconcile(engine, CLERK, REGION, JULY).ok
    bills.make_bills(engine, CLERK, REGION, JULY)     # nothing changed: paid amounts stay
    assert q(engine, "SELECT paid_fen FROM bill WHERE e2e_id = :e", e=target) == 12345
    entries = q(engine, "SELECT COUNT(*) FROM ledger_entry")

    # arrears: unpaid employer bills accrue the fee; big ones are flagged for supervision
    a = arrears(engine, CLERK, REGION, dt.date(2025, 12, 1))
    emp = [p for p in a.payers if p["payer_type"] == "employer"]
    assert emp and all(p["late_fee_fen"] > 0 for p in emp)
    assert a.flagged and q(engine, "SELECT COUNT(*) FROM arrears_flag") == len(a.flagged)

    # the CLI: exit 0 when everything agrees, 1 (with the difference listed) when not
    runner = CliRunner()
    env = {**cli_accounts(engine, tmp_path, {"clerk": ("collection_clerk", REGION)}),
           "SHEBAO_ACTOR": "clerk"}
    res = runner.invoke(app, ["collect", "reconcile", "--region", REGION, "--month", "2025-07",
                              "--json"], env=env)
    assert res.exit_code == 0, res.output
    with engine.begin() as c:
        c.execute(text("UPDATE bill_line SET paid_fen = paid_fen + 1 WHERE id = "
                       "(SELECT MIN(id) FROM bill_line)"))
    res = runner.invoke(app, ["collect", "reconcile", "--region", REGION, "--month", "2025-07"],
                        env=env)
    assert res.exit_code == 1 and "DIFFERENCE" in res.output
    # bad input through the CLI: exit 2, the message names file, row and field
    res = runner.invoke(app, ["collect", "import-bank", str(amount), "--region", REGION,
                              "--kept-dir", str(kept)], env=env)
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "row 3" in said and "amount.csv" in said, said
    res = runner.invoke(app, ["collect", "assess", "--region", REGION, "--month", "2025-07",
                              "--json"], env=env)
    assert res.exit_code == 0 and '"rows_written": 0' in res.output
