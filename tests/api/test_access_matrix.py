"""Every role × region scope × endpoint → allowed or refused, on both databases.

The records under test belong to district 310101 (Huangpu, Shanghai). Actors: each staff role
scoped to 310101 (in), 310104 (a sibling district: out), 310100 (the city: covers) and an
administrator scoped nationally; the citizen of 310101 (self) and of 310104 (other); the
employer of 310101 (employs the person) and of 310104 (other). "Allowed" means the request
got past authorisation (any status but 401/403); "refused" means 403. Pages are included.
"""
from itertools import count

from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer

from tests.support.web import api_headers
from shebao.core.actor import SYSTEM
from shebao.core.ids import ric_check_char
from shebao.security import service as sec

STAFF = ("collection_clerk", "benefits_clerk", "inspector", "administrator")
_seq = count(100)


def _cid():
    s = f"31010119770707{next(_seq):03d}"
    return s + ric_check_char(s)


def actors(engine, world):
    """(label, role, relation, user) for every actor of the matrix."""
    out = []
    for role in STAFF:
        out.append((f"{role}@310101", role, "in", world.users[(role, "310101")]))
        out.append((f"{role}@310104", role, "out", world.users[(role, "310104")]))
        city = sec.create_user(engine, SYSTEM, username=f"{role}-city", password="Long-pass-123",
                               role=role, scope="310100")
        out.append((f"{role}@310100", role, "city", city))
    out.append(("administrator@national", "administrator", "national",
                world.users[("administrator-national", "")]))
    out.append(("citizen self", "citizen", "self", world.users[("citizen", "310101")]))
    out.append(("citizen other", "citizen", "other", world.users[("citizen", "310104")]))
    out.append(("employer own", "employer", "self", world.users[("employer", "310101")]))
    out.append(("employer other", "employer", "other", world.users[("employer", "310104")]))
    return out


def staff_in(*roles):
    return lambda role, rel: role in roles and rel in ("in", "city", "national")


def self_(*roles):
    return lambda role, rel: role in roles and rel == "self"


def any_of(*rules):
    return lambda role, rel: any(r(role, rel) for r in rules)


def everyone(role, rel):
    return True


def endpoints(world, bill_101):
    p, e, s = world.persons["310101"], world.employers["310101"], world.spells["310101"]
    return [
        # (name, method, path, json-body factory, rule)
        ("person read", "GET", f"/api/v1/persons/{p}", None,
         any_of(staff_in(*STAFF), self_("citizen", "employer"))),
        ("person history", "GET", f"/api/v1/persons/{p}/history", None,
         any_of(staff_in(*STAFF), self_("citizen", "employer"))),
        ("person search", "GET", "/api/v1/persons", None, everyone),
        ("account statement", "GET", f"/api/v1/persons/{p}/statements/pension", None,
         any_of(staff_in(*STAFF), self_("citizen"))),
        ("register person", "POST", "/api/v1/persons",
         lambda: {"citizen_id": _cid(), "name": "测试", "pension_region": "310101"},
         staff_in("collection_clerk", "administrator")),
        ("employer read", "GET", f"/api/v1/employers/{e}", None,
         any_of(staff_in(*STAFF), self_("employer"))),
        ("employer search", "GET", "/api/v1/employers", None,
         lambda role, rel: role != "citizen"),
        ("employees", "GET", f"/api/v1/employers/{e}/employees", None,
         any_of(staff_in(*STAFF), self_("employer"))),
        ("hire", "POST", f"/api/v1/employers/{e}/employees",
         lambda: {"citizen_id": world.citizen_ids["310101"], "start_date": "2019-01-01"},
         any_of(staff_in("collection_clerk"), self_("employer"))),
        ("end spell", "POST", f"/api/v1/employments/{s}/end",
         lambda: {"end_date": "2030-01-31", "leave_reason": "resignation"},
         any_of(staff_in("collection_clerk"), self_("employer"))),
        ("audit of person", "GET", f"/api/v1/audit?subject_type=person&subject_id={p}", None,
         staff_in("inspector", "administrator")),
        ("accounts", "GET", "/api/v1/users", None,
         lambda role, rel: role == "administrator"),
        ("create account in 310101", "POST", "/api/v1/users",
         lambda: {"username": f"u{next(_seq)}", "password": "Long-pass-123",
                  "role": "inspector", "scope": "310101"},
         staff_in("administrator")),
        ("approval queue", "GET", "/api/v1/approvals", None,
         lambda role, rel: role in ("benefits_clerk", "inspector", "administrator")),
        ("my reads", "GET", "/api/v1/me/reads", None, lambda role, rel: role == "citizen"),
        ("my statement", "GET", "/api/v1/me/statements/pension", None,
         lambda role, rel: role == "citizen"),
        ("calculator", "POST", "/api/v1/calc/retirement-age",
         lambda: {"birth_date": "1970-05-01", "category": "male"}, everyone),
        # collection
        ("declare wage", "POST", f"/api/v1/employers/{e}/declarations",
         lambda: {"citizen_id": world.citizen_ids["310101"], "year": 2025, "wage": "9000"},
         any_of(staff_in("collection_clerk"), self_("employer"))),
        ("employer bills", "GET", f"/api/v1/employers/{e}/bills", None,
         any_of(staff_in("collection_clerk", "inspector", "administrator"), self_("employer"))),
        ("bill", "GET", f"/api/v1/bills/{bill_101}", None,
         any_of(staff_in("collection_clerk", "inspector", "administrator"), self_("employer"))),
        ("make bills", "POST", "/api/v1/collection/bills",
         lambda: {"region": "310101", "month": "2025-08"}, staff_in("collection_clerk")),
        ("dashboard", "GET", "/api/v1/collection/dashboard?region=310101&month=2025-08", None,
         staff_in("collection_clerk", "inspector", "administrator")),
        # benefits (cases and runs listed per scope; reading one needs the case's region)
        ("pension cases", "GET", "/api/v1/pension/cases", None,
         lambda role, rel: role in ("benefits_clerk", "inspector", "administrator")),
        ("open pension case", "POST", "/api/v1/pension/cases",
         lambda: {"person_id": p}, staff_in("benefits_clerk")),
        ("payroll runs", "GET", "/api/v1/payroll/runs", None,
         lambda role, rel: role in ("benefits_clerk", "inspector", "administrator")),
        # administration (#18): the published catalogue to everyone; on-time rates, staffing
        # and training for staff in scope; fund reports for supervisors in scope
        ("catalogue items", "GET", "/api/v1/catalogue/items?region=310101", None, everyone),
        ("on-time rates", "GET", "/api/v1/catalogue/on-time?region=310101", None,
         staff_in(*STAFF)),
        ("staffing", "GET", "/api/v1/org/staffing?region=310101", None, staff_in(*STAFF)),
        ("training due", "GET", "/api/v1/training/due", None,
         lambda role, rel: role in STAFF),
        ("fund statement", "GET", "/api/v1/reports/funds/310101/pension/statement", None,
         staff_in("inspector", "administrator")),
        ("monthly report", "GET", "/api/v1/reports/monthly?region=310101&month=2025-08", None,
         staff_in("inspector", "administrator")),
        # pages
        ("page: person", "PAGE", f"/staff/persons/{p}", None, staff_in(*STAFF)),
        ("page: employer", "PAGE", f"/staff/employers/{e}", None, staff_in(*STAFF)),
        ("page: register form", "PAGE", "/staff/persons/new", None,
         lambda role, rel: role in ("collection_clerk", "administrator")),
        ("page: audit", "PAGE", "/staff/audit", None,
         lambda role, rel: role in ("inspector", "administrator")),
        ("page: my record", "PAGE", "/me", None, lambda role, rel: role == "citizen"),
        ("page: my firm", "PAGE", "/employer", None, lambda role, rel: role == "employer"),
        ("page: collection", "PAGE", "/staff/collection?region=310101&month=2025-08", None,
         staff_in("collection_clerk", "inspector", "administrator")),
        ("page: declare", "PAGE", "/employer/declare", None,
         lambda role, rel: role == "employer"),
        ("page: pension cases", "PAGE", "/staff/pension", None,
         lambda role, rel: role in ("benefits_clerk", "inspector", "administrator")),
    ]


def test_access_matrix(engine, world, app):
    client = TestClient(app, follow_redirects=False)
    signer = URLSafeSerializer(app.state.settings.secret_key, "session")
    client.get("/login")
    csrf = client.cookies.get("csrftoken")
    from sqlalchemy import select
    from shebao.collection.tables import bill
    with engine.connect() as conn:
        bill_101 = conn.execute(select(bill.c.id).where(bill.c.region == "310101")).scalar()
    mismatches, outcomes = [], {}
    for label, role, rel, user in actors(engine, world):
        api = api_headers(engine, user)
        page_cookie = signer.dumps(sec.start_session(engine, user, kind="web"))
        for name, method, path, body, rule in endpoints(world, bill_101):
            if method == "PAGE":
                client.cookies.set("shebao_session", page_cookie)
                r = client.get(path)
                client.cookies.delete("shebao_session")
            else:
                r = client.request(method, path, json=body() if body else None,
                                   headers={**api, "Idempotency-Key": f"k{next(_seq)}"})
            assert r.status_code < 500, (label, name, r.text)
            got = r.status_code not in (401, 403)
            want = rule(role, rel)
            outcomes.setdefault(name, set()).add(got)
            if got != want:
                mismatches.append(f"{label:26} {name:24} expected "
                                  f"{'allowed' if want else 'refused'}, got {r.status_code}")
    assert not mismatches, "\n" + "\n".join(mismatches)
    # the matrix is not vacuous: every endpoint both admits someone and refuses someone
    # (except the ones open to every signed-in role)
    open_to_all = {"person search", "calculator", "catalogue items"}
    for name, seen in outcomes.items():
        assert seen == ({True} if name in open_to_all else {True, False}), name
    assert csrf


def test_access_matrix_of_pension_decisions(engine, world, app):
    """The submitted case of district 310104: who may read it, approve or reject it. The
    maker (benefits_clerk@310104 made it) is refused even though role and scope fit."""
    from shebao.core import regions
    case = world.cases["310104"]
    client = TestClient(app, follow_redirects=False)
    signer = URLSafeSerializer(app.state.settings.secret_key, "session")

    def covers(user):
        return regions.within("310104", user.scope)

    def reader(role, user):
        return role in ("benefits_clerk", "inspector", "administrator") and covers(user)

    def checker(role, user):
        return role == "benefits_clerk" and covers(user) and user.username != \
            "benefits_clerk-310104"

    checks = [
        ("read case", "GET", f"/api/v1/pension/cases/{case}", None, reader),
        ("page: case", "PAGE", f"/staff/pension/{case}", None, reader),
        ("reject case", "POST", f"/api/v1/pension/cases/{case}/reject",
         {"reason": "matrix"}, checker),
        ("approve case", "POST", f"/api/v1/pension/cases/{case}/approve", None, checker),
    ]
    mismatches, seen = [], {}
    for label, role, rel, user in actors(engine, world):
        api = api_headers(engine, user)
        cookie = signer.dumps(sec.start_session(engine, user, kind="web"))
        for name, method, path, body, rule in checks:
            if method == "PAGE":
                client.cookies.set("shebao_session", cookie)
                r = client.get(path)
                client.cookies.delete("shebao_session")
            else:
                r = client.request(method, path, json=body,
                                   headers={**api, "Idempotency-Key": f"k{next(_seq)}"})
            assert r.status_code < 500, (label, name, r.text)
            got, want = r.status_code not in (401, 403), rule(role, user)
            seen.setdefault(name, set()).add(got)
            if got != want:
                mismatches.append(f"{label:26} {name:14} expected "
                                  f"{'allowed' if want else 'refused'}, got {r.status_code}")
    assert not mismatches, "\n" + "\n".join(mismatches)
    assert all(v == {True, False} for v in seen.values()), seen


def _fresh_cids():
    """Valid citizen IDs of 310101 not used by the sample world (each test has its own DB)."""
    for n in count(0):
        s = f"31010119880808{n:03d}"
        yield s + ric_check_char(s)


def _uscc(seq):
    from shebao.devtools.sample_world import uscc_for
    return uscc_for("310101", seq)


def test_access_matrix_of_bulk_import(engine, world, app):
    """/staff/import by clerks in scope (310101, the city 310100, a national administrator)
    and out of scope (310104): rows of 310101 persons, employers and employment spells are
    written for the first, refused into the error list (nothing written) for the second."""
    import datetime as dt

    from sqlalchemy import select

    from shebao.devtools.sample_world import REGISTRAR
    from shebao.registry import service as reg
    from shebao.registry.tables import employer, employment, person
    from tests.support.web import web_client
    cids = _fresh_cids()
    importers = [(label, rel, user) for label, role, rel, user in actors(engine, world)
                 if role in ("collection_clerk", "administrator")]
    mismatches, seen = [], set()
    for n, (label, rel, user) in enumerate(importers):
        cid, uscc = next(cids), _uscc(50 + n)
        worker = reg.register_person(engine, REGISTRAR, citizen_id=next(cids), name="工人",
                                     pension_region="310101")
        with engine.connect() as c:
            worker_cid = c.execute(select(person.c.citizen_id).where(person.c.id == worker)
                                   ).scalar()
            own_uscc = c.execute(select(employer.c.uscc).where(
                employer.c.id == world.employers["310101"])).scalar()
        files = [("persons", f"citizen_id,name,residence_region\n{cid},导入者,310101\n",
                  lambda c, cid=cid: c.execute(select(person.c.id).where(
                      person.c.citizen_id == cid)).first() is not None),
                 ("employers", f"uscc,name,region,industry\n{uscc},导入公司{n},310101,65\n",
                  lambda c, uscc=uscc: c.execute(select(employer.c.id).where(
                      employer.c.uscc == uscc)).first() is not None),
                 ("employment", f"citizen_id,uscc,start_date\n{worker_cid},{own_uscc},"
                                f"{dt.date.today().replace(day=1)}\n",
                  lambda c, worker=worker: c.execute(select(employment.c.id).where(
                      employment.c.person_id == worker)).first() is not None)]
        client = web_client(app, user.username,
                            world.passwords.get(user.username, "Long-pass-123"))
        for kind, text, written in files:
            r = client.post("/staff/import", data={"kind": kind},
                            files={"file": (f"{kind}.csv", text.encode(), "text/csv")})
            assert r.status_code == 200, (label, kind, r.text)
            with engine.connect() as c:
                got = written(c)
            want = rel != "out"
            seen.add((kind, got))
            if got != want:
                mismatches.append(f"{label:26} import {kind:10} expected "
                                  f"{'written' if want else 'refused'}")
            if not want:
                assert "outside your scope" in r.text, (label, kind)
    assert not mismatches, "\n" + "\n".join(mismatches)
    assert {k for k, _ in seen} == {"persons", "employers", "employment"}
    assert {g for _, g in seen} == {True, False}


def test_access_matrix_of_employer_relations(engine, world, app):
    """What the employer of 310101 reads of a person, by relation: a current employee masked,
    a former employee refused, a stranger refused, a pending hire refused (and not listed)."""
    import datetime as dt

    from shebao.devtools.sample_world import REGISTRAR
    from shebao.registry import service as reg
    cids = _fresh_cids()
    eid = world.employers["310101"]
    boss = world.users[("employer", "310101")]
    api = TestClient(app)
    api.headers.update(api_headers(engine, boss))
    former = reg.register_person(engine, REGISTRAR, citizen_id=next(cids), name="离职者",
                                 pension_region="310101")
    sid = reg.start_employment(engine, REGISTRAR, former, eid, dt.date(2018, 1, 1))
    reg.end_employment(engine, REGISTRAR, sid, dt.date(2019, 12, 31),
                       leave_reason="resignation")
    stranger_cid = next(cids)
    stranger = reg.register_person(engine, REGISTRAR, citizen_id=stranger_cid, name="陌生人",
                                   pension_region="310101")
    r = api.post(f"/api/v1/employers/{eid}/employees",
                 json={"citizen_id": stranger_cid, "name": "陌生人",
                       "start_date": dt.date.today().isoformat()},
                 headers={"Idempotency-Key": f"k{next(_seq)}"})
    assert r.status_code == 202, r.text
    rows = [("current employee", world.persons["310101"], 200),
            ("former employee", former, 403),
            ("stranger (other district)", world.persons["310104"], 403),
            ("pending hire", stranger, 403)]
    mismatches = []
    for name, pid, want in rows:
        r = api.get(f"/api/v1/persons/{pid}")
        if r.status_code != want:
            mismatches.append(f"{name}: expected {want}, got {r.status_code}")
        if r.status_code == 200:
            p = r.json()["person"]
            assert "*" in p["name"] and "*" in p["citizen_id"], p
            assert p["address"] is None and p["birth_date"] is None, p
    assert not mismatches, mismatches
    listed = {e["person_id"] for e in api.get(f"/api/v1/employers/{eid}/employees").json()
              ["items"]}
    assert stranger not in listed and world.persons["310101"] in listed
