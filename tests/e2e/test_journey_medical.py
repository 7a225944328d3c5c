"""Journey (#16 point 6): a citizen submits a manual reimbursement claim online → a clerk sees
it in the queue with its bill lines and the computed split and decides → a second clerk
approves (the first may not) → the citizen sees the reimbursement and the medical account."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.medical_seed import seed_provider

from .conftest import second_clerk_approves, sign_in, submit_for_check

pytestmark = pytest.mark.e2e


def test_manual_claim_online_decided_by_two_clerks_seen_by_the_citizen(page, live, browser):
    seed_provider(live.engine)
    sign_in(page, live, "citizen-310104")
    page.goto(f"{live.url}/me/medical")
    expect(page.get_by_test_id("manual-limit")).to_contain_text("30")
    expect(page.get_by_test_id("account-lines")).to_contain_text("缴费划入")
    form = page.get_by_test_id("manual-claim")
    form.locator("#f-provider").fill("H31010401")
    form.locator("#f-bill_no").fill("FP-E2E-1")
    form.locator("#f-admitted_on").fill("2025-09-01")
    form.locator("#f-discharged_on").fill("2025-09-06")
    form.locator("input[name=item_1]").fill("T001")
    form.locator("input[name=amount_1]").fill("11000.00")
    form.locator("input[name=item_2]").fill("X001")
    form.locator("input[name=amount_2]").fill("500.00")
    form.get_by_role("button", name="提交报销申请").click()
    page.wait_for_url(re.compile(r"/me/medical\?opened=\d+"))
    case = int(re.search(r"opened=(\d+)", page.url).group(1))
    row = page.locator(f"[data-testid=manual-claims] tr[data-case='{case}']")
    expect(row).to_contain_text("已受理")
    expect(row.get_by_test_id("manual-due")).to_contain_text("年")

    clerk = browser.new_context(locale="zh-CN")
    p1 = clerk.new_page()
    sign_in(p1, live, "benefits_clerk-310104")
    p1.goto(f"{live.url}/staff/medical")
    expect(p1.get_by_test_id("manual-queue")).not_to_contain_text("李娜")   # masked
    p1.get_by_role("link", name=str(case), exact=True).click()
    expect(p1.get_by_test_id("bill-lines")).to_contain_text("丙类")
    # Shanghai (national default): (11,000 − 1,000) × 85% = 8,500; the person pays 3,000
    expect(p1.get_by_test_id("split-fund")).to_have_text("¥8,500.00")
    expect(p1.get_by_test_id("split-cash")).to_have_text("¥3,000.00")
    p1.select_option("#f-outcome", "granted")
    submit_for_check(p1)
    clerk.close()

    checker, p2 = second_clerk_approves(browser, live, f"/staff/medical/claims/{case}")
    expect(p2.get_by_test_id("claim-status")).to_have_text("已结算")
    checker.close()

    page.goto(f"{live.url}/me/medical")
    row = page.locator(f"[data-testid=manual-claims] tr[data-case='{case}']")
    expect(row).to_contain_text("准予")
    expect(row.get_by_test_id("reimbursed")).to_have_text("¥8,500.00")
    expect(page.get_by_test_id("claims")).to_contain_text("FP-E2E-1")
    expect(page.get_by_test_id("account-balance")).to_have_text("¥240.00")
