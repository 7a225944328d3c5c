"""The CLI has no free-text identities (security probe B4): ``--actor`` names a real, active
account, authenticated from the private credentials file or a prompt; its role and region
scope are the account's, and maker-checker holds exactly as on the web. Run against the sample
world: its pension case in 310104 was computed and submitted by ``benefits_clerk-310104``."""
from sqlalchemy import select
from typer.testing import CliRunner

from shebao.benefits import determination as det
from shebao.channels.cli import actor as cli_actor
from shebao.channels.cli.main import app
from shebao.core.actor import SYSTEM
from shebao.security import service as sec
from shebao.security.tables import audit_log, login_attempts
from tests.support.accounts import write_credentials

runner = CliRunner()
MAKER, CHECKER = "benefits_clerk-310104", "benefits_clerk-2-310104"


def _env(engine, tmp_path, creds: dict, mode: int = 0o600) -> dict:
    path = write_credentials(tmp_path / "credentials", creds, mode=mode)
    return {"SHEBAO_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SHEBAO_CREDENTIALS": str(path), "SHEBAO_ACTOR": None}


def _world_env(engine, world, tmp_path, *users, **extra) -> dict:
    return _env(engine, tmp_path, {**{u: world.passwords[u] for u in users}, **extra})


def _status(engine, case: int) -> str:
    return det.get_case(engine, SYSTEM, case)["status"]


def _approve(env, case: int, who: str):
    return runner.invoke(app, ["pension", "approve", str(case), "--actor", who], env=env)


def test_invented_actors_are_refused_and_the_attempt_recorded(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _env(engine, tmp_path, {"nobody-a": "Invented-pass-1", "nobody-b": "Invented-pass-2"})
    r = _approve(env, case, "nobody-b")
    assert r.exit_code == 2, r.output
    assert "'nobody-b' not signed in" in r.output
    assert _status(engine, case) == "submitted"
    with engine.connect() as c:
        tries = c.execute(select(login_attempts.c.ip, login_attempts.c.ok)
                          .where(login_attempts.c.username == "nobody-b")).all()
    assert [(ip.startswith("cli:"), ok) for ip, ok in tries] == [(True, False)]


def test_the_maker_cannot_check_and_a_second_account_can(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _world_env(engine, world, tmp_path, MAKER, CHECKER)
    same = _approve(env, case, MAKER)
    assert same.exit_code == 2 and "never approve their own" in same.output
    assert _status(engine, case) == "submitted"
    ok = _approve(env, case, CHECKER)
    assert ok.exit_code == 0, ok.output
    assert _status(engine, case) == "approved"
    with engine.connect() as c:
        award_by = c.execute(select(audit_log.c.actor, audit_log.c.role).where(
            audit_log.c.action == "pension.award")).all()
    assert [tuple(r) for r in award_by] == [(CHECKER, "benefits_clerk")]


def test_wrong_password_is_refused_and_audited(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _env(engine, tmp_path, {CHECKER: "Not-the-password-1"})
    r = _approve(env, case, CHECKER)
    assert r.exit_code == 2 and "not signed in" in r.output
    assert _status(engine, case) == "submitted"
    uid = world.users[(CHECKER, "")].id
    with engine.connect() as c:
        failed = c.execute(select(audit_log.c.action).where(
            audit_log.c.action == "auth.login_failed", audit_log.c.subject_id == str(uid))).all()
    assert len(failed) == 1


def test_an_inactive_account_is_refused(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    admin = world.users[("administrator-national", "")]
    sec.set_active(engine, admin.actor(), world.users[(CHECKER, "")].id, False)
    r = _approve(_world_env(engine, world, tmp_path, CHECKER), case, CHECKER)
    assert r.exit_code == 2 and "not signed in" in r.output
    assert _status(engine, case) == "submitted"


def test_role_and_scope_come_from_the_account(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _world_env(engine, world, tmp_path, "collection_clerk-310104",
                     "benefits_clerk-310101")
    wrong_role = _approve(env, case, "collection_clerk-310104")
    assert wrong_role.exit_code == 2 and "may not pension.approve" in wrong_role.output
    other_district = _approve(env, case, "benefits_clerk-310101")
    assert other_district.exit_code == 2, other_district.output
    assert _status(engine, case) == "submitted"


def test_commands_check_the_role_the_web_requires(world_engine, tmp_path):
    engine, world = world_engine
    env = _world_env(engine, world, tmp_path, CHECKER, "administrator-national",
                     "collection_clerk-310104")
    chart = ["ledger", "open-chart", "--region", "310104"]
    r = runner.invoke(app, [*chart, "--actor", CHECKER], env=env)
    assert r.exit_code == 2 and "needs administrator" in r.output
    r = runner.invoke(app, [*chart, "--actor", "administrator-national"], env=env)
    assert r.exit_code == 0, r.output
    fees = ["collect", "late-fees", "--region", "310104", "--as-of", "2025-10-20"]
    r = runner.invoke(app, [*fees, "--actor", CHECKER], env=env)
    assert r.exit_code == 2 and "may not collection.run" in r.output
    r = runner.invoke(app, [*fees, "--actor", "collection_clerk-310104"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["collect", "late-fees", "--region", "310101", "--as-of",
                            "2025-10-20", "--actor", "collection_clerk-310104"], env=env)
    assert r.exit_code == 2 and "outside the scope 310104" in r.output


def test_no_actor_or_no_password_does_nothing(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _env(engine, tmp_path, {})
    r = runner.invoke(app, ["pension", "approve", str(case)], env=env)
    assert r.exit_code == 2 and "--actor is required" in r.output
    r = _approve(env, case, CHECKER)
    assert r.exit_code == 2 and f"no password for account '{CHECKER}'" in r.output
    assert _status(engine, case) == "submitted"


def test_a_credentials_file_others_can_read_is_refused(world_engine, tmp_path):
    engine, world = world_engine
    case = world.cases["310104"]
    env = _env(engine, tmp_path, {CHECKER: world.passwords[CHECKER]}, mode=0o644)
    r = _approve(env, case, CHECKER)
    assert r.exit_code == 2 and "chmod 600" in r.output
    assert _status(engine, case) == "submitted"


def test_at_a_terminal_the_password_is_prompted(world_engine, tmp_path, monkeypatch):
    engine, world = world_engine
    case = world.cases["310104"]
    monkeypatch.setattr(cli_actor, "_interactive", lambda: True)
    env = _env(engine, tmp_path, {})
    r = runner.invoke(app, ["pension", "show", str(case), "--actor", CHECKER], env=env,
                      input=world.passwords[CHECKER] + "\n")
    assert r.exit_code == 0, r.output
    assert "password for benefits_clerk-2-310104" in r.output
    assert world.passwords[CHECKER] not in r.output          # hidden input


def test_collect_declare_finds_person_and_employer_by_number(world_engine, tmp_path):
    engine, world = world_engine
    from shebao.devtools.sample_world import uscc_for

    env = _world_env(engine, world, tmp_path, "collection_clerk-310104")
    args = ["collect", "declare", "--citizen-id", world.citizen_ids["310104"], "--uscc",
            uscc_for("310104", 2), "--year", "2025", "--wage", "13000",
            "--actor", "collection_clerk-310104"]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    assert '"person_id": %d' % world.persons["310104"] in r.output
    r = runner.invoke(app, [*args[:5], "91310104MA00000990", *args[6:]], env=env)
    assert r.exit_code == 2 and "unknown employer" in r.output
    r = runner.invoke(app, [*args[:3], "110101199003077777", *args[4:]], env=env)
    assert r.exit_code == 2 and "unknown person" in r.output
