"""Shared bits of the registry commands: the acting clerk and printing an import result."""
from __future__ import annotations

import getpass
import json
import os

import typer

from shebao.core.actor import Actor


def cli_actor() -> Actor:
    """The person at the terminal: ``SHEBAO_ACTOR`` or the OS user, as an administrator."""
    return Actor(id=os.environ.get("SHEBAO_ACTOR") or f"cli:{getpass.getuser()}",
                 role="administrator")


def echo_import(res, as_json: bool, max_problems: int = 50) -> None:
    if as_json:
        typer.echo(json.dumps(res.as_json(), ensure_ascii=False, default=str, indent=1))
        return
    head = "DRY RUN — nothing written. " if res.dry_run else ""
    typer.echo(f"{head}{res.kind}: {res.file} ({res.encoding}), {res.rows} rows: "
               f"{res.inserted} new, {res.updated} updated, {res.unchanged} unchanged, "
               f"{res.rejected} rejected"
               + (f", {res.queued_for_review} queued for duplicate review"
                  if res.queued_for_review else "")
               + (f", {res.deaths} deaths recorded" if res.kind == "hukou" else ""))
    for p in res.problems[:max_problems]:
        typer.echo(f"  {p}")
    if len(res.problems) > max_problems:
        typer.echo(f"  … and {len(res.problems) - max_problems} more problems")
    if res.kind == "hukou" and res.mismatches:
        typer.echo(f"  {len(res.mismatches)} mismatches with the household registry:")
        for m in res.mismatches[:max_problems]:
            typer.echo(f"    row {m['row']} {m['citizen_id']}: {m['field']} registry="
                       f"{m['registry_value']!r} hukou={m['hukou_value']!r}")
    if res.error_file:
        typer.echo(f"rejected rows with reasons: {res.error_file}")
