"""The two dev-tool commands: ``shebao demo`` (what ``make demo`` runs) and ``shebao generate``
(a synthetic region). This module is the runtime's only door into ``shebao.devtools``."""
from __future__ import annotations

import json

import typer

from .actor import ACTOR, engine_and_actor


def demo(region: str = typer.Option("310104", help="GB/T 2260 code of the demo region"),
         people: int = typer.Option(5000, help="insured persons to generate"),
         employers: int = typer.Option(200, help="employers to generate"),
         months: int = typer.Option(3, help="monthly collection cycles to run"),
         serve: bool = typer.Option(True, help="end by serving the web portals")):
    """Create the database, load the law, build a region and run it; then say what to do next."""
    from shebao.devtools.demo import run_demo

    run_demo(region=region, people=people, employers=employers, months=months, serve=serve)


def generate(people: int = typer.Option(10_000, "--people", help="number of distinct persons"),
             employers: int = typer.Option(500, "--employers", help="number of employers"),
             region: str = typer.Option("310000", "--region", help="GB/T 2260 code of the region"),
             seed: int = typer.Option(1, "--seed", help="random seed (same seed, same region)"),
             duplicates: float = typer.Option(0.01, "--duplicates",
                                              help="share of extra legacy duplicate records"),
             as_json: bool = typer.Option(False, "--json"), actor: str = ACTOR):
    """Build a realistic synthetic region in the registry (persons, employers, spells,
    enrolments, a share of duplicates) for the demo and the benchmarks."""
    from shebao.devtools.generate_region import generate_region

    engine, who = engine_and_actor(actor, permission="registry.import", region=region)
    res = generate_region(engine, who, people=people, employers=employers, region=region,
                          seed=seed, duplicate_share=duplicates)
    if as_json:
        typer.echo(json.dumps(res.as_json()))
    else:
        typer.echo(f"region {res.region}: {res.persons} persons ({res.duplicates} legacy "
                   f"duplicates, {res.deceased} deceased), {res.employers} employers, "
                   f"{res.spells} employment spells, {res.enrolments} enrolments "
                   f"in {res.seconds:.1f} s")
