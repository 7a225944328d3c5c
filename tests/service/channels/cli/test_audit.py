"""`shebao audit verify`: exit 0 on an intact chain; exit 1 naming the first bad row after an
edit or a removal behind the triggers."""
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from shebao.channels.cli.main import app
from shebao.core.actor import Actor
from shebao.security import audit

CLERK = Actor(id="c", role="collection_clerk", scope="310101")


def _verify(engine, monkeypatch):
    monkeypatch.delenv("SHEBAO_AUDIT_ANCHOR_FILE", raising=False)
    monkeypatch.setenv("SHEBAO_VAR", str(Path(engine.url.database or "x").parent / "no-var"))
    monkeypatch.setenv("SHEBAO_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(app, ["audit", "verify"])


def test_verify_cli_names_the_first_bad_row(engine, monkeypatch):
    with engine.begin() as conn:
        for i in range(4):
            audit.record(conn, CLERK, "registry.person.read", "person", i, fields=["name"],
                         purpose="counter enquiry")
    ok = _verify(engine, monkeypatch)
    assert ok.exit_code == 0 and "4 rows" in ok.output
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 3"))
    bad = _verify(engine, monkeypatch)
    assert bad.exit_code == 1 and "row id 3" in bad.output
