"""``shebao dedup run|queue|decide|undo``: duplicate persons."""
from __future__ import annotations

import json

import typer

from shebao.db.engine import make_engine

from ._cli_common import cli_actor

app = typer.Typer(no_args_is_help=True, help="Find, review and merge duplicate persons.")


@app.command()
def run(no_merge: bool = typer.Option(False, "--no-merge",
                                      help="queue every pair for review, merge nothing"),
        as_json: bool = typer.Option(False, "--json")):
    """Score the whole registry; merge pairs above the upper threshold, queue the rest."""
    from .dedup import run as dedup_run

    res = dedup_run(make_engine(), cli_actor(), auto_merge=not no_merge)
    if as_json:
        typer.echo(json.dumps(res.as_json()))
    else:
        typer.echo(f"{res.persons} persons scored: {res.pairs_scored_above_lower} suspected "
                   f"pairs; {res.merged} merged, {res.queued} queued for review, "
                   f"{res.merge_refused} merges refused by invariants (queued) "
                   f"in {res.seconds:.1f} s")


@app.command()
def queue(limit: int = typer.Option(50, "--limit"), as_json: bool = typer.Option(False, "--json")):
    """List pending suspected duplicates (masked)."""
    from .merge import review_queue

    rows = review_queue(make_engine(), cli_actor(), limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"#{r['id']}  p={r['match_probability']:.4f}  {r['person_a']} "
                   f"{r['citizen_id_a']} {r['name_a']}  ~  {r['person_b']} {r['citizen_id_b']} "
                   f"{r['name_b']}")


@app.command()
def decide(candidate_id: int, decision: str = typer.Argument(..., help="merge | distinct"),
           note: str = typer.Option(..., "--note", help="why"),
           survivor: int = typer.Option(None, "--survivor", help="person id that survives")):
    """Decide a queued pair."""
    from .merge import decide as do_decide

    mid = do_decide(make_engine(), cli_actor(), candidate_id, decision, note=note,
                    survivor_id=survivor)
    typer.echo(f"merged (merge {mid})" if mid else "marked distinct")


@app.command()
def undo(merge_id: int, reason: str = typer.Option(..., "--reason")):
    """Undo a merge: both records and their enrolments are separated again."""
    from .merge import undo_merge

    undo_merge(make_engine(), cli_actor(), merge_id, reason=reason)
    typer.echo(f"merge {merge_id} undone")
