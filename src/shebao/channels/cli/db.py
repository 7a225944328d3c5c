"""``shebao db …``: migrations."""
import typer

from shebao.db.engine import database_url
from shebao.db.migrate import upgrade as _upgrade

app = typer.Typer(no_args_is_help=True, help="Database: migrations.")


@app.command()
def upgrade(url: str = typer.Option(None, "--url", help="database URL (default: SHEBAO_DATABASE_URL or ./var/shebao.db)")):
    """Apply every migration up to the newest."""
    _upgrade(url)
    typer.echo(f"database at {database_url(url).split('@')[-1]} is up to date")
