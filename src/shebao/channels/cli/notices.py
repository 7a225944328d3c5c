"""``shebao notices …``: the delivery worker and the delivery status.

    shebao notices worker                       poll the outbox (no broker)
    shebao notices worker --broker amqp://guest:guest@127.0.0.1:5672/%2F
                                                through RabbitMQ (relay + consumer)
    shebao notices worker --once                until nothing is due, then exit
    shebao notices status [--region 310000] [--json] [--actor clerk]
    shebao notices yearly-statements --year 2025 --region 310104 --actor clerk
                                                one notice per insured person (set-based)

The database is ``SHEBAO_DATABASE_URL``; the broker ``SHEBAO_BROKER_URL`` (or ``--broker``);
the adapters come from the environment (``notices.adapters.configure``: SMTP, SMS/WeChat
gateway URLs, or ``--capture FILE`` to capture every message locally). The worker is a
system service (like ``serve``): it acts as ``notices.worker`` and audits each batch.
``status`` without ``--actor`` prints national counts only (no personal data); with an
account it is that account's scope and adds the failing notices.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

import typer

from shebao.collection import statements as statements_mod
from shebao.core.actor import SYSTEM
from shebao.db.engine import make_engine
from shebao.notices import adapters as adapters_mod
from shebao.notices import status as status_mod
from shebao.notices import worker as worker_mod
from shebao.notices.policy import Policy
from shebao.rules import load_rules

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Notices: delivery worker and status.")


@app.command("worker")
def worker_cmd(
        broker: Optional[str] = typer.Option(None, "--broker", envvar="SHEBAO_BROKER_URL",
                                             help="amqp:// URL of RabbitMQ; none = poll"),
        queue: str = typer.Option(worker_mod.QUEUE, help="broker queue name"),
        role: str = typer.Option("both", help="both | relay | consumer (broker only)"),
        capture: Optional[str] = typer.Option(None, help="capture every message into this "
                                                         "SQLite file (tests, demo)"),
        capture_delay: float = typer.Option(0.0, help="seconds per captured message "
                                                      "(a slow gateway; tests)"),
        batch_size: Optional[int] = typer.Option(None, help="override notices.delivery"),
        lease_seconds: Optional[int] = typer.Option(None, help="override notices.delivery"),
        once: bool = typer.Option(False, "--once", help="stop when nothing is due"),
        poll_seconds: float = typer.Option(1.0, help="sleep when nothing is due (polling)"),
        quiet: bool = typer.Option(False, "--quiet", help="no line per batch")):
    """Deliver the outbox through the configured adapters until stopped (SIGTERM)."""
    if role not in ("both", "relay", "consumer"):
        raise typer.BadParameter("role must be both, relay or consumer", param_hint="--role")
    policy = Policy.from_rules(load_rules())
    over = {k: v for k, v in (("batch_size", batch_size), ("lease_seconds", lease_seconds))
            if v is not None}
    policy = dataclasses.replace(policy, **over)
    adapters = adapters_mod.configure(dict(os.environ), capture=capture)
    if capture_delay and capture:
        for a in set(adapters.values()):
            a.delay = capture_delay
    engine = make_engine()
    stop = worker_mod.Stop().install()

    def line(rep):
        if not quiet:
            typer.echo(f"batch: {rep.claimed} claimed, {rep.sent} sent, {rep.failed} retry, "
                       f"{rep.dead} dead, {rep.deferred} deferred", err=True)
    try:
        if broker:
            b = worker_mod.RabbitBroker(broker, queue=queue)
            try:
                total = worker_mod.run_broker(engine, adapters, policy, b,
                                              relay=role != "consumer",
                                              consume=role != "relay", once=once, stop=stop,
                                              on_batch=line)
            finally:
                b.close()
        else:
            total = worker_mod.run_polling(engine, adapters, policy, once=once,
                                           poll_seconds=poll_seconds, stop=stop,
                                           on_batch=line)
    finally:
        for a in set(adapters.values()):
            a.close()
        engine.dispose()
    typer.echo(json.dumps({"sent": total.sent, "failed": total.failed, "dead": total.dead,
                           "deferred": total.deferred, "duplicates": total.duplicates,
                           "by_channel": total.by_channel}))


@app.command("status")
def status_cmd(region: Optional[str] = typer.Option(None, help="region subtree"),
               as_json: bool = typer.Option(False, "--json"),
               actor: Optional[str] = ACTOR):
    """Notices per status and channel; with --actor also the failing ones in scope."""
    if actor:
        engine, who = engine_and_actor(actor, permission="notices.read", region=region)
    else:
        engine, who = make_engine(), SYSTEM
        region = "national"
    s = status_mod.summary(engine, who, region)
    probs = status_mod.problems(engine, who, region) if actor else []
    engine.dispose()
    if as_json:
        typer.echo(json.dumps({**s, "problems": probs}, ensure_ascii=False, default=str))
        return
    typer.echo(f"region {s['region']}")
    for r in sorted(s["rows"], key=lambda r: (r["status"], r["channel"])):
        typer.echo(f"  {r['status']:<10} {r['channel'] or '-':<8} {r['count']:>10}")
    for p in probs:
        typer.echo(f"  #{p['id']} {p['template']} {p['recipient_type']} {p['recipient_id']} "
                   f"{p['status']} attempts={p['attempts']} {p['last_error']}")


@app.command("yearly-statements")
def yearly_statements_cmd(year: int = typer.Option(..., help="the statement's year"),
                          region: str = typer.Option(..., help="region subtree"),
                          actor: Optional[str] = ACTOR):
    """Tell every person with contributions in the year that their rights statement is ready."""
    engine, who = engine_and_actor(actor, permission="collection.run", region=region)
    n = statements_mod.announce_yearly_statements(engine, who, region, year)
    engine.dispose()
    typer.echo(f"{n} notices enqueued")
