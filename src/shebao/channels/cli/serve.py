"""``shebao serve [--host --port --workers N]``: the web app under uvicorn.

With ``--workers N`` (N > 1) uvicorn runs N worker processes on the one port, each building the
app from the environment (``shebao.channels.web.app:app_from_env``: ``SHEBAO_DATABASE_URL``,
``SHEBAO_ENV``, ``SHEBAO_SECRET_KEY``), each with its own connection pool and audit appender.
Sessions, lockouts and idempotency keys live in the database, so any worker serves any
request; in dev mode one ephemeral secret key is made here and handed to all of them (a
key per worker would sign cookies the others refuse)."""
from __future__ import annotations

import os
import secrets

import typer


def serve_cmd(host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
        port: int = typer.Option(8000, "--port", help="TCP port"),
        db: str = typer.Option(None, "--db", help="database URL (default SHEBAO_DATABASE_URL "
                                                  "or ./var/shebao.db)"),
        dev: bool = typer.Option(False, "--dev", help="dev mode: ephemeral secret key, cookies "
                                                      "without Secure (plain http)"),
        workers: int = typer.Option(1, "--workers", min=1, max=64,
                                    help="worker processes (PostgreSQL; each has its own pool)"),
        threads: int = typer.Option(None, "--threads", min=1, max=1000,
                                    help="request threads per worker (default 40; fewer "
                                         "contend less for the CPU under load)")):
    """Serve the API (/api/v1), the back office (/staff) and the portals (/me, /employer)."""
    serve(host=host, port=port, db=db, dev=dev, workers=workers, threads=threads)


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | None = None,
          dev: bool = False, workers: int = 1, threads: int | None = None) -> None:
    """Run the server (blocking). In production mode SHEBAO_SECRET_KEY must be set."""
    import uvicorn

    if threads is not None:      # read by each worker's app at start (SHEBAO_WEB_THREADS)
        os.environ["SHEBAO_WEB_THREADS"] = str(threads)
    from shebao.channels.web.app import SERVER_OPTIONS
    from shebao.channels.web.config import ConfigError, load_settings

    # no access log: search URLs carry citizen IDs, and logs must hold masked data only (every
    # read of personal data is in the audit log instead, with who, role, fields and purpose)
    options = dict(host=host, port=port, log_level="warning", access_log=False,
                   **SERVER_OPTIONS)
    if workers > 1:
        if db:
            os.environ["SHEBAO_DATABASE_URL"] = db
        if dev:
            os.environ["SHEBAO_ENV"] = "dev"
            os.environ.setdefault("SHEBAO_SECRET_KEY", secrets.token_urlsafe(48))
        try:
            load_settings(db)
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
        typer.echo(f"shebao serving on http://{host}:{port}/ with {workers} workers  "
                   f"(API docs: /api/v1/docs, served offline)")
        uvicorn.run("shebao.channels.web.app:app_from_env", factory=True, workers=workers,
                    **options)
        return
    from shebao.channels.web import create_app

    try:
        web = create_app(db, mode="dev" if dev else None)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if web.state.settings.ephemeral_secret:
        typer.echo("dev mode: ephemeral secret key (sessions end when the server stops)")
    typer.echo(f"shebao serving on http://{host}:{port}/  (API docs: /api/v1/docs, served offline)")
    uvicorn.run(web, **options)
