"""Real accounts for command-line tests: users in the database and the local credentials file
(mode 0600) from which the CLI reads their passwords — no prompt ever runs in a test.

    env = cli_accounts(engine, tmp_path, {"clerk-a": ("benefits_clerk", "310000")})
    subprocess.run([SHEBAO, "payroll", "submit", "--run", "7", "--actor", "clerk-a"],
                   env={**os.environ, **env})
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from shebao.core.actor import SYSTEM
from shebao.db.engine import make_engine
from shebao.security import service as sec


def make_account(engine, username: str, role: str, scope: str = "national", **ids) -> str:
    """Create an active account (made by the system, so it controls nothing); returns its
    password."""
    password = "Cli-" + secrets.token_urlsafe(12)
    sec.create_user(engine, SYSTEM, username=username, password=password, role=role,
                    scope=scope, **ids)
    return password


def write_credentials(path: Path, credentials: dict[str, str], mode: int = 0o600) -> Path:
    """A credentials file of ``username:password`` lines with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# shebao CLI credentials\n"
                    + "".join(f"{u}:{p}\n" for u, p in credentials.items()), encoding="utf-8")
    os.chmod(path, mode)
    return path


def cli_accounts(engine_or_url, tmp_path: Path, accounts: dict[str, tuple[str, str]]) -> dict:
    """Create ``accounts`` (username → (role, scope)) and a credentials file holding them;
    returns the environment for the CLI (database URL and credentials file)."""
    own = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if own else engine_or_url
    try:
        creds = {u: make_account(engine, u, role, scope) for u, (role, scope) in accounts.items()}
        url = engine.url.render_as_string(hide_password=False)
    finally:
        if own:
            engine.dispose()
    path = tmp_path / "credentials"
    if path.exists():       # a second call adds to the same file
        creds = {**dict(line.split(":", 1) for line in path.read_text(encoding="utf-8")
                        .splitlines() if line and not line.startswith("#")), **creds}
    write_credentials(path, creds)
    return {"SHEBAO_DATABASE_URL": url, "SHEBAO_CREDENTIALS": str(path)}
