"""The one command-line app. Each package contributes its own sub-commands (its ``cli.py``);
this module only wires them together — the composition root of the CLI.

Exit codes: 0 done; 1 a check found problems (ledger check, reconcile, audit verify);
2 bad input (the message names the field, file or row).
"""
from __future__ import annotations

import importlib
import sys

import typer

from shebao.core.errors import ShebaoError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="shebao 社保 — social insurance administration.")

# (module, name) of every sub-command group; a package that is not there yet is simply absent.
SUBCOMMANDS = [
    ("shebao.db.cli", "db"),
    ("shebao.rules.cli", "rules"),
    ("shebao.rules.calc_cli", "calc"),
    ("shebao.security.cli", "audit"),
    ("shebao.registry.cli", "import"),
    ("shebao.registry.dedup_cli", "dedup"),
    ("shebao.registry.quality_cli", "quality"),
    ("shebao.registry.generate_cli", "generate"),
    ("shebao.ledger.cli", "ledger"),
    ("shebao.collection.cli", "collect"),
    ("shebao.benefits.cli", "payroll"),
    ("shebao.benefits.pension_cli", "pension"),
    ("shebao.channels.cli", "serve"),
    ("shebao.demo", "demo"),
]


def _register() -> None:
    for module, name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == module or module.startswith(exc.name + ".")):
                continue  # that package has not landed yet
            raise
        sub = getattr(mod, "app")
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=name)
        else:  # a single command
            app.command(name=name)(sub)


_register()


def main() -> None:
    try:
        app()
    except ShebaoError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
