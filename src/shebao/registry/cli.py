"""``shebao import persons|employers|employment|hukou FILE [--dry-run] [--json]``.

Exit codes: 0 every row imported (or unchanged); 1 some rows rejected (see the error file
beside the input); 2 the file itself is unusable (message names file and reason).
"""
from __future__ import annotations

from pathlib import Path

import typer

from shebao.db.engine import make_engine

from . import importer
from ._cli_common import cli_actor, echo_import

app = typer.Typer(no_args_is_help=True,
                  help="Bulk import into the registry (CSV in UTF-8/GB18030, or XLSX).")

FILE = typer.Argument(..., help="CSV or XLSX file; header row with the column names")
DRY = typer.Option(False, "--dry-run", help="check every row, report, write nothing")
JSON = typer.Option(False, "--json", help="machine-readable result")


def _run(fn, file: Path, dry_run: bool, as_json: bool) -> None:
    res = fn(make_engine(), cli_actor(), file, dry_run=dry_run)
    echo_import(res, as_json)
    raise typer.Exit(1 if res.rejected else 0)


@app.command()
def persons(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON):
    """Persons: citizen_id, name [, sex, birth_date, hukou_region, residence_region, phone,
    address, notify_channels, bank_name, bank_account] (Chinese headers accepted)."""
    _run(importer.import_persons, file, dry_run, as_json)


@app.command()
def employers(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON):
    """Employers: uscc, name, region, industry [, float_tier, bank_name, bank_account]."""
    _run(importer.import_employers, file, dry_run, as_json)


@app.command()
def employment(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON):
    """Employment spells: citizen_id, uscc, start_date [, end_date, leave_reason,
    involuntary, wage, wage_year, enrol]."""
    _run(importer.import_employment, file, dry_run, as_json)


@app.command()
def hukou(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON):
    """Household-registration cross-check: citizen_id [, name, sex, birth_date, hukou_region,
    death_date]; reports mismatches, records deaths."""
    _run(importer.import_hukou, file, dry_run, as_json)
