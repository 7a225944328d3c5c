"""The commands as a clerk runs them (exit codes: 0 clean, 1 rows rejected, 2 bad file)."""
import json

from typer.testing import CliRunner

from shebao.channels.cli.main import app
from tests.support.accounts import cli_accounts

runner = CliRunner()


def test_import_generate_dedup_quality_commands(db_url, fixture_file, monkeypatch, tmp_path):
    env = cli_accounts(db_url, tmp_path, {"registrar": ("administrator", "national")})
    for k, v in {**env, "SHEBAO_ACTOR": "registrar"}.items():
        monkeypatch.setenv(k, v)
    path = fixture_file("persons.csv")
    r = runner.invoke(app, ["import", "persons", str(path), "--dry-run"])
    assert r.exit_code == 1 and "DRY RUN" in r.output and "row 7" in r.output
    assert not (path.parent / "persons.errors.csv").exists()
    r = runner.invoke(app, ["import", "persons", str(path), "--json"])
    out = json.loads(r.output)
    assert r.exit_code == 1 and out["inserted"] == 5 and out["error_file"].endswith(
        "persons.errors.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["import", "persons", str(bad)])
    assert r.exit_code == 2 and "unknown column 'who'" in r.output
    r = runner.invoke(app, ["generate", "--people", "300", "--employers", "10",
                            "--region", "310000", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["persons"] == 303
    r = runner.invoke(app, ["dedup", "run", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["persons"] == 308
    r = runner.invoke(app, ["quality", "report", "--json"])
    rep = json.loads(r.output)
    assert r.exit_code == 0 and rep["persons"] < 308        # merged duplicates are out
