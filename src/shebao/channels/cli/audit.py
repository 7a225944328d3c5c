"""``shebao audit …``: anchor and verify the hash-chained audit log.

Anchor from cron, e.g. every ten minutes (the file and key live outside the database)::

    */10 * * * *  SHEBAO_DATABASE_URL=… SHEBAO_AUDIT_ANCHOR_KEY_FILE=/etc/shebao/anchor.key \\
                  shebao audit anchor --file /var/lib/shebao/audit-anchors.jsonl >> notary.log
"""
import json
from pathlib import Path

import typer

from shebao.core.errors import InputError
from shebao.db.engine import make_engine
from shebao.security import audit

app = typer.Typer(no_args_is_help=True, help="Audit log.")


@app.command()
def anchor(file: Path = typer.Option(None, "--file",
                                     help="anchor file (default SHEBAO_AUDIT_ANCHOR_FILE or "
                                          "var/audit/anchors.jsonl)")):
    """Append every chain's row count, last id and last hash to the anchor file; print the line
    (keep it elsewhere too: a notary, a ticket, another system)."""
    try:
        a = audit.anchor(make_engine(), file)
    except InputError as exc:
        typer.echo(f"audit anchor: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(audit.anchor_line(a))
    typer.echo(f"anchored {a['rows']} rows in {len(a['chains'])} chains to "
               f"{audit.anchor_path(file)}" + ("" if "hmac" in a else " (no HMAC key set)"),
               err=True)


@app.command()
def verify(anchor_file: Path = typer.Option(None, "--anchor",
                                            help="check against this anchor file (default: the "
                                                 "configured anchor file, when it exists)"),
           as_json: bool = typer.Option(False, "--json")):
    """Walk every audit chain and check it against the anchors; exit 1 naming what is wrong if
    a row was edited, removed or reordered, the tail cut off or a chain recomputed."""
    path = anchor_file or audit.anchor_path()
    anchors = None
    if anchor_file is not None or path.exists():
        try:
            anchors = audit.read_anchors(path, audit.anchor_key())
        except InputError as exc:
            typer.echo(f"audit log NOT verified: {exc}", err=True)
            raise typer.Exit(1) from exc
    engine = make_engine()
    with engine.connect() as conn:
        res = audit.verify(conn, anchors)
    if as_json:
        typer.echo(json.dumps(res.__dict__))
    elif res.ok:
        checked = (f"; {res.anchors} anchors checked ({path})" if anchors is not None
                   else "; no anchor file: tail truncation and recomputed chains are not "
                        "detectable (run `shebao audit anchor`)")
        typer.echo(f"audit log intact: {res.rows} rows in {len(res.chains)} chains, chain "
                   f"verified{checked}")
    else:
        typer.echo(f"audit log BROKEN at row id {res.first_bad_id}: {res.reason}", err=True)
    raise typer.Exit(0 if res.ok else 1)
