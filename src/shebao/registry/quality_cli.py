"""``shebao quality report [--json]``: registry data quality."""
from __future__ import annotations

import json

import typer

from shebao.db.engine import make_engine

from ._cli_common import cli_actor

app = typer.Typer(no_args_is_help=True, help="Registry data quality.")


@app.command()
def report(as_json: bool = typer.Option(False, "--json"),
           samples: int = typer.Option(5, "--samples", help="masked examples per check")):
    """Counts and masked samples of invalid IDs, ID/birth/sex mismatches, missing fields,
    suspected duplicates, overlapping enrolments, deceased persons with open enrolments."""
    from .quality import render, report as build

    rep = build(make_engine(), cli_actor(), samples=samples)
    typer.echo(json.dumps(rep, ensure_ascii=False, default=str, indent=1) if as_json
               else render(rep))
