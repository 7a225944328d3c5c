"""`shebao sharing`: an administrator registers a partner (secret shown once, stored hashed);
a clerk may not; the delivery command sends nothing when nothing is due."""
import json

from typer.testing import CliRunner

from tests.support.accounts import cli_accounts
from shebao.channels.cli.main import app
from shebao.sharing import partners


def test_partner_add_and_list(engine, tmp_path, monkeypatch):
    env = cli_accounts(engine, tmp_path, {"admin-1": ("administrator", "national"),
                                          "clerk-1": ("collection_clerk", "310101")})
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SHEBAO_ENV", "dev")
    run = CliRunner().invoke
    args = ["sharing", "partner-add", "--code", "tax-sh", "--name", "上海市税务局", "--kind",
            "tax", "--region", "310000", "--scope", "notify:wage", "--scope", "search"]
    r = run(app, args + ["--actor", "admin-1"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["code"] == "tax-sh" and len(out["client_secret"]) >= 40
    assert partners.issue_token(engine, out["client_id"], out["client_secret"])[0]
    refused = run(app, [*args[:3], "tax-2", *args[4:], "--actor", "clerk-1"])
    assert refused.exit_code == 2 and "sharing.manage" in refused.output
    listed = run(app, ["sharing", "partners", "--actor", "admin-1"])
    assert "tax-sh" in listed.output and "notify:wage,search" in listed.output
    sent = run(app, ["sharing", "deliver"])
    assert sent.exit_code == 0 and "sent 0, to retry 0, failed 0" in sent.output
