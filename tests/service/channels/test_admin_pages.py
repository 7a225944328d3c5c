"""The administration pages (#18) on the sample world: organisation forms, catalogue with
on-time rates and the overdue list, staffing, outsourcing, fund reports with exports,
training forms and exams, the public certificate check and the citizen's rating."""
import datetime as dt
import io
import re

from openpyxl import load_workbook

from shebao.cases import service as cases
from shebao.core.actor import Actor

D = "310104"


def test_organisation_catalogue_and_staffing_pages(login, engine):
    admin = login(f"administrator-{D}")
    r = admin.post("/staff/org/outlets", data={"code": "XH-01", "name": "徐汇窗口",
                                               "kind": "counter", "region": D})
    assert r.status_code == 303, r.text
    r = admin.post("/staff/org/assign", data={"username": f"collection_clerk-{D}",
                                              "outlet": "XH-01", "staff_class": "operational",
                                              "fte_pct": "100"})
    assert r.status_code == 303, r.text
    r = admin.post("/staff/org/assign", data={"username": "nobody", "outlet": "XH-01",
                                              "staff_class": "operational"})
    assert r.status_code == 422 and 'data-field="username"' in r.text
    page = admin.get("/staff/org").text
    assert "XH-01" in page and f"collection_clerk-{D}" in page
    clerk = Actor(id=f"collection_clerk-{D}", role="collection_clerk", scope=D)
    old = dt.date.today() - dt.timedelta(days=40)
    cases.open_case(engine, clerk, item="registry.person_registration", region=D,
                    subject_type="person", subject_id=1, person_id=1, outlet="XH-01",
                    opened_on=old)
    page = admin.get(f"/staff/catalogue?region={D}").text
    assert "个人参保登记" in page and "社会保险经办条例" in page
    overdue = page.split('data-testid="overdue"')[1]
    assert "XH-01" in overdue
    r = admin.get(f"/staff/org/staffing?region={D}")
    assert r.status_code == 200 and "XH-01" in r.text
    assert admin.get("/staff/org/outsourcing").status_code == 200
    # a clerk reads, but the forms are the administrator's
    c = login(f"collection_clerk-{D}")
    assert c.get("/staff/org").status_code == 200
    assert c.post("/staff/org/outlets", data={"code": "X2", "name": "x", "kind": "counter",
                                              "region": D}).status_code == 403


def test_fund_reports_and_exports(login):
    admin = login(f"administrator-{D}")
    r = admin.get(f"/staff/reports?region={D}&month=2025-07")
    assert r.status_code == 200 and 'data-testid="monthly"' in r.text
    x = admin.get(f"/staff/reports/monthly.xlsx?region={D}&month=2025-07")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws["A1"].value.startswith("月度统计报表")
    assert admin.get(f"/staff/reports/monthly.pdf?region={D}&month=2025-07").content[:4] == b"%PDF"
    assert admin.get(f"/staff/reports/chart.png?region={D}&month=2025-07").content[:4] == \
        b"\x89PNG"
    f = admin.get(f"/staff/reports/fund?region={D}&scheme=pension&date_from=2025-01-01"
                  "&date_to=2025-12-31")
    assert f.status_code == 200 and 'data-testid="ties-out"' in f.text
    assert login(f"collection_clerk-{D}").get("/staff/reports").status_code == 403


def test_training_forms_exam_and_public_verification(login, app):
    admin = login(f"administrator-{D}")
    r = admin.post("/staff/training/courses", data={
        "code": "SAR-1", "title": "经办条例", "exam_questions": "1", "exam_minutes": "10",
        "pass_pct": "100", "validity_months": "12"})
    assert r.status_code == 303, r.text
    course = r.headers["location"]
    assert admin.post(f"{course}/courseware", data={
        "kind": "markdown", "title": "第一章", "body": "# 时限\n<script>x</script>"}).status_code == 303
    assert admin.post(f"{course}/questions", data={
        "text": "登记时限?", "options": "5 个工作日\n10 个工作日", "answer": "2"}).status_code == 303
    assert admin.post(f"{course}/require", data={"role": "collection_clerk"}).status_code == 303
    clerk = login(f"collection_clerk-{D}")
    page = clerk.get(course).text
    assert "<h1>时限</h1>" in page and "<script>x" not in page     # Markdown, no raw HTML
    assert f"collection_clerk-{D}" in admin.get("/staff/training").text   # due
    r = clerk.post(f"{course}/exam")
    assert r.status_code == 303
    exam = r.headers["location"]
    shown = clerk.get(exam).text
    opts = re.findall(r'value="(\d)"> ([^<]+)<', shown)
    right = next(v for v, label in opts if label.startswith("10"))
    r = clerk.post(exam, data={"q1": right})
    assert r.status_code == 303
    result = clerk.get(exam).text
    assert 'data-testid="passed"' in result
    code = re.search(r'data-testid="certificate"[^>]*href="/staff/training/certificates/(\w+)\.pdf"',
                     result).group(1)
    assert clerk.get(f"/staff/training/certificates/{code}.pdf").content[:4] == b"%PDF"
    assert login(f"collection_clerk-310101").get(
        f"/staff/training/certificates/{code}.pdf").status_code == 403
    from tests.support.web import web_client
    anon = web_client(app)
    v = anon.get(f"/verify?code={code}")
    assert v.status_code == 200 and 'data-testid="verify-status"' in v.text
    assert "有效" in v.text or "valid" in v.text


def test_citizen_rates_a_decided_case(login, engine, world):
    pid = world.persons[D]
    clerk = Actor(id=f"collection_clerk-{D}", role="collection_clerk", scope=D)
    cid = cases.open_case(engine, clerk, item="registry.person_registration", region=D,
                          subject_type="person", subject_id=pid, person_id=pid)
    c = login(f"citizen-{D}")
    assert "个人参保登记" in c.get("/me/services").text
    assert c.post(f"/me/services/cases/{cid}/rating", data={"score": "5"}).status_code == 409
    cases.decide(engine, clerk, cid, outcome="registered")
    assert c.post(f"/me/services/cases/{cid}/rating", data={"score": "4"}).status_code == 303
    assert "★★★★" in c.get("/me/services").text


def test_budget_subsidy_and_final_accounts_need_a_second_administrator(login):
    """The fund page proposes; the proposals page lists what awaits a check; the maker gets
    no buttons and is refused; a second administrator approves (posted, adopted) or refuses
    with a reason."""
    admin = login(f"administrator-{D}")
    r = admin.post("/staff/reports/fund/subsidy", data={
        "region": D, "scheme": "pension", "amount": "1000.00", "received_on": "2025-07-20",
        "reference": "沪财社〔2025〕1号"})
    assert r.status_code == 303, r.text
    r = admin.post("/staff/reports/fund/budget", data={
        "region": D, "scheme": "pension", "year": "2025", "contributions": "5000.00"})
    assert r.status_code == 303, r.text
    fund_url = (f"/staff/reports/fund?region={D}&scheme=pension&date_from=2025-01-01"
                "&date_to=2025-12-31")
    page = admin.get(fund_url).text
    # proposed, not posted: listed as pending; the statement has no subsidy yet
    pending = page.split('data-testid="pending"')[1].split("</table>")[0]
    assert "沪财社〔2025〕1号" in pending and "基金预算" in pending
    statement = page.split('data-testid="statement"')[1].split("</table>")[0]
    assert "¥1,000.00" not in statement
    queue = admin.get(f"/staff/reports/proposals?region={D}").text
    ids = re.findall(r'data-proposal="(\d+)"', queue)
    assert len(ids) == 2 and "/approve" not in queue      # the maker sees no buttons
    sub, bud = ids
    r = admin.post(f"/staff/reports/proposals/{sub}/approve", data={})
    assert r.status_code == 403 and "different staff member" in r.text
    checker = login("administrator-national")
    queue = checker.get(f"/staff/reports/proposals?region={D}").text
    assert f"/staff/reports/proposals/{sub}/approve" in queue
    r = checker.post(f"/staff/reports/proposals/{bud}/reject", data={"reason": ""})
    assert r.status_code == 422
    r = checker.post(f"/staff/reports/proposals/{bud}/reject",
                     data={"reason": "缺少测算说明"})
    assert r.status_code == 303, r.text
    assert checker.post(f"/staff/reports/proposals/{sub}/approve", data={}).status_code == 303
    decided = checker.get(f"/staff/reports/proposals?region={D}").text.split(
        'data-testid="decided"')[1]
    assert "缺少测算说明" in decided and "已驳回" in decided and "已通过" in decided
    page = admin.get(fund_url).text
    assert 'data-testid="ties-out"' in page and "¥1,000.00" in page
    assert 'data-testid="pending"' not in page
    # the year's final accounts: proposed by one, adopted by the other
    r = admin.post("/staff/reports/fund/final", data={"region": D, "scheme": "pension",
                                                      "year": "2025"})
    assert r.status_code == 303, r.text
    fid = re.findall(r'data-proposal="(\d+)"',
                     checker.get(f"/staff/reports/proposals?region={D}").text)
    assert len(fid) == 1
    assert checker.post(f"/staff/reports/proposals/{fid[0]}/approve", data={}).status_code == 303
    assert 'data-testid="adopted"' in admin.get(fund_url).text
    r = admin.post("/staff/reports/fund/subsidy", data={
        "region": D, "scheme": "pension", "amount": "x", "received_on": "2025-07-20",
        "reference": "r"})
    assert r.status_code == 422
    clerk = login(f"inspector-{D}")
    assert clerk.post("/staff/reports/fund/budget", data={"region": D}).status_code == 403
    assert clerk.post(f"/staff/reports/proposals/{sub}/approve", data={}).status_code == 403
