"""Journey: a clerk reads a course, takes the timed exam (questions drawn at random, options
shuffled), passes, downloads the certificate as PDF and anyone verifies its code."""
import re

import pytest
from playwright.sync_api import expect

from shebao.core.actor import Actor
from shebao.training import service

from .conftest import sign_in

pytestmark = pytest.mark.e2e
ADMIN = Actor(id="administrator-310104", role="administrator", scope="310104")


def test_clerk_takes_a_course_and_an_exam_and_gets_a_certificate(page, live, browser):
    eng = live.engine
    cid = service.create_course(eng, ADMIN, "SAR-E2E", "经办时限", exam_questions=3,
                                exam_minutes=15, pass_pct=100, validity_months=24)
    service.add_courseware(eng, ADMIN, cid, "markdown", "第一章 登记",
                           body="## 登记时限\n参保登记 **10 个工作日** 内办结。")
    for n in range(5):
        service.add_question(eng, ADMIN, cid, f"第 {n + 1} 题：哪一项正确？",
                             ["错误说法甲", "正确答案", "错误说法乙"], answer=1)
    service.require_course(eng, ADMIN, cid, "collection_clerk")

    sign_in(page, live, "collection_clerk-310104")
    page.get_by_role("link", name="培训").click()
    expect(page.get_by_test_id("due")).to_contain_text("SAR-E2E")
    page.get_by_role("link", name="经办时限").click()
    expect(page.get_by_test_id("courseware")).to_contain_text("10 个工作日")
    page.get_by_role("button", name="开始考试").click()
    expect(page.get_by_test_id("deadline")).to_contain_text("剩余")
    questions = page.get_by_test_id("question")
    expect(questions).to_have_count(3)
    for i in range(3):
        questions.nth(i).get_by_label("正确答案").check()
    page.get_by_role("button", name="交卷").click()
    expect(page.get_by_test_id("passed")).to_have_text("考试合格。")
    expect(page.get_by_test_id("score")).to_have_text("100%")
    link = page.get_by_test_id("certificate")
    code = link.inner_text()
    assert re.fullmatch(r"[2-9A-Z]{12}", code)
    with page.expect_download() as dl:
        link.click()
    with open(dl.value.path(), "rb") as f:
        assert f.read(4) == b"%PDF"
    # anyone, signed in or not, verifies the code
    other = browser.new_context(locale="zh-CN")
    p2 = other.new_page()
    p2.goto(f"{live.url}/verify")
    p2.fill("#f-code", code.lower())
    p2.get_by_role("button", name="验证").click()
    expect(p2.get_by_test_id("verify-status")).to_have_text("有效")
    expect(p2.get_by_test_id("verification")).to_contain_text("经办时限")
    other.close()
    # the clerk is no longer due
    page.goto(f"{live.url}/staff/training")
    expect(page.get_by_test_id("due")).not_to_contain_text("SAR-E2E")
