"""``shebao medical …``: medical insurance — providers, catalogue, claims, settlement,
off-site registration and clearing, manual claims.

    shebao medical provider CODE NAME --region R --level tertiary [--kind hospital] [--account U]
    shebao medical catalogue --region 110000 FILE.csv            code,name,kind,class,valid_from
    shebao medical claim FILE.json                               a provider's itemised bill
    shebao medical settle --region 110000 [--on DATE]
    shebao medical offsite PERSON --to 110000 --category long_term --subtype long_term_resident
    shebao medical clear --month 2025-05
    shebao medical manual-decide CASE granted|refused [--reason …] / manual-approve CASE
    shebao medical credit-retirees --region 110105 --month 2025-03
Every command takes ``--actor`` (an authenticated account) and prints JSON.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Medical insurance: providers, catalogue, claims, "
                                             "settlement, off-site care.")


def _out(v) -> None:
    typer.echo(json.dumps(v, ensure_ascii=False, default=str))


@app.command("provider")
def provider_cmd(code: str, name: str, region: str = typer.Option(...),
                 level: str = typer.Option(...), kind: str = typer.Option("hospital"),
                 account: Optional[str] = typer.Option(None), actor: str = ACTOR):
    """Register a designated provider (level tertiary|secondary|primary)."""
    from shebao.medical import providers
    eng, who = engine_and_actor(actor, permission="medical.provider.manage", region=region)
    _out({"provider_id": providers.register_provider(eng, who, code=code, name=name,
                                                     region=region, kind=kind, level=level,
                                                     account=account)})


@app.command("catalogue")
def catalogue_cmd(path: Path, region: str = typer.Option(...), actor: str = ACTOR):
    """Load catalogue rows (A 甲 / B 乙 / C 丙) for a region from a UTF-8 CSV."""
    from shebao.medical import providers
    eng, who = engine_and_actor(actor, permission="medical.catalogue.manage", region=region)
    _out({"rows": providers.load_catalogue(eng, who, region, path.read_text("utf-8"))})


@app.command("claim")
def claim_cmd(path: Path, actor: str = ACTOR):
    """Submit an itemised bill (JSON: provider, bill_no, citizen_id, kind, admitted_on, lines)."""
    from shebao.medical import claims
    eng, who = engine_and_actor(actor, permission="medical.claim.submit")
    _out({"claim_id": claims.submit_claim(eng, who, json.loads(path.read_text("utf-8")),
                                          channel="file")})


@app.command("settle")
def settle_cmd(region: str = typer.Option(...), on: Optional[str] = typer.Option(None),
               actor: str = ACTOR):
    """Settle every submitted claim insured in the region subtree."""
    from shebao.medical import settle
    eng, who = engine_and_actor(actor, permission="medical.settle", region=region)
    _out(settle.settle(eng, who, region, on=dt.date.fromisoformat(on) if on else None))


@app.command("offsite")
def offsite_cmd(person: int, to: str = typer.Option(..., "--to"),
                category: str = typer.Option(...), subtype: str = typer.Option(...),
                valid_from: Optional[str] = typer.Option(None, "--from"), actor: str = ACTOR):
    """Register off-site care (long_term, referral, emergency, temporary_other)."""
    from shebao.medical import offsite
    eng, who = engine_and_actor(actor, permission="medical.offsite.register")
    _out(offsite.register(eng, who, person_id=person, treatment_region=to, category=category,
                          subtype=subtype, channel="counter",
                          valid_from=dt.date.fromisoformat(valid_from) if valid_from
                          else dt.date.today()))


@app.command("clear")
def clear_cmd(month: str = typer.Option(..., help="YYYY-MM"), actor: str = ACTOR):
    """Clear a month's off-site settlements between regions through the ledger."""
    from shebao.medical import offsite
    eng, who = engine_and_actor(actor, permission="medical.settle")
    _out(offsite.clear(eng, who, dt.date.fromisoformat(month + "-01")))


@app.command("manual-decide")
def manual_decide_cmd(case: int, outcome: str, reason: Optional[str] = typer.Option(None),
                      actor: str = ACTOR):
    """Propose the decision on a manual claim (a second clerk checks it)."""
    from shebao.medical import manual
    eng, who = engine_and_actor(actor, permission="medical.claim.work")
    _out({"approval_id": manual.propose(eng, who, case, outcome, reason)})


@app.command("manual-approve")
def manual_approve_cmd(case: int, actor: str = ACTOR):
    """Check a manual claim's decision: it takes effect; a granted claim is settled."""
    from shebao.medical import manual
    eng, who = engine_and_actor(actor, permission="medical.claim.approve")
    _out(manual.approve(eng, who, case))


@app.command("credit-retirees")
def credit_retirees_cmd(region: str = typer.Option(...),
                        month: str = typer.Option(..., help="YYYY-MM"), actor: str = ACTOR):
    """Credit retirees' medical accounts with the month's fixed amount from the pooled fund."""
    from shebao.medical import account
    eng, who = engine_and_actor(actor, permission="medical.settle", region=region)
    _out(account.credit_retirees(eng, who, region, dt.date.fromisoformat(month + "-01")))
