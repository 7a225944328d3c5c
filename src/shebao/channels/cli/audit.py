"""``shebao audit …``: verify the hash-chained audit log."""
import json

import typer

from shebao.db.engine import make_engine

from shebao.security import audit

app = typer.Typer(no_args_is_help=True, help="Audit log.")


@app.command()
def verify(as_json: bool = typer.Option(False, "--json")):
    """Walk the audit chain; exit 1 naming the first bad row if any row was edited or removed."""
    engine = make_engine()
    with engine.connect() as conn:
        res = audit.verify(conn)
    if as_json:
        typer.echo(json.dumps(res.__dict__))
    elif res.ok:
        typer.echo(f"audit log intact: {res.rows} rows, chain verified")
    else:
        typer.echo(f"audit log BROKEN at row id {res.first_bad_id}: {res.reason}", err=True)
    raise typer.Exit(0 if res.ok else 1)
