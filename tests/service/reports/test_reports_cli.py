"""The ``reports``, ``org`` and ``training`` commands as an administrator: a statement that
ties out (exit 0) with its XLSX, the monthly report's XLSX / PDF / PNG, a refused account
(exit 2), a subsidy proposed by one administrator and posted when another approves,
certificate verification."""
import datetime as dt
import io
import json
from decimal import Decimal

from openpyxl import load_workbook
from typer.testing import CliRunner

from shebao.channels.cli.main import app
from shebao.reports import funds
from tests.support.accounts import cli_accounts

from .test_fund_statement import ADMIN, R, S, books  # noqa: F401  (the fixture)


def test_reports_commands(books, tmp_path):
    env = {**cli_accounts(books, tmp_path, {"rep-admin": ("administrator", "310000"),
                                            "rep-admin2": ("administrator", "310104"),
                                            "rep-clerk": ("collection_clerk", "310000")}),
           "SHEBAO_ACTOR": "rep-admin"}
    run = CliRunner().invoke
    x = tmp_path / "st.xlsx"
    res = run(app, ["reports", "statement", "--region", R, "--scheme", S, "--from",
                    "2026-03-01", "--to", "2026-03-31", "--xlsx", str(x)], env=env)
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["ties_out"] is True and st["closing"] == 350420
    ws = load_workbook(io.BytesIO(x.read_bytes())).active
    cells = {r[0]: r[2] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert Decimal(str(cells["期末结余 closing balance"])) == Decimal("3504.20")
    assert Decimal(str(cells["转移收入 transfers in"])) == Decimal("1321.09")
    m = tmp_path / "m"
    res = run(app, ["reports", "monthly", "--region", "310000", "--month", "2026-03",
                    "--xlsx", f"{m}.xlsx", "--pdf", f"{m}.pdf", "--png", f"{m}.png"], env=env)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "m.pdf").read_bytes()[:4] == b"%PDF"
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    wb = load_workbook(tmp_path / "m.xlsx").active
    assert [c for c in next(wb.iter_rows(min_row=3, max_row=3, values_only=True))][0] == S
    res = run(app, ["reports", "subsidy", "--region", R, "--scheme", S, "--amount", "1.00",
                    "--on", "2026-03-31", "--reference", "x"], env={**env,
                                                                     "SHEBAO_ACTOR": "rep-clerk"})
    assert res.exit_code == 2 and "reports.manage" in res.output
    res = run(app, ["reports", "subsidy", "--region", R, "--scheme", S, "--amount", "12.34",
                    "--on", "2026-03-31", "--reference", "沪财社〔2026〕8号"], env=env)
    assert res.exit_code == 0, res.output
    pid = json.loads(res.output)["proposal"]
    res = run(app, ["reports", "approve", str(pid)], env=env)        # the maker: refused
    assert res.exit_code == 2 and "different staff member" in res.output
    res = run(app, ["reports", "proposals", "--region", R], env={**env,
                                                                "SHEBAO_ACTOR": "rep-admin2"})
    assert [p["id"] for p in json.loads(res.output)] == [pid]
    res = run(app, ["reports", "approve", str(pid)], env={**env, "SHEBAO_ACTOR": "rep-admin2"})
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "approved"
    assert funds.statement(books, ADMIN, R, S, dt.date(2026, 3, 1), dt.date(2026, 3, 31)
                           ).lines["fiscal_subsidy"] == 50000 + 1234
    res = run(app, ["training", "verify", "NOSUCHCODE"], env=env)
    assert res.exit_code == 1 and '"unknown"' in res.output
    res = run(app, ["org", "budget", "--region", R, "--year", "2026", "--amount", "70.00"],
              env=env)
    assert res.exit_code == 0, res.output
    res = run(app, ["reports", "admin-budget", "--region", R, "--year", "2026"], env=env)
    assert json.loads(res.output)["budget"] == 7000
    assert funds.statement(books, ADMIN, R, S, dt.date(2026, 1, 1),
                           dt.date(2026, 12, 31)).check() == []
