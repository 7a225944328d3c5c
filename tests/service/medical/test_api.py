"""The medical API: a provider submits through /api/v1, the citizen sees the result."""
from fastapi.testclient import TestClient

from shebao.channels.web import create_app
from shebao.core.actor import SYSTEM
from shebao.medical import settle
from shebao.security import service as sec
from tests.support.web import api_headers

from .conftest import CLERK


def test_provider_submits_citizen_sees(engine, world):
    app = create_app(mode="dev", engine=engine, login_rate_limit=1000)
    c = TestClient(app)
    hosp = sec.create_user(engine, SYSTEM, username="hosp_bj", password="Long-pass-123",
                           role="provider", scope="110105")
    me = sec.create_user(engine, SYSTEM, username="zhang", password="Long-pass-123",
                         role="citizen", person_id=world["bj"])
    body = {"provider": "H11010501", "bill_no": "API1", "citizen_id": world["ids"][0],
            "kind": "inpatient", "admitted_on": "2025-03-01",
            "lines": [{"item_code": "T001", "amount": "10000.00"}]}
    r = c.post("/api/v1/medical/claims", json=body, headers=api_headers(engine, hosp))
    assert r.status_code == 201, r.text
    again = c.post("/api/v1/medical/claims", json=body, headers=api_headers(engine, hosp))
    assert again.status_code == 409
    assert c.post("/api/v1/medical/claims", json=body,
                  headers=api_headers(engine, me)).status_code == 403
    settle.settle(engine, CLERK, "110000")
    mine = c.get("/api/v1/me/medical", headers=api_headers(engine, me))
    assert mine.status_code == 200, mine.text
    # Beijing: (10,000 − 1,300) × 85% = 7,395
    assert [x["basic"] for x in mine.json()["claims"]] == ["7395.00"]
    assert mine.json()["account_balance"] == "0.00"
    own = c.get("/api/v1/medical/claims", headers=api_headers(engine, hosp))
    assert [x["bill_no"] for x in own.json()] == ["API1"]
