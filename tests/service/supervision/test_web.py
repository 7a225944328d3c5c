"""The supervision API and pages with region scopes: alerts, an inspection decided by two
inspectors over the API, the workbench and the fund dashboard pages."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

from fastapi.testclient import TestClient  # noqa: E402

from shebao.channels.web import create_app  # noqa: E402
from shebao.core.actor import Actor  # noqa: E402
from shebao.ledger.chart import open_chart  # noqa: E402
from shebao.security import service as sec  # noqa: E402
from tests.support.accounts import make_account  # noqa: E402
from tests.support.supervision_seed import AS_OF, seed_monitoring  # noqa: E402
from tests.support.web import api_headers, web_client  # noqa: E402


@pytest.fixture
def site(engine):
    hits = seed_monitoring(engine)
    open_chart(engine, Actor("system", "system"), "310104", ("pension",))
    pw = {u: make_account(engine, u, role, scope) for u, role, scope in (
        ("insp-a", "inspector", "310000"), ("insp-b", "inspector", "310000"),
        ("insp-d", "inspector", "310101"), ("clerk", "collection_clerk", "310000"))}
    app = create_app(mode="dev", engine=engine, login_rate_limit=1000)
    heads = {u: api_headers(engine, sec.get_user_by_username(engine, u)) for u in pw}
    return app, TestClient(app), heads, pw, hits


def test_api_alerts_inspection_and_scope(site):
    app, api, h, _, hits = site
    r = api.post("/api/v1/supervision/monitor/runs", headers=h["clerk"],
                 json={"region": "310000", "as_of": AS_OF.isoformat()})
    assert r.status_code == 403
    r = api.post("/api/v1/supervision/monitor/runs", headers=h["insp-a"],
                 json={"region": "310000", "as_of": AS_OF.isoformat()})
    assert r.status_code == 200 and r.json()["new"] == len(hits)
    page = api.get("/api/v1/supervision/alerts?limit=2", headers=h["insp-a"]).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get(f"/api/v1/supervision/alerts?limit=50&cursor={page['next_cursor']}",
                   headers=h["insp-a"]).json()["items"]
    assert len(page["items"]) + len(rest) == len(hits)
    assert api.get("/api/v1/supervision/alerts", headers=h["insp-d"]).json()["items"] == []
    death = next(a for a in page["items"] + rest if a["rule"] == "pension_after_death")
    assert api.get(f"/api/v1/supervision/alerts/{death['id']}", headers=h["insp-d"]).status_code == 403
    r = api.post("/api/v1/supervision/inspections", headers=h["insp-a"],
                 json={"alert_id": death["id"]})
    assert r.status_code == 201, r.text
    cid = r.json()["case"]["id"]
    r = api.post(f"/api/v1/supervision/inspections/{cid}/decision", headers=h["insp-a"],
                 json={"decision": "recover", "amount": "7600.00"})
    assert r.status_code == 200, r.text
    same = api.post(f"/api/v1/supervision/inspections/{cid}/approve",
                    headers={**h["insp-a"], "Idempotency-Key": "k1"})
    assert same.status_code == 403
    ok = api.post(f"/api/v1/supervision/inspections/{cid}/approve",
                  headers={**h["insp-b"], "Idempotency-Key": "k2"})
    assert ok.status_code == 200 and ok.json()["recovery_id"]
    again = api.post(f"/api/v1/supervision/inspections/{cid}/approve",
                     headers={**h["insp-b"], "Idempotency-Key": "k2"})
    assert again.headers.get("Idempotent-Replayed") == "true"
    bad = api.post("/api/v1/supervision/blacklist", headers=h["insp-a"],
                   json={"subject_type": "person", "subject_id": hits["double_pension"],
                         "region": "310104", "ground": "benefit_fraud",
                         "facts": {"amount_yuan": "500"}})
    assert bad.status_code == 422 and bad.json()["field"] == "facts"
    w = api.post("/api/v1/monitoring/warnings", headers=h["insp-a"],
                 json={"region": "310104", "as_of": AS_OF.isoformat(), "funds": ["pension"]})
    assert w.status_code == 200 and len(w.json()["items"]) == 5
    p = api.get(f"/api/v1/monitoring/projection?region=310104&as_of={AS_OF.isoformat()}"
                "&scenario=baseline", headers=h["insp-a"])
    assert p.status_code == 200 and len(p.json()["baseline"]["rows"]) == 30


def test_workbench_and_fund_pages(site):
    app, api, h, pw, hits = site
    c = web_client(app, "insp-a", pw["insp-a"])
    assert c.post("/staff/supervision/run", data={"region": "310000"}).status_code == 303
    page = c.get("/staff/supervision")
    assert page.status_code == 200 and 'data-testid="alerts"' in page.text
    assert "shared_bank_account" in page.text or "共用" in page.text
    clerk = web_client(app, "clerk", pw["clerk"])
    assert clerk.get("/staff/supervision").status_code == 403
    api.post("/api/v1/monitoring/warnings", headers=h["insp-a"],
             json={"region": "310104", "as_of": AS_OF.isoformat(), "funds": ["pension"]})
    fund = c.get(f"/staff/fund?region=310104&as_of={AS_OF.isoformat()}")
    assert fund.status_code == 200 and "data:image/png;base64" in fund.text
    assert 'data-testid="projection-baseline"' in fund.text


def test_listed_employer_is_flagged_on_the_staff_page(site, engine):
    import datetime as dt
    from tests.support.supervision_seed import Seeder
    app, api, h, pw, _ = site
    with engine.begin() as conn:
        e = Seeder(conn).employer()
    a, b = Actor("insp-a", "inspector", "310000"), Actor("insp-b", "inspector", "310000")
    from shebao.supervision import blacklist
    eid = blacklist.propose(engine, a, subject_type="employer", subject_id=e, region="310104",
                            ground="records_misuse", facts={})
    blacklist.notify(engine, a, eid)
    blacklist.submit(engine, a, eid, on=dt.date.today() + dt.timedelta(days=30))
    blacklist.approve(engine, b, eid)
    clerk = web_client(app, "clerk", pw["clerk"])
    page = clerk.get(f"/staff/employers/{e}")
    assert page.status_code == 200 and 'data-testid="blacklist-flag"' in page.text


def test_case_page_from_plan_to_checked_decision(site):
    app, api, h, pw, hits = site
    api.post("/api/v1/supervision/monitor/runs", headers=h["insp-a"],
             json={"region": "310000", "as_of": AS_OF.isoformat()})
    alert = api.get("/api/v1/supervision/alerts?rule=arrears_long", headers=h["insp-a"]).json()["items"][0]
    cid = api.post("/api/v1/supervision/inspections", headers=h["insp-a"],
                   json={"alert_id": alert["id"]}).json()["case"]["id"]
    a = web_client(app, "insp-a", pw["insp-a"])
    assert a.post(f"/staff/supervision/cases/{cid}/record",
                  data={"plan": "payroll records 2025"}).status_code == 303
    r = a.post(f"/staff/supervision/cases/{cid}/evidence",
               files={"file": ("payroll.csv", b"id,wage\n1,100\n", "text/csv")})
    assert r.status_code == 303
    bad = a.post(f"/staff/supervision/cases/{cid}/decide", data={"decision": "fine", "amount": "1000",
                                                                "fine_multiple": "7"})
    assert bad.status_code == 422 and "between 2 and 5" in bad.text
    assert a.post(f"/staff/supervision/cases/{cid}/decide",
                  data={"decision": "refer", "refer_to": "公安机关"}).status_code == 303
    b = web_client(app, "insp-b", pw["insp-b"])
    assert b.post(f"/staff/supervision/cases/{cid}/approve").status_code == 303
    page = b.get(f"/staff/supervision/cases/{cid}")
    assert page.status_code == 200 and "payroll.csv" in page.text and "公安机关" in page.text
    # the API: the evidence upload and the appeal
    up = api.post(f"/api/v1/supervision/inspections/{cid}/documents", headers=h["insp-a"],
                  files={"file": ("note.txt", b"more", "text/plain")})
    assert up.status_code == 201
    assert api.post(f"/api/v1/supervision/inspections/{cid}/appeal", headers=h["insp-a"],
                    json={"reason": "review"}).status_code == 200
