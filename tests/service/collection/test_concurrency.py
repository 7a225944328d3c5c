"""Two runs of the same thing at once, on PostgreSQL (real transactions on two connections):
the second is refused at once with a clear message — ``AlreadyRunning`` from the service, exit
1 from the CLI, never a traceback — and nothing is charged or posted twice.

The first run is held inside its transaction (``fault_point``) while the second is tried. On
SQLite a second writer waits for the first (``BEGIN IMMEDIATE``): there is no "at once" to test.
"""
import datetime as dt
import threading

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from shebao.cli import app
from shebao.collection import bank, bills
from shebao.collection.assess import assess
from shebao.collection.latefee import charge_late_fees
from shebao.core.errors import AlreadyRunning
from shebao.formats import receipts_csv

from tests.support.accounts import cli_accounts

from .conftest import ADMIN, REGION

JULY = dt.date(2025, 7, 1)
ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _count(engine, sql):
    with engine.connect() as c:
        return c.execute(text(sql)).scalar_one()


class Held:
    """Runs ``fn`` in a thread that stops at its fault point until released."""

    def __init__(self, fn):
        self.inside, self.release = threading.Event(), threading.Event()
        self.result, self.error = None, None

        def hold(_point):
            self.inside.set()
            assert self.release.wait(60)

        def run():
            try:
                self.result = fn(hold)
            except BaseException as exc:  # noqa: BLE001 - reported by finish()
                self.error = exc
                self.inside.set()

        self.thread = threading.Thread(target=run)
        self.thread.start()
        assert self.inside.wait(60) and self.error is None, self.error

    def finish(self):
        self.release.set()
        self.thread.join(60)
        assert self.error is None, self.error
        return self.result


def _billed(engine):
    assess(engine, ADMIN, REGION, JULY)
    bills.make_bills(engine, ADMIN, REGION, JULY)


def _cli_env(engine, tmp_path) -> dict:
    """A collection clerk of the region, signed in from a credentials file."""
    return {**cli_accounts(engine, tmp_path, {"clerk": ("collection_clerk", REGION)}),
            "SHEBAO_ACTOR": "clerk"}


@ON_POSTGRESQL
def test_two_late_fee_runs_at_once(engine, world, tmp_path):
    _billed(engine)
    env = _cli_env(engine, tmp_path)
    as_of = dt.date(2025, 9, 14)
    first = Held(lambda hold: charge_late_fees(engine, ADMIN, REGION, as_of, fault_point=hold))
    with pytest.raises(AlreadyRunning) as e:
        charge_late_fees(engine, ADMIN, REGION, as_of)
    assert "already being charged by another process" in str(e.value)
    res = CliRunner().invoke(app, ["collect", "late-fees", "--region", REGION, "--as-of",
                                   as_of.isoformat()], env=env)
    assert res.exit_code == 1, res.output
    assert "already being charged" in " ".join(res.output.split())
    assert "Traceback" not in res.output and res.exception is None or \
        isinstance(res.exception, SystemExit)
    done = first.finish()
    # the employer's bill: 277512 × 30 days × 0.0005 = 4162.68 → 41.63, charged once
    assert (done.charges, done.fen) == (1, 4163)
    again = charge_late_fees(engine, ADMIN, REGION, as_of)
    assert (again.charges, again.fen) == (0, 0)
    assert _count(engine, "SELECT COUNT(*) FROM late_fee_charge") == 1


@ON_POSTGRESQL
def test_two_imports_of_one_bank_file_at_once(engine, world, tmp_path):
    _billed(engine)
    env = _cli_env(engine, tmp_path)
    emp = f"SB{REGION}202507E{world['employer']:010d}"
    f = tmp_path / "receipts.csv"
    # paid in full, late (due 2025-08-15): 277512 × 5 × 0.0005 = 693.78 → 6.94 late fee
    f.write_bytes(receipts_csv.build(["R1"], [emp], [277512], dt.date(2025, 8, 20)))
    first = Held(lambda hold: bank.import_bank(engine, ADMIN, f, region=REGION,
                                               kept_dir=tmp_path / "kept", fault_point=hold))
    with pytest.raises(AlreadyRunning) as e:
        bank.import_bank(engine, ADMIN, f, region=REGION, kept_dir=tmp_path / "kept")
    assert f"{f.name} is already being imported by another process" in str(e.value)
    res = CliRunner().invoke(app, ["collect", "import-bank", str(f), "--region", REGION], env=env)
    assert res.exit_code == 1, res.output
    assert "already being imported" in " ".join(res.output.split())
    assert "Traceback" not in res.output
    # the import charges the region's late fees too: a late-fee run waits its turn
    with pytest.raises(AlreadyRunning):
        charge_late_fees(engine, ADMIN, REGION, dt.date(2025, 9, 14))
    done = first.finish()
    assert (done.new, done.applied_fen, done.late_fee_fen) == (1, 277512, 694)
    again = bank.import_bank(engine, ADMIN, f, region=REGION, kept_dir=tmp_path / "kept")
    assert (again.new, again.duplicates, again.applied_fen) == (0, 1, 0)
    assert _count(engine, "SELECT COUNT(*) FROM receipt") == 1
    assert _count(engine, "SELECT SUM(paid_fen) FROM bill") == 277512
    assert _count(engine, "SELECT SUM(fen) FROM late_fee_charge") == 694


@ON_POSTGRESQL
def test_overlapping_files_at_once_post_each_receipt_once(engine, world, tmp_path):
    """Two different files naming the same receipt: the second waits for the first, then
    finds the receipt posted (no unique-violation traceback)."""
    _billed(engine)
    emp = f"SB{REGION}202507E{world['employer']:010d}"
    flex = f"SB{REGION}202507F{world['flexible']:010d}"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(receipts_csv.build(["R1"], [emp], [277512], dt.date(2025, 8, 10)))
    b.write_bytes(receipts_csv.build(["R1", "R2"], [emp, flex], [277512, 149200],
                                     dt.date(2025, 8, 10)))
    first = Held(lambda hold: bank.import_bank(engine, ADMIN, a, region=REGION,
                                               kept_dir=tmp_path / "kept", fault_point=hold))
    second = {}
    t = threading.Thread(target=lambda: second.setdefault("r", bank.import_bank(
        engine, ADMIN, b, region=REGION, kept_dir=tmp_path / "kept")))
    t.start()
    t.join(2)
    assert t.is_alive()                 # waiting for the first import's turn
    assert first.finish().new == 1
    t.join(60)
    assert (second["r"].new, second["r"].duplicates) == (1, 1)
    assert _count(engine, "SELECT COUNT(*) FROM receipt") == 2
    assert _count(engine, "SELECT SUM(paid_fen) FROM bill") == 277512 + 149200
