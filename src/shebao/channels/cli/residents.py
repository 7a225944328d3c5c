"""``shebao residents …``: the resident schemes — universal registration, the enrolment
campaign, resident pension awards.

    shebao residents uninsured --region 110000 [--on DATE]
    shebao residents campaign --region 110105 --year 2026
    shebao residents sign-up CAMPAIGN PERSON [--student] [--no-medical] [--tier 500]
    shebao residents subsidies CAMPAIGN
    shebao residents award PERSON --from 2026-03 [--prior-years 14]  /  award-approve AWARD
"""
from __future__ import annotations

import datetime as dt
import json

import typer

from .actor import ACTOR, engine_and_actor

app = typer.Typer(no_args_is_help=True, help="Resident schemes: universal registration, "
                                             "campaign, resident pension.")


def _out(v) -> None:
    typer.echo(json.dumps(v, ensure_ascii=False, default=str))


@app.command("uninsured")
def uninsured_cmd(region: str = typer.Option(...), on: str = typer.Option(None),
                  actor: str = ACTOR):
    """The uninsured by region and age group (registry residence/hukou vs enrolments)."""
    from shebao.residents import campaign
    eng, who = engine_and_actor(actor, permission="residents.read", region=region)
    _out(campaign.uninsured(eng, who, region, dt.date.fromisoformat(on) if on
                            else dt.date.today()))


@app.command("campaign")
def campaign_cmd(region: str = typer.Option(...), year: int = typer.Option(...),
                 actor: str = ACTOR):
    """Open the enrolment campaign for an insurance year (window and subsidies from the law)."""
    from shebao.residents import campaign
    eng, who = engine_and_actor(actor, permission="residents.campaign", region=region)
    _out({"campaign_id": campaign.open_campaign(eng, who, region, year)})


@app.command("sign-up")
def sign_up_cmd(campaign_id: int, person: int, student: bool = False,
                no_medical: bool = False, tier: int = 0, actor: str = ACTOR):
    """Sign a resident (or student) up for the campaign's year."""
    from shebao.residents import campaign
    eng, who = engine_and_actor(actor, permission="residents.enrol")
    _out({"signup_id": campaign.sign_up(eng, who, campaign_id=campaign_id, person_id=person,
                                        kind="student" if student else "resident",
                                        medical=not no_medical, pension_tier=tier)})


@app.command("subsidies")
def subsidies_cmd(campaign_id: int, actor: str = ACTOR):
    """Close the campaign and book its subsidies in the ledger."""
    from shebao.residents import campaign
    eng, who = engine_and_actor(actor, permission="residents.campaign")
    _out(campaign.post_subsidies(eng, who, campaign_id))


@app.command("award")
def award_cmd(person: int, start: str = typer.Option(..., "--from", help="YYYY-MM"),
              prior_years: int = 0, actor: str = ACTOR):
    """Propose a resident pension award (basic + account ÷ 139); a second clerk approves."""
    from shebao.residents import award
    eng, who = engine_and_actor(actor, permission="residents.award")
    _out({"award_id": award.propose(eng, who, person_id=person,
                                    start_month=dt.date.fromisoformat(start + "-01"),
                                    prior_years=prior_years)})


@app.command("award-approve")
def award_approve_cmd(award_id: int, actor: str = ACTOR):
    """Approve a proposed resident pension award."""
    from shebao.residents import award
    eng, who = engine_and_actor(actor, permission="residents.award.approve")
    _out(award.approve(eng, who, award_id))
