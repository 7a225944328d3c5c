"""``shebao sharing …``: partner agencies and the delivery of our notices to subscribers.

    shebao sharing partner-add --code zj --name 浙江 --kind installation --region 310000 \\
        --scope search --scope item:status --public-key <x> --base-url https://… --actor admin
                                   prints the client id and secret (shown once)
    shebao sharing partners        the registered partners
    shebao sharing deliver [--every 30]   send due notices to subscribers (once, or a loop)
    shebao sharing keys            our public keys (JWKS): sharing and e-card

Signing keys: ``SHEBAO_SHARING_KEY_FILE`` / ``SHEBAO_ECARD_KEY_FILE`` (PEM Ed25519; ephemeral
with ``SHEBAO_ENV=dev``); our credentials at partners: ``SHEBAO_PARTNER_CREDENTIALS``;
our name in messages: ``SHEBAO_INSTALLATION``.
"""
from __future__ import annotations

import json
import os
import time
from typing import List, Optional

import typer

from shebao.db.engine import make_engine
from shebao.security import signing
from shebao.sharing import outbound, partners

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Sharing: partner agencies, notices to "
                                             "subscribers, public keys.")


@app.command("partner-add")
def partner_add(code: str = typer.Option(...), name: str = typer.Option(...),
                kind: str = typer.Option(...), region: str = typer.Option(...),
                scope: List[str] = typer.Option([], "--scope", help="repeat per scope"),
                public_key: Optional[str] = typer.Option(None, help="their Ed25519 key (x)"),
                base_url: Optional[str] = typer.Option(None), actor: str = ACTOR):
    """Register a partner agency; prints its client id and secret (shown once)."""
    engine, who = engine_and_actor(actor, permission="sharing.manage")
    _, client_id, secret = partners.register(engine, who, code=code, name=name, kind=kind,
                                             region=region, scopes=scope,
                                             public_key=public_key, base_url=base_url)
    typer.echo(json.dumps({"code": code, "client_id": client_id, "client_secret": secret}))


@app.command("partners")
def partners_cmd(actor: str = ACTOR):
    """The registered partners with their scopes (no secrets)."""
    engine, _ = engine_and_actor(actor, permission="sharing.read")
    for p in partners.partners(engine):
        typer.echo(f"{p.code:<16} {p.kind:<16} {p.region:<9} {p.status:<10} "
                   f"{','.join(sorted(p.scopes))}")


@app.command("deliver")
def deliver(limit: int = typer.Option(100, help="notices per run"),
            every: float = typer.Option(0.0, help="seconds between runs; 0 = run once")):
    """Send the notices due to subscribed partners (retries with backoff)."""
    engine = make_engine()
    key = signing.load_key("sharing")
    us = os.environ.get("SHEBAO_INSTALLATION") or "shebao"
    while True:
        res = outbound.deliver_due(engine, key, us=us, limit=limit)
        typer.echo(f"sent {res.sent}, to retry {res.retried}, failed {res.failed}")
        if every <= 0:
            break
        time.sleep(every)


@app.command("keys")
def keys():
    """Our public keys (JWKS), to give to partners and offline e-card verifiers."""
    typer.echo(json.dumps({"keys": [signing.load_key(p).public.jwk()
                                    for p in ("sharing", "ecard")]}, indent=2))
