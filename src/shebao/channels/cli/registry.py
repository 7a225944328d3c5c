"""The registry's commands.

``shebao import persons|employers|employment|hukou FILE [--dry-run] [--json]``: exit 0 every
row imported (or unchanged); 1 some rows rejected (see the error file beside the input); 2 the
file itself is unusable (message names file and reason).

``shebao dedup run|queue|decide|undo``: duplicate persons. ``shebao quality report``: registry
data quality. Every command acts as the ``--actor`` account (``actor.py``): imports need
``registry.import`` and check each row against the account's scope; dedup and the quality
report span the whole registry, so they need a national scope.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer

from shebao.core.regions import NATIONAL
from shebao.registry import importer

from .actor import ACTOR, engine_and_actor

import_app = typer.Typer(no_args_is_help=True,
                         help="Bulk import into the registry (CSV in UTF-8/GB18030, or XLSX).")
dedup_app = typer.Typer(no_args_is_help=True, help="Find, review and merge duplicate persons.")
quality_app = typer.Typer(no_args_is_help=True, help="Registry data quality.")

FILE = typer.Argument(..., help="CSV or XLSX file; header row with the column names")
DRY = typer.Option(False, "--dry-run", help="check every row, report, write nothing")
JSON = typer.Option(False, "--json", help="machine-readable result")


# ------------------------------------------------------------------ import

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


def _run(fn, file: Path, dry_run: bool, as_json: bool, actor: str | None) -> None:
    engine, who = engine_and_actor(actor, permission="registry.import")
    res = fn(engine, who, file, dry_run=dry_run)
    echo_import(res, as_json)
    raise typer.Exit(1 if res.rejected else 0)


@import_app.command()
def persons(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON,
            actor: str = ACTOR):
    """Persons: citizen_id, name [, sex, birth_date, hukou_region, residence_region, phone,
    address, notify_channels, bank_name, bank_account] (Chinese headers accepted)."""
    _run(importer.import_persons, file, dry_run, as_json, actor)


@import_app.command()
def employers(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON,
              actor: str = ACTOR):
    """Employers: uscc, name, region, industry [, float_tier, bank_name, bank_account]."""
    _run(importer.import_employers, file, dry_run, as_json, actor)


@import_app.command()
def employment(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON,
               actor: str = ACTOR):
    """Employment spells: citizen_id, uscc, start_date [, end_date, leave_reason,
    involuntary, wage, wage_year, enrol]."""
    from shebao.collection import enrolment  # the import opens the individual accounts too

    _run(enrolment.import_employment, file, dry_run, as_json, actor)


@import_app.command()
def hukou(file: Path = FILE, dry_run: bool = DRY, as_json: bool = JSON,
          actor: str = ACTOR):
    """Household-registration cross-check: citizen_id [, name, sex, birth_date, hukou_region,
    death_date]; reports mismatches, records deaths."""
    _run(importer.import_hukou, file, dry_run, as_json, actor)


# ------------------------------------------------------------------ dedup

@dedup_app.command()
def run(no_merge: bool = typer.Option(False, "--no-merge",
                                      help="queue every pair for review, merge nothing"),
        as_json: bool = typer.Option(False, "--json"), actor: str = ACTOR):
    """Score the whole registry; merge pairs above the upper threshold, queue the rest."""
    from shebao.registry.dedup import run as dedup_run

    engine, who = engine_and_actor(actor, permission="person.write", region=NATIONAL)
    res = dedup_run(engine, who, auto_merge=not no_merge)
    if as_json:
        typer.echo(json.dumps(res.as_json()))
    else:
        typer.echo(f"{res.persons} persons scored: {res.pairs_scored_above_lower} suspected "
                   f"pairs; {res.merged} merged, {res.queued} queued for review, "
                   f"{res.merge_refused} merges refused by invariants (queued) "
                   f"in {res.seconds:.1f} s")


@dedup_app.command()
def queue(limit: int = typer.Option(50, "--limit"), as_json: bool = typer.Option(False, "--json"),
          actor: str = ACTOR):
    """List pending suspected duplicates (masked)."""
    from shebao.registry.merge import review_queue

    engine, who = engine_and_actor(actor, permission="person.write", region=NATIONAL)
    rows = review_queue(engine, who, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"#{r['id']}  p={r['match_probability']:.4f}  {r['person_a']} "
                   f"{r['citizen_id_a']} {r['name_a']}  ~  {r['person_b']} {r['citizen_id_b']} "
                   f"{r['name_b']}")


@dedup_app.command()
def decide(candidate_id: int, decision: str = typer.Argument(..., help="merge | distinct"),
           note: str = typer.Option(..., "--note", help="why"),
           survivor: int = typer.Option(None, "--survivor", help="person id that survives"),
           actor: str = ACTOR):
    """Decide a queued pair."""
    from shebao.registry.merge import decide as do_decide

    engine, who = engine_and_actor(actor, permission="person.write", region=NATIONAL)
    mid = do_decide(engine, who, candidate_id, decision, note=note, survivor_id=survivor)
    typer.echo(f"merged (merge {mid})" if mid else "marked distinct")


@dedup_app.command()
def undo(merge_id: int, reason: str = typer.Option(..., "--reason"), actor: str = ACTOR):
    """Undo a merge: both records and their enrolments are separated again."""
    from shebao.registry.merge import undo_merge

    engine, who = engine_and_actor(actor, permission="person.write", region=NATIONAL)
    undo_merge(engine, who, merge_id, reason=reason)
    typer.echo(f"merge {merge_id} undone")


# ------------------------------------------------------------------ quality

@quality_app.command()
def report(as_json: bool = typer.Option(False, "--json"),
           samples: int = typer.Option(5, "--samples", help="masked examples per check"),
           actor: str = ACTOR):
    """Counts and masked samples of invalid IDs, ID/birth/sex mismatches, missing fields,
    suspected duplicates, overlapping enrolments, deceased persons with open enrolments."""
    from shebao.registry.quality import render, report as build

    engine, who = engine_and_actor(actor, permission="person.read", region=NATIONAL)
    rep = build(engine, who, samples=samples)
    typer.echo(json.dumps(rep, ensure_ascii=False, default=str, indent=1) if as_json
               else render(rep))
