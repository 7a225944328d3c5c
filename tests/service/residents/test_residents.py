"""Universal registration, the enrolment campaign with subsidies, the resident pension award."""
import datetime as dt

import pytest

from shebao.collection.assess import assess
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.devtools.synthetic_population import citizen_ids
from shebao.ledger import service as ledger
from shebao.registry import service as reg
from shebao.residents import award, campaign

import numpy as np

R = "110105"
ADMIN = Actor(id="test", role="administrator")
CC = Actor(id="cc_bj", role="collection_clerk", scope="110000")
BC1 = Actor(id="bc_bj", role="benefits_clerk", scope="110000")
BC2 = Actor(id="bc_bj2", role="benefits_clerk", scope="110000")


@pytest.fixture
def people(engine):
    # birth dates come from the IDs: 1964-05-01, 2005-10-19, 1990-01-01, 1991-01-01
    ids = citizen_ids(R, np.array([851, 15999, 10227, 10592])).astype(str).tolist()
    p = [reg.register_person(engine, ADMIN, citizen_id=c, name=n,
                             hukou_region=R, residence_region=R if i != 3 else None,
                             valid_from=dt.date(2020, 1, 1))
         for i, (c, n) in enumerate(zip(ids, ("赵老", "钱小", "孙工", "李户")))]
    reg.enrol(engine, ADMIN, p[2], "medical", R, "flexible", dt.date(2024, 1, 1))
    reg.enrol(engine, ADMIN, p[2], "pension", R, "flexible", dt.date(2024, 1, 1))
    return p


def test_uninsured_by_region_and_age_group(engine, people):
    rows = campaign.uninsured(engine, CC, "110000", dt.date(2025, 9, 1))
    by = {(r["region"], r["age_group"]): r for r in rows}
    # the elder (61) and the student (19) are insured for nothing; the flexible worker (35) is
    # insured for both; the fourth (34, hukou only) counts where the hukou is
    assert by[(R, "60-69")]["uninsured"] == 1
    assert by[(R, "16-24")] == {"region": R, "age_group": "16-24", "people": 1,
                                "no_pension": 1, "no_medical": 1, "uninsured": 1}
    assert by[(R, "35-44")]["uninsured"] == 0
    assert by[(R, "25-34")]["uninsured"] == 1
    assert sum(r["people"] for r in rows) == 4


def test_campaign_window_sign_up_billing_and_subsidies(engine, people):
    cid = campaign.open_campaign(engine, CC, R, 2026)
    elder, child = people[0], people[1]
    with pytest.raises(InputError) as e:        # before the window (2025-09-01 … 12-31)
        campaign.sign_up(engine, CC, campaign_id=cid, person_id=elder, pension_tier=500,
                         on=dt.date(2025, 8, 31))
    assert e.value.field == "on"
    with pytest.raises(InputError):             # insured as a flexible worker already
        campaign.sign_up(engine, CC, campaign_id=cid, person_id=people[2],
                         on=dt.date(2025, 10, 1))
    campaign.sign_up(engine, CC, campaign_id=cid, person_id=elder, pension_tier=500,
                     on=dt.date(2025, 10, 1))
    me = Actor(id="child_parent", role="citizen", person_id=child)
    campaign.sign_up(engine, me, campaign_id=cid, person_id=child, kind="student",
                     on=dt.date(2025, 10, 2))
    # subsidies: medical 700 × 2 to the pooled fund; pension 60 (tier 500) to the account
    out = campaign.post_subsidies(engine, CC, cid)
    assert out == {"signups": 2, "medical_subsidy_fen": 140000, "pension_subsidy_fen": 6000}
    assert ledger.balance(engine, f"{R}.resident_medical.pooled_fund") == 140000
    assert ledger.balance(engine, f"{R}.resident_pension.individual.{elder}") == 6000
    # collection bills the elder in the billing month (March): tier 500 to the account,
    # resident medical 400 (2025 value, in force in 2026) to the pooled fund
    assess(engine, CC, R, dt.date(2026, 3, 1))
    assert ledger.balance(engine, f"{R}.resident_pension.individual.{elder}") == 6000 + 50000
    assert ledger.balance(engine, f"{R}.resident_medical.pooled_fund") == 140000 + 40000
    assert ledger.balance(engine, f"{R}.resident_medical.receivable_individual") == 40000


def test_resident_pension_award_four_eyes(engine, people):
    cid = campaign.open_campaign(engine, CC, R, 2026)
    elder = people[0]
    campaign.sign_up(engine, CC, campaign_id=cid, person_id=elder, pension_tier=500,
                     on=dt.date(2025, 10, 1))
    campaign.post_subsidies(engine, CC, cid)
    with pytest.raises(InputError):             # 1 year is not 15
        award.propose(engine, BC1, person_id=elder, start_month=dt.date(2026, 3, 1))
    aid = award.propose(engine, BC1, person_id=elder, start_month=dt.date(2026, 3, 1),
                        prior_years=14)
    with pytest.raises(Exception):              # not the maker
        award.approve(engine, BC1, aid)
    a = award.approve(engine, BC2, aid)
    # basic 163 (2026) + 0 top-up ; account 60.00 / 139 = 0.4316… → 0.43 ; total 163.43
    assert (a["basic_fen"], a["account_pension_fen"], a["monthly_fen"], a["status"]) == (
        16300, 43, 16343, "awarded")
