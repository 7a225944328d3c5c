"""Benefit cases through the channels (#13): the API (a citizen applies for themself only;
maker ≠ checker; approval idempotent; the notice as PDF; appeals), staff pages per case type
in scope, the overdue list, the citizen's page."""
import datetime as dt

from fastapi.testclient import TestClient

from shebao.benefits.determination import record_history
from shebao.core.actor import Actor
from tests.support.web import api_headers

CLERK = Actor(id="benefits_clerk-310104", role="benefits_clerk", scope="310104")


def _api(app, engine, world, username):
    c = TestClient(app)
    c.headers.update(api_headers(engine, world.users[(username, "")]))
    return c


def test_benefit_case_api_from_application_to_award_and_notice(app, engine, world):
    pid = world.persons["310104"]
    record_history(engine, CLERK, pid, [
        {"region": "310104", "period_start": dt.date(2012 + y, 1, 1), "months": 12,
         "base_total_fen": 12 * 900000, "kind": "paid"} for y in range(5)], source="legacy")
    citizen = _api(app, engine, world, "citizen-310104")
    facts = {"registered_on": "2025-08-10", "involuntary": True, "seeking_work": True}
    other = citizen.post("/api/v1/benefit/cases", json={
        "kind": "unemployment", "person_id": world.persons["310101"], "region": "310101",
        "facts": facts})
    assert other.status_code == 403                     # only for themself
    r = citizen.post("/api/v1/benefit/cases", json={
        "kind": "unemployment", "person_id": pid, "region": "310104", "facts": facts})
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    assert (r.json()["status"], r.json()["channel"]) == ("received", "online")
    assert citizen.post(f"/api/v1/benefit/cases/{case}/compute", json={}).status_code == 403
    outsider = _api(app, engine, world, "benefits_clerk-310101")
    assert outsider.get(f"/api/v1/benefit/cases/{case}").status_code == 403
    maker = _api(app, engine, world, "benefits_clerk-310104")
    comp = maker.post(f"/api/v1/benefit/cases/{case}/compute", json={"facts": {}})
    assert comp.status_code == 200, comp.text
    # 60 paid months → 18 months of 0.9 × 2740 = 2466.00
    assert comp.json()["computation"]["facts"]["months"] == 18
    assert maker.post(f"/api/v1/benefit/cases/{case}/submit").json()["status"] == "pending_check"
    assert maker.post(f"/api/v1/benefit/cases/{case}/approve",
                      headers={"Idempotency-Key": "m1"}).status_code == 403
    checker = _api(app, engine, world, "benefits_clerk-2-310104")
    a1 = checker.post(f"/api/v1/benefit/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    a2 = checker.post(f"/api/v1/benefit/cases/{case}/approve", headers={"Idempotency-Key": "k"})
    assert a1.status_code == a2.status_code == 200 and a1.json() == a2.json()
    assert a1.json()["status"] == "decided" and a1.json()["award_id"]
    pdf = citizen.get(f"/api/v1/benefit/cases/{case}/notice.pdf", params={"lang": "en"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    aw = citizen.get(f"/api/v1/benefit/persons/{pid}/awards").json()
    assert [ln["amount"] for ln in aw["awards"][0]["lines"]] == ["2466.00", "246.60"]
    assert citizen.get(f"/api/v1/benefit/persons/{world.persons['310101']}/awards"
                       ).status_code == 403
    ap = citizen.post(f"/api/v1/benefit/cases/{case}/appeal", json={"grounds": "too short"})
    assert ap.status_code == 201 and ap.json()["parent_id"] == case
    mine = citizen.get("/api/v1/benefit/cases").json()["items"]
    assert {c["id"] for c in mine} == {case, ap.json()["id"]}


def test_staff_pages_case_type_form_overdue_and_citizen_page(login, world):
    citizen = login("citizen-310104")
    page = citizen.get("/me/benefits")
    assert page.status_code == 200 and 'data-testid="apply-unemployment"' in page.text
    bad = citizen.post("/me/benefits/apply/unemployment", data={"f_registered_on": "x"})
    assert bad.status_code == 422
    ok = citizen.post("/me/benefits/apply/unemployment", data={
        "f_registered_on": "2025-08-10", "f_involuntary": "1", "f_seeking_work": "1"})
    assert ok.status_code == 303
    case = int(ok.headers["location"].rsplit("/", 1)[1])
    assert "已受理" in citizen.get(ok.headers["location"]).text
    clerk = login("benefits_clerk-310104")
    view = clerk.get(f"/staff/benefits/{case}")
    assert view.status_code == 200 and 'name="f_registered_on"' in view.text
    assert login("benefits_clerk-310101").get(f"/staff/benefits/{case}").status_code == 403
    assert login("collection_clerk-310104").get("/staff/benefits").status_code == 403
    listing = clerk.get("/staff/benefits")
    assert f'data-case="{case}"' in listing.text
    # nothing is overdue the day it arrives
    assert f'data-case="{case}"' not in clerk.get("/staff/benefits?overdue=true").text


def test_injury_costs_online_clerk_form_checker_citizen_sees_award_payment_notice(
        login, world, engine, tmp_path):
    """Point 9 for the cost claims: the citizen applies online (the catalogue's online item),
    the clerk's page of the case type has its facts form, the maker computes, another clerk
    approves; the citizen follows the case and sees the award, the payment and its notice."""
    from shebao.benefits import casework, payouts, payroll
    from shebao.formats import pain001
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line, account_code
    from shebao.registry import service as registry

    pid, region = world.persons["310104"], "310104"
    maker = world.users[("benefits_clerk-310104", "")].actor()
    checker = world.users[("benefits_clerk-2-310104", "")].actor()
    registry.change_person(engine, world.users[("administrator-national", "")].actor(), pid,
                           {"bank_name": "中国工商银行", "bank_account": "6222000011113333"},
                           reason="bank account for benefits")
    rec = casework.apply(engine, maker, kind="injury_recognition", person_id=pid,
                         region=region, facts={"accident_date": "2025-03-01",
                                               "applied_on": "2025-03-10",
                                               "applicant": "worker", "work_related": True})
    casework.compute(engine, maker, rec)
    casework.submit(engine, maker, rec)
    casework.approve(engine, checker, rec)

    citizen = login("citizen-310104")
    assert 'action="/me/apply/benefit.injury_costs"' in citizen.get("/me/apply").text
    ok = citizen.post("/me/apply/benefit.injury_costs", data={"note": "住院费用"},
                      files={"doc_medical_bills": ("bills.pdf", b"%PDF-1.4 bills",
                                                   "application/pdf")})
    assert ok.status_code == 303
    case = int(ok.headers["location"].rsplit("=", 1)[1])
    clerk = login("benefits_clerk-310104")
    view = clerk.get(f"/staff/benefits/{case}")
    assert view.status_code == 200
    for name in ("recognition_case_id", "catalogue_fen", "hospital_days", "device_type",
                 "care_level"):
        assert f'name="f_{name}"' in view.text
    assert "工伤医疗费用和生活护理费核定" in view.text
    bad = clerk.post(f"/staff/benefits/{case}/compute", data={"f_hospital_days": "3"})
    assert bad.status_code == 422 and "recognition_case_id" in bad.text
    done = clerk.post(f"/staff/benefits/{case}/compute", data={
        "f_recognition_case_id": str(rec), "f_treated_on": "2025-03-05",
        "f_catalogue_fen": "1234500", "f_outside_fen": "10000", "f_hospital_days": "10"})
    assert done.status_code == 303
    view = clerk.get(f"/staff/benefits/{case}").text
    # 12345.00 inside the catalogues (100.00 outside, not paid); 10 × 20.00 = 200.00
    assert "工伤医疗费" in view and "住院伙食补助费" in view and 'value="1234500"' in view
    assert clerk.post(f"/staff/benefits/{case}/submit").status_code == 303
    # the maker cannot approve; the second clerk does
    assert "own-submission" in clerk.get(f"/staff/benefits/{case}").text
    second = login("benefits_clerk-2-310104")
    assert second.post(f"/staff/benefits/{case}/approve").status_code == 303

    mine = citizen.get(f"/me/benefits/{case}").text
    assert "工伤医疗费" in mine and "12,345.00" in mine
    sysa = Actor(id="system", role="system")
    ledger.open_chart(engine, sysa, region, schemes=("injury",))
    ledger.post_entry(engine, sysa, "seed:injury:web", EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(account_code(region, "injury", "fund_bank"), 10 ** 9),
        Line.credit(account_code(region, "injury", "pooled_fund"), 10 ** 9)), source="test"))
    run = payroll.run(engine, maker, region, dt.date(2025, 3, 1))
    payroll.submit(engine, maker, run.run_id)
    payroll.approve(engine, checker, run.run_id)
    payouts.release(engine, maker, run.run_id, tmp_path, pain001.Debtor(
        "上海市社会保险基金 支出户", "31050161393600000001", "中国建设银行上海分行"),
        dt.date(2025, 3, 20))
    page = citizen.get("/me/benefits").text
    assert "¥12,345.00" in page and "¥200.00" in page          # my awards and my payments
    notices = citizen.get("/me/notices").text
    assert "¥12,545.00" in notices and "2025年3月社会保险待遇" in notices


def test_every_benefit_case_type_has_its_clerk_form(login, world, engine):
    """Point 9: a clerk's page per case type, with the facts form of its kind."""
    from shebao.benefits import casework
    from shebao.benefits.claims import KINDS
    from shebao.channels.web.pages.benefit_cases import FIELDS

    maker = world.users[("benefits_clerk-310104", "")].actor()
    clerk = login("benefits_clerk-310104")
    assert set(FIELDS) == set(KINDS)
    for kind in KINDS:
        cid = casework.apply(engine, maker, kind=kind, person_id=world.persons["310104"],
                             region="310104", facts={})
        page = clerk.get(f"/staff/benefits/{cid}")
        assert page.status_code == 200, kind
        for name, _ in FIELDS[kind]:
            assert f'name="f_{name}"' in page.text, (kind, name)


def test_pensioner_sees_pension_payments_and_notices(login, world, engine, tmp_path):
    """Point 9: the pensioner's own page shows the pension, the payments made and the
    payment notice."""
    from shebao.benefits import determination, payouts, payroll
    from shebao.devtools.sample_world import _user
    from shebao.formats import pain001
    from shebao.ledger import service as ledger
    from shebao.ledger.model import EntryRequest, Line, account_code

    pid, region = world.persons["pensioner"], "310104"
    maker = world.users[("benefits_clerk-310104", "")].actor()
    checker = world.users[("benefits_clerk-2-310104", "")].actor()
    determination.approve_case(engine, checker, world.cases[region])
    sysa = Actor(id="system", role="system")
    ledger.post_entry(engine, sysa, "seed:pension:web", EntryRequest(dt.date(2025, 1, 1), (
        Line.debit(account_code(region, "pension", "fund_bank"), 10 ** 10),
        Line.credit(account_code(region, "pension", "pooled_fund"), 10 ** 10)), source="test"))
    from shebao.benefits import queries as bq
    award = bq.person_benefits(engine, maker, pid)["awards"][0]
    first = dt.date.fromisoformat(award["start_month"] + "-01")
    run = payroll.run(engine, maker, region, first)
    assert run.n_payments == 1
    payroll.submit(engine, maker, run.run_id)
    payroll.approve(engine, checker, run.run_id)
    payouts.release(engine, maker, run.run_id, tmp_path, pain001.Debtor(
        "上海市社会保险基金 支出户", "31050161393600000001", "中国建设银行上海分行"),
        first.replace(day=10))
    _user(engine, world, "citizen-pensioner-web", "citizen", region, person_id=pid)
    me = login("citizen-pensioner-web")
    page = me.get("/me/benefits").text
    pension = page.split('data-testid="my-pension"')[1].split("</table>")[0]
    payments = page.split('data-testid="my-payments"')[1].split("</table>")[0]
    amount = f"¥{run.total_fen // 100:,}.{run.total_fen % 100:02d}"
    assert amount in pension and award["start_month"] in pension
    assert amount in payments and award["start_month"] in payments and "****2222" in payments
    notices = me.get("/me/notices").text
    assert amount in notices and f"{first.year}年{first.month}月社会保险待遇" in notices
