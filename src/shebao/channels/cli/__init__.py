"""The command line: ``main.py`` is its composition root (one Typer app, every command group
imported explicitly); one module per group; ``common.py`` holds what the groups share."""
