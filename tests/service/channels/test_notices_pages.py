"""Notices and online applications in the portals (sample world, both databases): a citizen's
notices with their delivery status in Chinese and English, channel preferences and quiet
hours, the staff delivery view; applying online opens a case with its documents; the yearly
rights statement as page and PDF."""
import datetime as dt

from sqlalchemy import select

from shebao.cases import queries as case_queries
from shebao.notices import delivery, outbox
from shebao.notices.adapters import CaptureAdapter
from shebao.notices.policy import Policy
from shebao.rules import load_rules

POLICY = Policy.from_rules(load_rules(), dt.date(2026, 12, 1))


def test_citizen_sets_preferences_and_sees_delivery_status_in_both_languages(
        login, engine, world, tmp_path):
    pid = world.persons["310101"]
    c = login("citizen-310101")
    r = c.get("/me/notices")
    assert r.status_code == 200 and "通知方式" in r.text
    bad = c.post("/me/notices/preferences", data={"channels": ["sms"], "phone": "13800001111",
                                                   "quiet_start": "25:00", "quiet_end": "08:00"})
    assert bad.status_code == 422 and 'data-field="quiet_start"' in bad.text
    assert "时间格式须为" in bad.text                  # the refusal in the page's language
    nophone = c.post("/me/notices/preferences", data={"channels": ["sms"]})
    assert nophone.status_code == 422 and 'data-field="sms"' in nophone.text
    ok = c.post("/me/notices/preferences", data={"channels": ["sms"], "phone": "13800001111",
                                                  "lang": "zh_CN", "quiet_start": "",
                                                  "quiet_end": ""})
    assert ok.status_code == 200 and "已保存" in ok.text and 'value="13800001111"' in ok.text
    nid = outbox.enqueue(engine, recipient_type="person", recipient_id=pid, region="310101",
                         template="payment.made", data={"benefit": "养老金",
                                                        "amount_fen": 345678,
                                                        "paid_on": "2026-12-01"})
    page = c.get("/me/notices").text
    assert f'data-notice="{nid}"' in page and 'data-status="pending"' in page
    cap = CaptureAdapter(str(tmp_path / "cap.sqlite"))
    assert delivery.drain(engine, {"sms": cap}, POLICY).sent == 1
    assert cap.accepted()[0]["address"] == "13800001111"
    cap.close()
    page = c.get("/me/notices").text
    assert 'data-status="sent"' in page and "已发送" in page and "¥3,456.78" in page
    c.get("/lang/en")
    page = c.get("/me/notices").text
    assert "Payment made" in page and "was paid on December 1, 2026" in page


def test_staff_see_delivery_status_and_failures_in_their_scope(login, engine, world, tmp_path):
    pid = world.persons["310101"]
    outbox.enqueue(engine, recipient_type="person", recipient_id=pid, region="310101",
                   template="certification.due", data={"due_on": "2027-03-31"})
    with engine.begin() as conn:
        from shebao.notices.tables import notice_preference
        conn.execute(notice_preference.insert().values(
            recipient_type="person", recipient_id=str(pid), channels="sms", lang="zh_CN",
            phone="139", updated_at=dt.datetime.now(dt.timezone.utc), updated_by="t"))
    bad = CaptureAdapter(str(tmp_path / "c.sqlite"), fail_addresses=frozenset({"139"}))
    assert delivery.drain(engine, {"sms": bad}, POLICY).failed == 1
    bad.close()
    r = login("collection_clerk-310101").get("/staff/notices")
    assert r.status_code == 200
    assert "capture: address refused" in r.text and "certification.due" in r.text
    other = login("collection_clerk-310104").get("/staff/notices")
    assert "certification.due" not in other.text          # another district's notice
    assert login("collection_clerk-310101").get("/staff/notices?region=310104").status_code == 403
    assert login("citizen-310101").get("/staff/notices").status_code == 403


def test_citizen_applies_online_with_a_document_and_the_case_is_received(login, engine, world):
    pid = world.persons["310101"]
    c = login("citizen-310101")
    page = c.get("/me/apply").text
    assert 'data-item="collection.contribution_statement"' in page and "参保缴费证明打印" in page
    assert "居民身份证" in page                                # document names in Chinese
    r = c.post("/me/apply/collection.contribution_statement", data={"note": "for a visa"},
               files={"doc_id_card": ("id.pdf", b"%PDF-1.4 scan", "application/pdf")})
    assert r.status_code == 303, r.text
    cid = int(r.headers["location"].rsplit("=", 1)[1])
    case = case_queries.get(engine, cid)
    assert (case.person_id, case.channel, case.status, case.region) == \
        (pid, "online", "received", "310101")
    docs = case_queries.documents(engine, cid)
    assert [(d["kind"], d["filename"]) for d in docs] == [("id_card", "id.pdf")]
    assert [n.template for n in outbox.for_recipient(engine, "person", pid)] == ["case.received"]
    mine = c.get(f"/me/apply?opened={cid}").text
    assert f'data-case="{cid}"' in mine and "已受理" in mine
    # an item that is not handled online (or not for persons) is refused, nothing opened
    r = c.post("/me/apply/registry.employer_registration", data={})
    assert r.status_code == 422
    assert len(case_queries.list_cases(engine, person_id=pid)) == 1
    assert login("collection_clerk-310101").get("/me/apply").status_code == 403


def test_rights_statement_page_and_pdf(login, world):
    c = login("citizen-310101")
    r = c.get("/me/rights-statement?year=2024")
    assert r.status_code == 200
    # sample world: 12 credits of 720.00 to the pension account in 2024
    assert 'data-testid="balance-pension">¥8,640.00' in r.text
    r25 = c.get("/me/rights-statement?year=2025").text
    assert 'data-testid="months-in-year">1<' in r25 and "2025-08" in r25
    pdf = c.get("/me/rights-statement/2025.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
    assert b"WenQuanYi" in pdf.content          # the Chinese text has its glyphs (.ci/run installs the font)
    assert c.get("/me/rights-statement?year=1800").status_code == 422


def test_employer_portal_notices_and_portals_kept_apart(login, engine, world):
    eid = world.employers["310101"]
    outbox.enqueue(engine, recipient_type="employer", recipient_id=eid, region="310101",
                   template="arrears.notice", data={"amount_fen": 277512, "bills": 1,
                                                    "late_fee_fen": 4163,
                                                    "as_of_date": "2025-09-14"})
    c = login("employer-310101")
    page = c.get("/employer/notices").text
    assert "社会保险费欠缴提醒" in page and "¥2,775.12" in page
    ok = c.post("/employer/notices/preferences", data={"channels": ["email"],
                                                        "email": "hr@example.cn", "lang": "en"})
    assert ok.status_code == 200 and 'value="hr@example.cn"' in ok.text
    # the other employer sees nothing of it; a citizen may not use the employer portal
    assert "2,775.12" not in login("employer-310104").get("/employer/notices").text
    assert login("citizen-310101").get("/employer/notices").status_code == 403
    assert c.get("/me/notices").status_code == 403
