"""Reads of the resident scheme tables for the channels and other packages (plain data back).

Personal reads (``person_status``) assume the caller checked the actor may reach the person and
audits the read (``medical.access`` / the pages do); campaign reads are region aggregates.
"""
from __future__ import annotations

from sqlalchemy import case, func, select

from shebao.core.money import fen_to_yuan_str

from .tables import resident_award, resident_campaign, resident_signup


def _plain(r) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(r).items()}


def person_status(bind, person_id: int) -> dict:
    """A person's resident enrolments, campaign by campaign (insurance year, region, window,
    kind, resident medical yes/no, pension tier, subsidies), and resident pension awards."""
    c, s = resident_campaign, resident_signup
    rows = bind.execute(
        select(c.c.year, c.c.region, c.c.opens_on, c.c.closes_on, c.c.status.label(
            "campaign_status"), c.c.medical_individual_fen, s.c.kind, s.c.medical,
               s.c.pension_tier_fen, s.c.pension_subsidy_fen, s.c.medical_subsidy_fen,
               s.c.signed_on)
        .select_from(s.join(c, c.c.id == s.c.campaign_id))
        .where(s.c.person_id == person_id).order_by(c.c.year.desc())).mappings().all()
    signups = [{**_plain(r), "medical": bool(r["medical"]),
                "medical_contribution": fen_to_yuan_str(int(r["medical_individual_fen"]))
                if r["medical"] else None,
                "pension_tier": fen_to_yuan_str(int(r["pension_tier_fen"])),
                "pension_subsidy": fen_to_yuan_str(int(r["pension_subsidy_fen"])),
                "medical_subsidy": fen_to_yuan_str(int(r["medical_subsidy_fen"])),
                "subsidy": fen_to_yuan_str(int(r["pension_subsidy_fen"])
                                           + int(r["medical_subsidy_fen"]))}
               for r in rows]
    a = resident_award
    awards = [{**_plain(r), "monthly": fen_to_yuan_str(int(r["monthly_fen"])),
               "basic": fen_to_yuan_str(int(r["basic_fen"])),
               "account_pension": fen_to_yuan_str(int(r["account_pension_fen"]))}
              for r in bind.execute(select(a.c.id, a.c.region, a.c.start_month, a.c.status,
                                           a.c.monthly_fen, a.c.basic_fen,
                                           a.c.account_pension_fen)
                                    .where(a.c.person_id == person_id)
                                    .order_by(a.c.start_month.desc())).mappings()]
    return {"signups": signups, "awards": awards}


def campaigns(bind, region_like: str) -> list[dict]:
    """The campaigns of a region subtree (LIKE pattern), newest first, with their sign-up
    counts (all, resident medical, resident pension) and subsidies — one grouped query."""
    c, s = resident_campaign, resident_signup
    counts = (select(s.c.campaign_id, func.count().label("signups"),
                     func.sum(s.c.medical).label("medical"),
                     func.sum(case((s.c.pension_tier_fen > 0, 1), else_=0)).label("pension"),
                     func.sum(s.c.medical_subsidy_fen + s.c.pension_subsidy_fen)
                     .label("subsidy_fen"))
              .group_by(s.c.campaign_id).subquery())
    rows = bind.execute(
        select(c.c.id, c.c.region, c.c.year, c.c.opens_on, c.c.closes_on, c.c.status,
               c.c.medical_individual_fen, c.c.medical_subsidy_fen, counts.c.signups,
               counts.c.medical, counts.c.pension, counts.c.subsidy_fen)
        .select_from(c.outerjoin(counts, counts.c.campaign_id == c.c.id))
        .where(c.c.region.like(region_like))
        .order_by(c.c.year.desc(), c.c.region)).mappings().all()
    return [{**_plain(r), **{k: int(r[k] or 0) for k in ("signups", "medical", "pension")},
             "medical_individual": fen_to_yuan_str(int(r["medical_individual_fen"])),
             "medical_subsidy": fen_to_yuan_str(int(r["medical_subsidy_fen"])),
             "subsidies": fen_to_yuan_str(int(r["subsidy_fen"] or 0))} for r in rows]


def signed_up_persons(bind, campaign_ids) -> list[int]:
    """The persons signed up in the campaigns (for the universal-registration counts)."""
    ids = [int(i) for i in campaign_ids]
    if not ids:
        return []
    return [int(r[0]) for r in bind.execute(select(resident_signup.c.person_id).distinct()
                                             .where(resident_signup.c.campaign_id.in_(ids)))]


__all__ = ["person_status", "campaigns", "signed_up_persons"]
