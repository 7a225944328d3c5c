"""``shebao calc NAME --json '{…}'``: one JSON object out; exit 2 naming the field on bad input."""
from __future__ import annotations

import json
import sys

import typer

from shebao.core.errors import InputError

from .calculators import calculate, registry


def app(name: str = typer.Argument(..., help="calculator: " + ", ".join(sorted(registry()))),
        request: str = typer.Option(..., "--json", help="the request as a JSON object")):
    """Run a calculator (citizen-id, uscc, retirement-age, contribution, pension, …)."""
    try:
        req = json.loads(request)
    except json.JSONDecodeError as exc:
        typer.echo(f"error: field 'json': not valid JSON ({exc.msg} at column {exc.colno})",
                   err=True)
        raise typer.Exit(2)
    try:
        out = calculate(name, req)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
