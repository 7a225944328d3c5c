"""Kept for installed ``shebao`` scripts generated before the entry point moved to
``shebao.channels.cli.main:main`` (a re-install regenerates them)."""
from shebao.channels.cli.main import app, main  # noqa: F401
