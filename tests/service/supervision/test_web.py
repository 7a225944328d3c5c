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
    assert ok.status_code == 200 and ok.json()["ledger_entry_id"]
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
