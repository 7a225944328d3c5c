"""Medical pages (#16 point 6): the citizen's medical insurance page (account and where it came
from, claims and their split, manual claims with the due date, off-site registrations), the
clerks' manual-claims queue, claim page (bill lines with class, computed split), decide and
approve by two clerks, a person's medical view for staff, a provider's claims — with role and
region checks."""
import datetime as dt

from sqlalchemy import text

from shebao.cases import queries as case_queries
from shebao.channels.web.i18n import Fmt
from shebao.core.actor import SYSTEM, Actor
from shebao.devtools.sample_world import citizen_id
from shebao.ledger import queries as ledger_queries
from shebao.registry import service as reg
from shebao.residents import campaign
from shebao.security import service as sec
from tests.support.medical_seed import seed_provider
from tests.support.web import web_client

CC = Actor(id="collection_clerk-310104", role="collection_clerk", scope="310104")

CLAIM = {"provider": "H31010401", "bill_no": "FP-0001", "kind": "inpatient",
         "admitted_on": "2025-09-01", "discharged_on": "2025-09-06",
         "item_1": "T001", "amount_1": "11000.00", "item_2": "X001", "amount_2": "500.00"}


def test_manual_claim_from_the_portal_through_two_clerks(login, world, engine):
    seed_provider(engine)
    pid = world.persons["310104"]
    me = login("citizen-310104")
    page = me.get("/me/medical")
    assert page.status_code == 200, page.text
    assert 'data-testid="manual-claim"' in page.text and 'data-testid="offsite"' in page.text
    assert "30 个工作日" in page.text or "30 工作日" in page.text
    # the account: the balance the ledger keeps, and where it came from
    st = ledger_queries.statement(engine, Actor(id="t", role="system"), pid, "medical")
    assert st.lines and "缴费划入" in page.text
    bad = me.post("/me/medical/manual-claims", data={**CLAIM, "amount_1": "-3"})
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    ok = me.post("/me/medical/manual-claims", data=CLAIM)
    assert ok.status_code == 303, ok.text
    case = int(ok.headers["location"].split("opened=")[1].split("#")[0])
    c = case_queries.get(engine, case)
    assert c.item == "medical.manual_claim" and (c.due_on - c.opened_on).days >= 40  # 30 WD
    mine = me.get("/me/medical")
    assert f'data-case="{case}"' in mine.text
    assert 'data-testid="manual-due">' + Fmt("zh_CN").date(c.due_on) in mine.text
    assert me.post("/me/medical/manual-claims", data=CLAIM).status_code == 409   # same bill

    # the queue: in scope, persons masked; not for other desks or regions
    clerk = login("benefits_clerk-310104")
    q = clerk.get("/staff/medical")
    assert q.status_code == 200 and f'data-case="{case}"' in q.text
    assert "李娜" not in q.text and "李*" in q.text
    assert f'data-case="{case}"' not in login("benefits_clerk-310101").get("/staff/medical").text
    assert login("collection_clerk-310104").get("/staff/medical").status_code == 403
    assert login("benefits_clerk-310101").get(f"/staff/medical/claims/{case}").status_code == 403
    assert me.get(f"/staff/medical/claims/{case}").status_code == 403

    # the claim: lines with their class, the split computed before deciding
    view = clerk.get(f"/staff/medical/claims/{case}")
    assert view.status_code == 200
    assert "甲类" in view.text and "丙类" in view.text
    # Shanghai (national default): (11,000 − 1,000) × 85% = 8,500; the person pays 3,000
    assert 'data-testid="split-fund">¥8,500.00' in view.text
    assert 'data-testid="split-cash">¥3,000.00' in view.text
    assert clerk.post(f"/staff/medical/claims/{case}/decide",
                      data={"outcome": "refused"}).status_code == 422     # needs a reason
    assert clerk.post(f"/staff/medical/claims/{case}/decide",
                      data={"outcome": "granted"}).status_code == 303
    again = clerk.get(f"/staff/medical/claims/{case}")
    assert 'data-testid="own-submission"' in again.text and "/approve" not in again.text
    assert clerk.post(f"/staff/medical/claims/{case}/approve").status_code == 403   # the maker
    checker = login("benefits_clerk-2-310104")
    assert checker.post(f"/staff/medical/claims/{case}/approve").status_code == 303
    done = checker.get(f"/staff/medical/claims/{case}")
    assert 'data-testid="claim-status">已结算' in done.text
    assert 'data-testid="split-fund">¥8,500.00' in done.text

    # the citizen sees the reimbursement; staff see the person's record (audited)
    mine = me.get("/me/medical")
    assert 'data-testid="reimbursed">¥8,500.00' in mine.text
    rec = clerk.get(f"/staff/persons/{pid}/medical?purpose=counter enquiry")
    assert rec.status_code == 200 and f'data-case="{case}"' in rec.text
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE action = 'medical.record.read' "
            "AND actor = 'benefits_clerk-310104' AND subject_id = :p"), {"p": str(pid)}
        ).scalar_one() == 1
    assert login("benefits_clerk-310101").get(f"/staff/persons/{pid}/medical").status_code == 403
    assert 'data-testid="medical-link"' in clerk.get(f"/staff/persons/{pid}").text
    prov = clerk.get("/staff/medical/providers/H31010401")
    assert prov.status_code == 200 and "FP-0001" in prov.text and "李娜" not in prov.text
    assert login("benefits_clerk-310101").get(
        "/staff/medical/providers/H31010401").status_code == 403


def test_offsite_registration_from_the_portal(login, world):
    me = login("citizen-310104")
    home = me.post("/me/medical/offsite", data={"treatment_region": "310101",
                                                "category": "referral:referral",
                                                "valid_from": "2025-09-01"})
    assert home.status_code == 422 and 'data-field="treatment_region"' in home.text
    ok = me.post("/me/medical/offsite", data={"treatment_region": "110000",
                                              "category": "long_term:long_term_resident",
                                              "valid_from": "2025-09-01"})
    assert ok.status_code == 303, ok.text
    page = me.get("/me/medical")
    assert "110000" in page.text and "长期居住" in page.text


def test_queue_puts_overdue_claims_first(login, world, engine):
    """Due dates come from the case catalogue; a claim past its due date leads the queue."""
    seed_provider(engine)
    me = login("citizen-310104")
    cases = []
    for no in ("Q-1", "Q-2"):
        r = me.post("/me/medical/manual-claims", data={**CLAIM, "bill_no": no,
                                                       "admitted_on": f"2025-09-0{len(cases) + 1}"})
        assert r.status_code == 303, r.text
        cases.append(int(r.headers["location"].split("opened=")[1].split("#")[0]))
    # the second claim's 30 working days have run out (as if received two months ago)
    with engine.begin() as conn:
        conn.execute(text("UPDATE service_case SET due_on = :d WHERE id = :c"),
                     {"d": dt.date(2025, 10, 1), "c": cases[1]})
    q = login("benefits_clerk-310104").get("/staff/medical").text
    assert q.index(f'data-case="{cases[1]}"') < q.index(f'data-case="{cases[0]}"')
    row = q[q.index(f'data-case="{cases[1]}"'):]
    assert 'class="overdue"' in q and "超期" in row[:row.index("</tr>")]


def test_resident_campaign_page_and_the_residents_own_record(login, world, engine, app):
    """A collection clerk opens the campaign from the page; a resident signs up; the page
    counts them by region and age group; the resident sees enrolment and pension account."""
    clerk = login("collection_clerk-310104")
    r = clerk.post("/staff/residents/campaigns", data={"region": "310104", "year": "2026"})
    assert r.status_code == 303, r.text
    assert clerk.post("/staff/residents/campaigns",
                      data={"region": "310104", "year": "2026"}).status_code == 409
    cid = campaign.campaign_list(engine, CC, "310104")[0]["id"]
    pid = reg.register_person(engine, CC, citizen_id=citizen_id("310104", dt.date(1962, 5, 1), 41),
                              name="赵居民", residence_region="310104", hukou_region="310104")
    campaign.sign_up(engine, CC, campaign_id=cid, person_id=pid, pension_tier=500,
                     on=dt.date(2025, 10, 1))
    campaign.post_subsidies(engine, CC, cid)
    page = clerk.get("/staff/residents?region=310104&year=2026&on=2025-10-01")
    assert page.status_code == 200
    assert f'data-campaign="{cid}"' in page.text
    total = page.text[page.text.index('data-testid="registration-total"'):]
    cells = [c.split("<")[0] for c in total.split('class="num">')[1:6]]
    # Xuhui: the worker (insured), the pensioner-to-be (no enrolment) and the resident, who
    # signed up for 2026 and is not insured yet on 2025-10-01
    assert cells == ["3", "2", "2", "2", "1"], cells
    assert "60-69" in page.text
    assert login("collection_clerk-310101").get(
        "/staff/residents?region=310104").status_code == 403
    assert login("citizen-310104").get("/staff/residents").status_code == 403
    sec.create_user(engine, SYSTEM, username="zhao-resident", password="Long-pass-123456",
                    role="citizen", scope="310104", person_id=pid)
    mine = web_client(app, "zhao-resident", "Long-pass-123456").get("/me/medical")
    assert mine.status_code == 200 and 'data-testid="resident-signups"' in mine.text
    bal = ledger_queries.balance(engine, f"310104.resident_pension.individual.{pid}")
    assert bal > 0 and f'data-testid="resident-pension-balance">{Fmt("zh_CN").money(bal)}' \
        in mine.text


def test_a_refused_claim_shows_the_reason_and_no_split(login, world, engine):
    seed_provider(engine)
    r = login("citizen-310104").post("/me/medical/manual-claims", data=CLAIM)
    case = int(r.headers["location"].split("opened=")[1].split("#")[0])
    maker, checker = login("benefits_clerk-310104"), login("benefits_clerk-2-310104")
    assert maker.post(f"/staff/medical/claims/{case}/decide", data={
        "outcome": "refused", "reason": "不属于医保支付范围"}).status_code == 303
    assert checker.post(f"/staff/medical/claims/{case}/send-back",
                        data={"reason": ""}).status_code == 422      # say what to rework
    assert checker.post(f"/staff/medical/claims/{case}/approve").status_code == 303
    page = checker.get(f"/staff/medical/claims/{case}").text
    assert 'data-testid="outcome">不予' in page and "不属于医保支付范围" in page
    assert 'data-testid="split"' not in page and 'data-testid="decide"' not in page
    mine = login("citizen-310104").get("/me/medical").text
    row = mine[mine.index(f'data-case="{case}"'):]
    assert "不予" in row[:row.index("</tr>")]
