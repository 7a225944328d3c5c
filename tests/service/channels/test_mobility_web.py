"""Mobility over HTTP: the citizen starts a transfer online and follows it; the clerks of both
ends see and take their steps (four eyes on the funds); the API gives the same."""
from fastapi.testclient import TestClient

from shebao.ledger import check
from tests.support.web import api_headers

OLD, NEW = "310104", "310101"


def _id_from_queue(page_text: str) -> int:
    import re
    m = re.search(r'href="/staff/transfers/(\d+)"', page_text)
    assert m, page_text[:2000]
    return int(m.group(1))


def test_a_transfer_from_portal_to_both_back_offices(app, login, world, engine):
    me = login(f"citizen-{OLD}")
    assert me.get("/me/transfers").status_code == 200
    r = me.post("/me/transfers", data={"kind": "pension", "to_region": "31010"})
    assert r.status_code == 422 and 'data-field="to_region"' in r.text
    r = me.post("/me/transfers", data={"kind": "pension", "to_region": NEW})
    assert r.status_code == 303
    page = me.get("/me/transfers")
    assert f"<td>{NEW}</td>" in page.text and "contact_letter" not in page.text  # translated
    # the new place's clerk sees the contact-letter step, due in 15 working days
    new = login(f"benefits_clerk-{NEW}")
    q = new.get("/staff/transfers")
    assert q.status_code == 200
    tid = _id_from_queue(q.text)
    assert new.post(f"/staff/transfers/{tid}/letter").status_code == 303
    # the old place: a clerk prepares, a second clerk approves (not the maker)
    maker, checker = login(f"benefits_clerk-{OLD}"), login(f"benefits_clerk-2-{OLD}")
    assert _id_from_queue(maker.get("/staff/transfers").text) == tid
    assert maker.post(f"/staff/transfers/{tid}/prepare-out", data={"months": ""}).status_code == 303
    r = maker.post(f"/staff/transfers/{tid}/approve-out")
    assert r.status_code == 403                              # four eyes
    assert checker.post(f"/staff/transfers/{tid}/approve-out").status_code == 303
    # the new place records; the citizen sees it done
    assert new.post(f"/staff/transfers/{tid}/record-in").status_code == 303
    view = new.get(f"/staff/transfers/{tid}")
    assert view.status_code == 200 and 'data-testid="steps"' in view.text
    api = TestClient(app, follow_redirects=False)
    api.headers.update(api_headers(engine, world.users[(f"citizen-{OLD}", "")]))
    mine = api.get("/api/v1/transfers/mine").json()
    assert [t["status"] for t in mine] == ["recorded"]
    assert [s["step"] for s in mine[0]["steps"]] == ["contact_letter", "transfer_out", "record_in"]
    assert check.run_check(engine).ok
    # another citizen may not open it
    other = TestClient(app, follow_redirects=False)
    other.headers.update(api_headers(engine, world.users[(f"citizen-{NEW}", "")]))
    assert other.get(f"/api/v1/transfers/{tid}").status_code == 403
    assert api.get(f"/api/v1/transfers/{tid}").json()["id"] == tid

