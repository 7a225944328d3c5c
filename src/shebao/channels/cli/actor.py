"""Who is at the terminal: the one way every acting command builds its actor.

``--actor USERNAME`` (or ``SHEBAO_ACTOR``) names a real, active account in ``users``. Its
password comes from

1. a local credentials file — ``SHEBAO_CREDENTIALS`` or ``~/.config/shebao/credentials`` — with
   ``username:password`` lines (``#`` starts a comment). The file is refused unless it belongs
   to the current OS user and no one else may read or write it (mode 0600 or stricter): a
   service account's password is as safe as that file; or
2. a hidden prompt, when the command runs at a terminal and the file has no line for the
   account.

A password in an environment variable is deliberately not accepted: the environment is
inherited by every child process, readable under /proc by the same user and easily logged.

The account is checked by ``security.service.authenticate`` — the same lockout, rate limit and
audit as a web sign-in (the attempt's "address" is ``cli:<os user>@<host>``) — and the actor's
role and region scope are the account's, so the services apply exactly the checks they apply
on the web, maker-checker included. Any failure exits 2 with a message before anything is done.
"""
from __future__ import annotations

import getpass
import os
import socket
import stat
import sys
from pathlib import Path

import typer

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied
from shebao.db.engine import make_engine
from shebao.security import policy
from shebao.security import service as sec
from shebao.security.lockout import AccountLocked, LoginRefused, RateLimited

ACTOR = typer.Option(None, "--actor", envvar="SHEBAO_ACTOR", show_envvar=True,
                     help="your account's username; its password comes from the credentials "
                          "file (SHEBAO_CREDENTIALS or ~/.config/shebao/credentials, mode 0600) "
                          "or a prompt")

DEFAULT_CREDENTIALS = Path("~/.config/shebao/credentials")


class CliAuthError(Exception):
    """The actor could not be established; the message says why (exit 2)."""


def credentials_path() -> tuple[Path, bool]:
    """(path, explicitly configured)."""
    env = os.environ.get("SHEBAO_CREDENTIALS")
    if env:
        return Path(env).expanduser(), True
    return DEFAULT_CREDENTIALS.expanduser(), False


def read_credentials(path: Path) -> dict[str, str]:
    """``username -> password`` from a credentials file, after checking who may read it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise CliAuthError(f"credentials file {path} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise CliAuthError(f"credentials file {path} is not a regular file")
    if st.st_uid != os.getuid():
        raise CliAuthError(f"credentials file {path} is not owned by you "
                           f"({getpass.getuser()}): refused")
    if st.st_mode & 0o077:
        raise CliAuthError(f"credentials file {path} may be read or written by others "
                           f"(mode {stat.S_IMODE(st.st_mode):04o}): run chmod 600 {path}")
    found: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise CliAuthError(f"credentials file {path} line {n}: expected username:password")
        found.setdefault(user.strip(), password)
    return found


def _interactive() -> bool:
    return sys.stdin.isatty()


def _password(username: str) -> str:
    path, explicit = credentials_path()
    if explicit or path.exists():
        creds = read_credentials(path)
        if username in creds:
            return creds[username]
    if _interactive():
        return typer.prompt(f"password for {username}", hide_input=True)
    raise CliAuthError(f"no password for account {username!r}: add a line "
                       f"'{username}:<password>' to {path} (mode 0600) or run the command "
                       f"at a terminal to be prompted")


def client() -> str:
    """Where a CLI sign-in comes from (the lockout's address lane and the audit detail)."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64]


def authenticate(engine, username: str | None) -> sec.User:
    """The account behind ``--actor``, authenticated; raises ``CliAuthError``."""
    if not username or not username.strip():
        raise CliAuthError("--actor is required: the username of your account "
                           "(or set SHEBAO_ACTOR)")
    username = username.strip()
    password = _password(username)
    try:
        user = sec.authenticate(engine, username, password, client=client())
    except (LoginRefused, AccountLocked, RateLimited) as exc:
        raise CliAuthError(f"account {username!r} not signed in: {exc}") from None
    except InputError as exc:
        raise CliAuthError(str(exc)) from None
    if user.must_change_password:
        raise CliAuthError(f"account {username!r} must change its password first "
                           f"(sign in on the web)")
    return user


def engine_and_actor(username: str | None, **checks):
    """``(engine, actor)``: the database and the authenticated account acting on it; ``checks``
    as for :func:`actor_from_cli`."""
    engine = make_engine()
    return engine, actor_from_cli(engine, username, **checks)


def actor_from_cli(engine, username: str | None, *, permission: str | None = None,
                   roles: tuple[str, ...] | None = None, region: str | None = None) -> Actor:
    """The authenticated actor of an acting command, or exit 2 with the reason.

    ``permission`` (a ``security.policy`` permission) or ``roles`` (for commands that have no
    permission of their own, e.g. the ledger's administration) and ``region`` (in the
    account's scope) are checked up front, so a refused command does nothing at all; the
    services check again, as they do for the web."""
    try:
        actor = authenticate(engine, username).actor()
        if permission is not None:
            policy.require(actor, permission)
        if roles is not None and actor.role not in roles:
            raise PermissionDenied(f"role {actor.role} may not do this "
                                   f"(needs {' or '.join(roles)})")
        if region is not None and (region == regions.NATIONAL or (
                regions.is_region_code(region) and regions.known(region))):
            # a malformed or unknown code is the service's input error, naming the field
            policy.require_region(actor, region)
    except (CliAuthError, PermissionDenied) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    return actor
