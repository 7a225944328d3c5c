"""The one command-line app: the composition root of the CLI. Every command group lives in a
module beside this one and is imported here explicitly.

Exit codes: 0 done; 1 a check found problems (ledger check, reconcile, audit verify);
2 bad input (the message names the field, file or row).
"""
from __future__ import annotations

import typer
from typer.core import TyperGroup

from shebao.core.errors import ShebaoError

from . import audit, benefits, collection, db, demo, ledger, registry, rules, serve
from . import monitor  # supervision and monitoring (#14)
from . import notices  # notice delivery (#17)


class _Shebao(TyperGroup):
    """Every command's typed error becomes exit 2 with its message, however the app is run
    (the console script or a test's CliRunner)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ShebaoError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Shebao, no_args_is_help=True, add_completion=False,
                  help="shebao 社保 — social insurance administration.")

app.add_typer(db.app, name="db")
app.add_typer(rules.app, name="rules")
app.command(name="calc")(rules.calc)
app.add_typer(audit.app, name="audit")
app.add_typer(registry.import_app, name="import")
app.add_typer(registry.dedup_app, name="dedup")
app.add_typer(registry.quality_app, name="quality")
app.command(name="generate")(demo.generate)
app.add_typer(ledger.app, name="ledger")
app.add_typer(collection.app, name="collect")
app.add_typer(benefits.payroll_app, name="payroll")
app.add_typer(benefits.pension_app, name="pension")
app.add_typer(monitor.app, name="monitor")
app.command(name="serve")(serve.serve_cmd)
app.command(name="demo")(demo.demo)
app.add_typer(notices.app, name="notices")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
