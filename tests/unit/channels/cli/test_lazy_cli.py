"""The CLI imports a command group only to run it: ``shebao --help`` lists every group (the
help line of each matching the group's own) without importing the database layer, and a
group still runs as before."""
import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from shebao.channels.cli import main as cli_main

SRC = os.path.join(os.path.dirname(cli_main.__file__), "..", "..", "..")


def _first_paragraph(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip().split("\n\n")[0]).strip()


def test_each_listed_help_line_is_the_groups_own():
    for name, (_, help_) in cli_main.LAZY.items():
        real = cli_main.materialise(name)
        assert real.name == name
        assert _first_paragraph(real.help) == _first_paragraph(help_), name


def test_help_lists_every_group_and_imports_no_database_layer():
    code = ("import sys\nfrom shebao.channels.cli.main import app\n"
            "from typer.testing import CliRunner\n"
            "r = CliRunner().invoke(app, ['--help'])\n"
            "print(r.exit_code, 'sqlalchemy' in sys.modules, 'shebao.db.engine' in sys.modules)\n"
            "print(r.output)")
    env = {**os.environ, "PYTHONPATH": os.path.abspath(SRC), "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60).stdout
    first, _, listing = out.partition("\n")
    assert first == "0 False False"
    for name in cli_main.LAZY:
        assert re.search(rf"│ {re.escape(name)}\s", listing), name


def test_a_lazy_command_runs_and_its_own_help_is_its_own():
    r = CliRunner().invoke(cli_main.app, ["calc", "citizen-id", "--json",
                                          json.dumps({"id": "11010519491231002X"})])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["valid"] is True
    r = CliRunner().invoke(cli_main.app, ["ledger", "--help"])
    assert r.exit_code == 0 and "trial" in r.output
    r = CliRunner().invoke(cli_main.app, ["no-such-group"])
    assert r.exit_code == 2
