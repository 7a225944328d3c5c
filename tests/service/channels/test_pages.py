"""Back office, citizen and employer pages over HTTP: scope, masking, audit of reads, bad input
next to the field with nothing saved, language switch."""
import re

from sqlalchemy import func, select

from shebao.registry.tables import person
from shebao.security import audit
from shebao.security.tables import audit_log

NEW_ID = "310101199001010012"   # valid check character: 1990-01-01, male


def _fix(cid17):
    from shebao.core.ids import ric_check_char
    return cid17 + ric_check_char(cid17)


def test_clerk_registers_a_person_in_scope(login, engine):
    c = login("collection_clerk-310101")
    cid = _fix("31010119900101001")
    r = c.post("/staff/persons/new", data={"citizen_id": cid, "name": "王芳",
                                           "pension_region": "310101", "phone": "13912345678"})
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and "王芳" in page.text and cid in page.text
    with engine.connect() as conn:
        reads = conn.execute(select(audit_log).where(
            audit_log.c.action == "registry.person.read",
            audit_log.c.actor == "collection_clerk-310101")).all()
        assert reads and reads[-1].purpose == "back-office person view"
        assert audit.verify(conn).ok                   # every write and read kept the chain


def test_purpose_given_at_search_is_recorded_for_the_view(login, world, engine):
    c = login("benefits_clerk-310101")
    lst = c.get("/staff/persons", params={"q": "张伟", "purpose": "benefit claim 2025-88"})
    assert "?purpose=benefit%20claim%202025-88" in lst.text
    c.get(f"/staff/persons/{world.persons['310101']}", params={"purpose": "benefit claim 2025-88"})
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.purpose).where(
            audit_log.c.actor == "benefits_clerk-310101")).all()
    assert ("registry.person.search", "benefit claim 2025-88") in rows
    assert ("registry.person.read", "benefit claim 2025-88") in rows


def test_registration_outside_scope_is_refused_next_to_the_region(login, engine):
    c = login("collection_clerk-310101")
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(person)).scalar_one()
    r = c.post("/staff/persons/new", data={"citizen_id": _fix("31010419900101001"),
                                           "name": "赵六", "pension_region": "310104"})
    assert r.status_code == 403
    assert re.search(r'data-field="pension_region">[^<]*outside your scope', r.text)
    r = c.post("/staff/persons/new", data={"citizen_id": "31010119900101001X",
                                           "name": "赵六", "pension_region": "310101"})
    assert r.status_code == 422 and 'data-field="citizen_id"' in r.text
    assert 'value="赵六"' in r.text                       # what was typed is kept
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person)).scalar_one() == before


def test_clerk_cannot_see_a_person_of_another_district(login, world):
    c = login("collection_clerk-310101")
    assert c.get(f"/staff/persons/{world.persons['310104']}").status_code == 403
    assert c.get(f"/staff/persons/{world.persons['310101']}").status_code == 200
    lst = c.get("/staff/persons")
    assert "李*" not in lst.text and "张*" in lst.text


def test_search_list_is_masked_and_audited(login, world, engine):
    c = login("inspector-310101")
    r = c.get("/staff/persons", params={"q": world.citizen_ids["310101"]})
    assert r.status_code == 200
    table = r.text[r.text.index('<table data-testid="persons">'):]
    assert "310101********011X" in table and world.citizen_ids["310101"] not in table
    assert "张*" in table and "张伟" not in table
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(
            audit_log.c.action == "registry.person.search")).all()[-1]
    assert row.actor == "inspector-310101" and world.citizen_ids["310101"] not in row.detail


def test_person_view_shows_enrolments_balance_history(login, world):
    r = login("benefits_clerk-310104").get(f"/staff/persons/{world.persons['310104']}")
    assert r.status_code == 200
    assert r.text.count("<tr><td>") >= 5                  # five employee schemes
    assert "¥9,600.00" in r.text          # 12 × 720.00 + 960.00 (Aug 2025) on the pension account
    assert "徐汇测试有限公司" in r.text


def test_inspector_reads_but_cannot_register(login):
    c = login("inspector-310101")
    assert c.get("/staff/persons/new").status_code == 403
    r = c.post("/staff/persons/new", data={"citizen_id": _fix("31010119900101001"),
                                           "name": "x", "pension_region": "310101"})
    assert r.status_code == 403


def test_audit_page_for_inspectors_only_and_chain_verifies(login):
    assert login("collection_clerk-310101").get("/staff/audit").status_code == 403
    c = login("inspector-310101")
    page = c.get("/staff/audit")
    assert page.status_code == 200 and "auth.login" in page.text
    r = c.post("/staff/audit/verify")
    assert r.status_code == 200 and "哈希链完整" in r.text


def test_citizen_record_statement_and_pdf(login, world):
    c = login("citizen-310101")
    home = c.get("/me")
    assert home.status_code == 200 and "张伟" in home.text and "¥9,600.00" in home.text
    record = home.text[home.text.index('data-testid="contributions"'):]
    assert "2025-08" in record and "¥4,464.00" in record      # Aug 2025 on a 12,000.00 base
    st = c.get("/me/statement/pension")
    assert st.status_code == 200 and st.text.count("¥720.00") == 13   # 12 credits + 1st balance
    pdf = c.get("/me/statement/pension.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert c.get("/me/statement/unemployment").status_code == 422


def test_citizen_sees_who_read_their_data(login, world):
    login("benefits_clerk-310101").get(f"/staff/persons/{world.persons['310101']}")
    r = login("citizen-310101").get("/me/reads")
    assert r.status_code == 200
    assert "benefits_clerk-310101" in r.text and "back-office person view" in r.text


def test_estimator_prefilled_from_the_record_and_computes(login):
    c = login("citizen-310101")
    form = c.get("/me/estimate")
    assert 'value="9600.00"' in form.text and 'value="310101"' in form.text
    r = c.post("/me/estimate", data={"region": "310000", "retirement_date": "2025-09-01",
                                     "age_years": "60", "avg_index": "1.0",
                                     "contribution_months": "420",
                                     "account_balance": "300000"})
    assert r.status_code == 200 and "¥6,510.17" in r.text


def test_estimator_bad_input_next_to_the_field(login):
    r = login("citizen-310101").post("/me/estimate", data={
        "region": "310000", "retirement_date": "2025-09-01", "age_years": "60",
        "avg_index": "9.5", "contribution_months": "420", "account_balance": "300000"})
    assert r.status_code == 422
    assert re.search(r'id="e-avg_index" data-field="avg_index">', r.text)


def test_citizen_updates_contact_details(login, world, engine):
    c = login("citizen-310101")
    r = c.post("/me/contact", data={"phone": "123", "notify_channels": "sms"})
    assert r.status_code == 422 and 'data-field="phone"' in r.text
    r = c.post("/me/contact", data={"phone": "13912345678", "address": "新地址",
                                    "notify_channels": ["sms", "wechat"]})
    assert r.status_code == 200
    page = c.get("/me/contact")
    assert 'value="13912345678"' in page.text and 'value="wechat" checked' in page.text


def test_employer_sees_own_employees_masked_and_ends_a_spell(login, world):
    c = login("employer-310101")
    r = c.get("/employer/employees")
    assert "张*" in r.text and "310101********011X" in r.text and "李*" not in r.text
    spell = world.spells["310101"]
    bad = c.post(f"/employer/employees/{spell}/end", data={"end_date": "soon",
                                                           "leave_reason": "resignation"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    ok = c.post(f"/employer/employees/{spell}/end", data={"end_date": "2025-06-30",
                                                          "leave_reason": "resignation"})
    assert ok.status_code == 200 and "2025-06-30" in ok.text


def test_employer_cannot_end_another_firms_spell(login, world):
    r = login("employer-310101").post(f"/employer/employees/{world.spells['310104']}/end",
                                      data={"end_date": "2025-06-30",
                                            "leave_reason": "resignation"})
    assert r.status_code == 403


def test_chinese_by_default_english_on_request(login):
    c = login("citizen-310101")
    assert "谁查看了我的数据" in c.get("/me").text
    r = c.get("/lang/en", params={"next": "/me"})
    assert r.status_code == 303 and r.headers["location"] == "/me"
    page = c.get("/me")
    assert "Who read my data" in page.text and "谁查看了我的数据" not in page.text


def test_import_dry_run_writes_nothing(login, engine, tmp_path):
    c = login("collection_clerk-310101")
    good = _fix("31010119800101003")
    csv = f"身份证号,姓名\n{good},钱七\n123,坏行\n".encode("utf-8")
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(person)).scalar_one()
    r = c.post("/staff/import", data={"kind": "persons", "dry_run": "on"},
               files={"file": ("people.csv", csv, "text/csv")})
    assert r.status_code == 200, r.text
    assert re.search(r'data-testid="rejected">1<', r.text)
    assert re.search(r'data-testid="inserted">1<', r.text)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person)).scalar_one() == before
    assert c.post("/staff/import", data={"kind": "persons"}).status_code == 422


def test_out_of_range_ids_are_answered_not_crashed(login):
    c = login("collection_clerk-310101")
    for path in ("/staff/persons/99999999999999999999999", "/staff/employers/0",
                 "/staff/pension/-1"):
        assert c.get(path).status_code in (403, 422), path
    assert c.get("/staff/persons/424242").status_code == 422      # no such person
