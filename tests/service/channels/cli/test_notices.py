"""`shebao notices`: the yearly statement announced to every insured person in one statement
(a rerun adds nothing, another district's clerk may not), then delivered by the worker
(`--once`, polling) and counted by `status`."""
import json

from typer.testing import CliRunner

from tests.support.accounts import cli_accounts
from shebao.channels.cli.main import app
from shebao.notices import outbox


def test_yearly_statements_then_worker_then_status(world_engine, tmp_path, monkeypatch):
    engine, world = world_engine
    env = cli_accounts(engine, tmp_path, {"clerk-a": ("collection_clerk", "310101"),
                                          "clerk-b": ("collection_clerk", "310104")})
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    run = CliRunner().invoke
    args = ["notices", "yearly-statements", "--year", "2025", "--region", "310101"]
    r = run(app, args + ["--actor", "clerk-a"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "1 notices enqueued"      # the sample world's person in 310101
    assert run(app, args + ["--actor", "clerk-a"]).output.strip() == "0 notices enqueued"
    refused = run(app, args + ["--actor", "clerk-b"])
    assert refused.exit_code == 2
    [n] = outbox.for_recipient(engine, "person", world.persons["310101"])
    assert (n.template, n.data, n.region) == ("contribution.statement",
                                             {"year": 2025, "months": 1}, "310101")
    assert outbox.for_recipient(engine, "person", world.persons["310104"]) == []
    w = run(app, ["notices", "worker", "--once", "--quiet", "--capture",
                  str(tmp_path / "cap.sqlite")])
    assert w.exit_code == 0, w.output
    assert json.loads(w.output.strip().splitlines()[-1])["by_channel"] == {"portal": 1}
    st = run(app, ["notices", "status", "--json", "--actor", "clerk-a"])
    assert st.exit_code == 0, st.output
    assert json.loads(st.output)["by_status"] == {"sent": 1}
