"""Journey (#13): a citizen applies online for unemployment benefit → a clerk checks and
computes it → a second clerk approves it → the first payroll run pays it, and the citizen
follows every step (status, decision lines, notice, payment) in the portal."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from shebao.benefits import payroll
from shebao.benefits.determination import record_history
from shebao.core.actor import Actor
from shebao.registry import service as registry

from .conftest import second_clerk_approves, sign_in, submit_for_check

pytestmark = pytest.mark.e2e
CLERK = Actor(id="benefits_clerk-310104", role="benefits_clerk", scope="310104")


def test_citizen_applies_for_unemployment_clerk_checker_first_payment(page, live, browser):
    w = live.world
    pid = w.persons["310104"]
    # the record the clerk's check reads: seven paid years from the old system, a bank account
    record_history(live.engine, CLERK, pid, [
        {"region": "310104", "period_start": dt.date(2010 + y, 1, 1), "months": 12,
         "base_total_fen": 12 * 900000, "kind": "paid"} for y in range(7)], source="legacy")
    registry.change_person(live.engine, Actor(id="a", role="administrator"), pid,
                           {"bank_name": "中国工商银行", "bank_account": "6222000033334444"},
                           reason="bank account for benefits")
    sign_in(page, live, "citizen-310104")
    page.goto(f"{live.url}/me/benefits")
    page.fill("#f-registered", "2025-08-10")
    page.check("input[name=f_involuntary]")
    page.check("input[name=f_seeking_work]")
    page.get_by_role("button", name="申请", exact=True).click()
    page.wait_for_url(re.compile(r"/me/benefits/\d+$"))
    case = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("case-status")).to_have_text("已受理")

    clerk = browser.new_context(locale="zh-CN")
    p1 = clerk.new_page()
    sign_in(p1, live, "benefits_clerk-310104")
    p1.goto(f"{live.url}/staff/benefits")
    p1.get_by_role("link", name=str(case), exact=True).click()
    p1.get_by_role("button", name="核查并核定").click()
    expect(p1.get_by_test_id("computation")).to_contain_text("¥2,466.00")   # 0.9 × 2740
    submit_for_check(p1)
    clerk.close()

    checker, _ = second_clerk_approves(browser, live, f"/staff/benefits/{case}")
    checker.close()

    run = payroll.run(live.engine, CLERK, "310104", dt.date(2025, 8, 1))
    assert run.n_payments >= 1
    page.goto(f"{live.url}/me/benefits/{case}")
    expect(page.get_by_test_id("decision-lines")).to_contain_text("失业保险金")
    href = page.get_by_test_id("notice-zh").get_attribute("href")
    pdf = page.request.get(live.url + href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.goto(f"{live.url}/me/benefits")
    expect(page.get_by_test_id("my-payments")).to_contain_text("¥2,466.00")
    expect(page.get_by_test_id("my-awards")).to_contain_text("失业保险金")
