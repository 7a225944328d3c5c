"""``shebao serve [--host --port]``: the web app under uvicorn."""
from __future__ import annotations

import typer


def serve_cmd(host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
        port: int = typer.Option(8000, "--port", help="TCP port"),
        db: str = typer.Option(None, "--db", help="database URL (default SHEBAO_DATABASE_URL "
                                                  "or ./var/shebao.db)"),
        dev: bool = typer.Option(False, "--dev", help="dev mode: ephemeral secret key, cookies "
                                                      "without Secure (plain http)")):
    """Serve the API (/api/v1), the back office (/staff) and the portals (/me, /employer)."""
    serve(host=host, port=port, db=db, dev=dev)


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | None = None,
          dev: bool = False) -> None:
    """Run the server (blocking). In production mode SHEBAO_SECRET_KEY must be set."""
    import uvicorn

    from shebao.channels.web import create_app
    from shebao.channels.web.app import SERVER_OPTIONS
    from shebao.channels.web.config import ConfigError

    try:
        web = create_app(db, mode="dev" if dev else None)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if web.state.settings.ephemeral_secret:
        typer.echo("dev mode: ephemeral secret key (sessions end when the server stops)")
    typer.echo(f"shebao serving on http://{host}:{port}/  (API docs: /api/v1/docs, served offline)")
    # no access log: search URLs carry citizen IDs, and logs must hold masked data only (every
    # read of personal data is in the audit log instead, with who, role, fields and purpose)
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False,
                **SERVER_OPTIONS)
