"""Medical pages (#16 point 6): the citizen's medical insurance page (account and where it came
from, claims and their split, manual claims with the due date, off-site registrations), the
clerks' manual-claims queue, claim page (bill lines with class, computed split), decide and
approve by two clerks, a person's medical view for staff, a provider's claims — with role and
region checks."""
import datetime as dt

from sqlalchemy import text

from shebao.cases import queries as case_queries
from shebao.core.actor import Actor
from shebao.ledger import queries as ledger_queries
from shebao.medical import providers

CLERK = Actor(id="benefits_clerk-310104", role="benefits_clerk", scope="310104")
CITY_CLERK = Actor(id="benefits_clerk-sh", role="benefits_clerk", scope="310000")
CATALOGUE = """code,name,kind,class,valid_from
T001,住院床位费,treatment,A,2020-01-01
D002,某乙类药,drug,B,2020-01-01
X001,自费耗材,material,C,2020-01-01
"""


def seed_provider(engine):
    """A Xuhui tertiary hospital with its agreement and Shanghai's catalogue."""
    hid = providers.register_provider(engine, CLERK, code="H31010401", name="徐汇某三甲医院",
                                      region="310104", kind="hospital", level="tertiary")
    providers.sign_contract(engine, CLERK, provider_id=hid, number="SH-2025-001",
                            valid_from=dt.date(2025, 1, 1))
    providers.load_catalogue(engine, CITY_CLERK, "310000", CATALOGUE)
    return hid


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
    assert c.item == "medical.manual_claim" and (c.due_on - c.opened_on).days >= 41
    mine = me.get("/me/medical")
    assert f'data-case="{case}"' in mine.text
    assert 'data-testid="manual-due">' + fmt_date(c.due_on) in mine.text
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


def fmt_date(d):
    from shebao.channels.web.i18n import Fmt
    return Fmt("zh_CN").date(d)
