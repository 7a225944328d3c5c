"""The administration API (#18) over HTTP on the sample world: the catalogue with limits,
documents, channels and legal basis; on-time rates and ratings per item and outlet; staffing
(required vs actual per outlet); outsourcing (providers, contracts, performance); training
(courses, who is due); fund reports (monthly statistics, statements with transfers in, final
accounts) and the four-eyes fund decisions — each in the caller's region scope and role."""
import datetime as dt

from fastapi.testclient import TestClient

from shebao.cases import service as cases
from shebao.core.actor import Actor
from shebao.mobility import funds as mobility_funds
from shebao.org import outsourcing
from shebao.org import service as org
from shebao.reports import decisions
from shebao.training import service as training
from tests.support.web import api_headers

D = "310104"
V1 = "/api/v1"


def _today():
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()


def _seed(engine, world):
    admin = world.users[(f"administrator-{D}", "")].actor()
    clerk = Actor(id=f"collection_clerk-{D}", role="collection_clerk", scope=D)
    citizen = world.users[(f"citizen-{D}", "")].actor()
    org.add_outlet(engine, admin, "XH-API", "徐汇窗口", "counter", D)
    org.assign(engine, admin, f"collection_clerk-{D}", "XH-API", "operational",
               valid_from=_today() - dt.timedelta(days=60))
    pid = world.persons[D]
    opened = _today() - dt.timedelta(days=5)
    ids = [cases.open_case(engine, clerk, item="registry.person_registration", region=D,
                           subject_type="person", subject_id=pid, person_id=pid,
                           outlet="XH-API", opened_on=opened) for _ in range(3)]
    for cid in ids[:2]:
        cases.decide(engine, clerk, cid, outcome="registered")
    cases.rate(engine, citizen, ids[0], 5)
    cases.rate(engine, citizen, ids[1], 4)
    prov = outsourcing.add_provider(engine, admin, "91310000APITEST01", "测试银行", D)
    org.add_outlet(engine, admin, "XH-BANK", "测试银行代办点", "bank_agent", D,
                   provider_id=prov)
    contract = outsourcing.add_contract(
        engine, admin, prov, "registry.person_registration", D,
        valid_from=_today().replace(month=1, day=1), valid_to=_today().replace(month=12, day=31),
        price_fen=1500, access_criteria=["持有金融许可证"], target_on_time_pct=95,
        target_rating_x100=450)
    course = training.create_course(engine, admin, "API-101", "经办条例", exam_questions=1,
                                     exam_minutes=10, pass_pct=100, validity_months=12)
    training.add_question(engine, admin, course, "时限？", ["10 个工作日", "30 天"], 0)
    training.require_course(engine, admin, course, "collection_clerk")
    return admin, contract


def test_catalogue_staffing_outsourcing_and_training(app, engine, world):
    admin, contract = _seed(engine, world)
    api = TestClient(app)
    h = api_headers(engine, world.users[(f"administrator-{D}", "")])
    items = {i["code"]: i for i in api.get(f"{V1}/catalogue/items?region={D}", headers=h).json()}
    reg = items["registry.person_registration"]
    assert (reg["limit"], reg["limit_unit"]) == (10, "working_days")
    assert reg["documents"] == ["id_card"] and set(reg["channels"]) == {"online", "counter"}
    assert "社会保险经办条例" in reg["legal_basis"] and reg["standard_minutes"] == 15
    # a citizen reads the published catalogue too, in their own region by default
    citizen = api_headers(engine, world.users[(f"citizen-{D}", "")])
    assert api.get(f"{V1}/catalogue/items", headers=citizen).status_code == 200
    rep = api.get(f"{V1}/catalogue/on-time?region={D}", headers=h).json()
    row = next(r for r in rep["rows"] if r["outlet"] == "XH-API")
    assert (row["opened"], row["decided"], row["on_time"], row["late"]) == (3, 2, 2, 0)
    assert row["on_time_rate"] == 1.0 and row["ratings"] == 2 and row["mean_rating"] == 4.5
    assert any(i["item"] == "registry.person_registration" and i["outlet"] is None
               for i in rep["items"])
    # staffing: 2 decided × 15 minutes at XH-API against the clerk's full post
    st = api.get(f"{V1}/org/staffing?region={D}", headers=h).json()
    hall = next(o for o in st["outlets"] if o["outlet"] == "XH-API")
    assert hall["workload_minutes"] == 30 and hall["actual"] == "1.00"
    assert st["working_days"] > 0 and st["reference"]
    provs = api.get(f"{V1}/org/providers", headers=h).json()
    assert [p["code"] for p in provs] == ["91310000APITEST01"]
    cons = api.get(f"{V1}/org/contracts?status=active", headers=h).json()
    assert cons[0]["access_criteria"] == ["持有金融许可证"] and cons[0]["price_fen"] == 1500
    perf = api.get(f"{V1}/org/contracts/{contract}/performance", headers=h).json()
    assert perf["outlets"] == ["XH-BANK"] and perf["decided"] == 0 and perf["cost_fen"] == 0
    courses = api.get(f"{V1}/training/courses", headers=h).json()
    assert courses[0]["code"] == "API-101" and courses[0]["required_for"] == ["collection_clerk"]
    due = api.get(f"{V1}/training/due", headers=h).json()
    assert {(d["username"], d["status"]) for d in due} >= {(f"collection_clerk-{D}", "missing")}
    assert api.get(f"{V1}/training/certificates/NOSUCHCODE", headers=h).json()["status"] == \
        "unknown"
    # role and scope: an administrator of the sibling district is refused the district, a
    # citizen is refused the staff reports
    other = api_headers(engine, world.users[("administrator-310101", "")])
    assert api.get(f"{V1}/catalogue/on-time?region={D}", headers=other).status_code == 403
    assert api.get(f"{V1}/org/staffing?region={D}", headers=other).status_code == 403
    assert api.get(f"{V1}/org/contracts/{contract}/performance",
                   headers=other).status_code == 403
    assert api.get(f"{V1}/org/staffing", headers=citizen).status_code == 403
    assert api.get(f"{V1}/training/due", headers=citizen).status_code == 403
    r = api.get(f"{V1}/org/staffing?region={D}&date_from=2026-03-01&date_to=2026-01-01",
                headers=h)
    assert r.status_code == 422 and "date_to" in r.text


def test_fund_reports_and_decisions(app, engine, world):
    api = TestClient(app)
    admin = world.users[(f"administrator-{D}", "")]
    h = api_headers(engine, admin)
    checker = api_headers(engine, world.users[("administrator-national", "")])
    year = _today().year
    with engine.begin() as conn:      # a transfer in from another region, posted by mobility
        mobility_funds.post_in(conn, admin.actor(), 77, D, "pension", world.persons[D], 12345,
                               50000, dt.date(year, 1, 2))
    url = f"{V1}/reports/funds/{D}/pension/statement?date_from={year}-01-01&date_to={year}-12-31"
    st = api.get(url, headers=h).json()
    lines = {x["line"]: x for x in st["lines"]}
    assert lines["transfers_in"]["amount"] == 62345 and lines["transfers_in"]["side"] == "revenue"
    assert st["ties_out"] is True and st["closing"] == st["net_assets"]
    assert st["opening"] + st["surplus"] == st["closing"]
    m = api.get(f"{V1}/reports/monthly?region={D}&month={year}-01", headers=h).json()
    pension = next(r for r in m["rows"] if r["scheme"] == "pension")
    jan = api.get(f"{V1}/reports/funds/{D}/pension/statement?date_from={year}-01-01"
                  f"&date_to={year}-01-31", headers=h).json()
    assert pension["balance"] == jan["closing"] and pension["surplus"] == jan["surplus"]
    assert jan["surplus"] >= 62345
    # a subsidy proposed by the district's administrator, approved over the API by another
    pid = decisions.propose_subsidy(engine, admin.actor(), D, "pension", 88800,
                                    dt.date(year, 1, 3), "沪财社 API")
    pending = api.get(f"{V1}/reports/proposals?region={D}", headers=checker).json()["items"]
    assert [p["id"] for p in pending] == [pid] and pending[0]["detail"]["amount_fen"] == 88800
    r = api.post(f"{V1}/reports/proposals/{pid}/approve",             # the maker
                 headers={**h, "Idempotency-Key": "k1"})
    assert r.status_code == 403
    r = api.post(f"{V1}/reports/proposals/{pid}/approve", headers=checker)   # posts money:
    assert r.status_code == 422 and "Idempotency-Key" in r.text              # a key is due
    r = api.post(f"{V1}/reports/proposals/{pid}/approve",
                 headers={**checker, "Idempotency-Key": "k2"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["replayed"] is False and r.json()["ledger_entry_id"]
    same = api.post(f"{V1}/reports/proposals/{pid}/approve",
                    headers={**checker, "Idempotency-Key": "k2"})
    assert same.headers.get("Idempotent-Replayed") == "true" and same.json() == r.json()
    again = api.post(f"{V1}/reports/proposals/{pid}/approve",
                     headers={**checker, "Idempotency-Key": "k3"}).json()
    assert again["replayed"] is True and again["ledger_entry_id"] == r.json()["ledger_entry_id"]
    st2 = api.get(url, headers=h).json()
    assert st2["subsidy"] == st["subsidy"] + 88800 and st2["ties_out"] is True
    bid = decisions.propose_budget(engine, admin.actor(), D, "pension", year,
                                   {"benefits": 100})
    assert api.post(f"{V1}/reports/proposals/{bid}/reject", headers=checker,
                    json={"reason": ""}).status_code == 422
    r = api.post(f"{V1}/reports/proposals/{bid}/reject", headers=checker,
                 json={"reason": "未附测算"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    fa = api.get(f"{V1}/reports/funds/{D}/pension/final-accounts?year={year}", headers=h).json()
    assert fa["statement"]["ties_out"] is True and fa["budget"] == {} and fa["adopted"] is None
    # scope and role
    sibling = api_headers(engine, world.users[("administrator-310101", "")])
    assert api.get(url, headers=sibling).status_code == 403
    clerk = api_headers(engine, world.users[(f"collection_clerk-{D}", "")])
    assert api.get(url, headers=clerk).status_code == 403
    inspector = api_headers(engine, world.users[(f"inspector-{D}", "")])
    assert api.get(url, headers=inspector).status_code == 200
    assert api.post(f"{V1}/reports/proposals/{pid}/approve",
                    headers={**inspector, "Idempotency-Key": "k4"}).status_code == 403
    schema = api.get(f"{V1}/openapi.json").json()
    for path in ("/catalogue/items", "/catalogue/on-time", "/org/staffing", "/org/contracts",
                 "/org/contracts/{contract_id}/performance", "/training/courses",
                 "/training/due", "/reports/monthly",
                 "/reports/funds/{region}/{scheme}/statement",
                 "/reports/funds/{region}/{scheme}/final-accounts", "/reports/proposals"):
        assert f"{V1}{path}" in schema["paths"], path
