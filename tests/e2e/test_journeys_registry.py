"""Journeys: a clerk registers a person; a citizen views their record and estimates their
pension. Real Chromium, real server, the Chinese interface."""
import re

import pytest
from playwright.sync_api import expect

from shebao.core.ids import ric_check_char

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def test_clerk_registers_a_person(page, live):
    sign_in(page, live, "collection_clerk-310101")
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.get_by_role("link", name="人员", exact=True).click()
    page.get_by_role("link", name="人员登记").click()
    # a wrong check character is answered next to the field, and what was typed stays
    page.fill("#f-citizen_id", "310101199203040011")
    page.fill("#f-name", "陈静")
    page.fill("#f-pension_region", "310101")
    page.get_by_role("button", name="登记").click()
    expect(page.locator('[data-field="citizen_id"]')).to_contain_text("check character")
    expect(page.locator("#f-name")).to_have_value("陈静")
    good = "31010119920304001" + ric_check_char("31010119920304001")
    page.fill("#f-citizen_id", good)
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_test_id("registered")).to_be_visible()
    expect(page.get_by_test_id("person-name")).to_contain_text("陈静")
    expect(page.get_by_test_id("person-name")).to_contain_text(good)


def test_citizen_views_record_and_estimates_pension(page, live):
    sign_in(page, live, "citizen-310101")
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.get_by_test_id("balance-pension")).to_have_text("¥9,600.00")
    expect(page.get_by_test_id("my-id")).to_have_text("310101********011X")
    page.get_by_role("link", name="对账单").first.click()
    expect(page.get_by_test_id("closing")).to_have_text("¥9,600.00")
    page.get_by_role("link", name="养老金测算").first.click()
    expect(page.locator("#f-account_balance")).to_have_value("9600.00")
    page.fill("#f-avg_index", "1.2")
    page.get_by_role("button", name="测算").click()
    expect(page.get_by_test_id("estimate-total")).to_have_text(re.compile(r"^¥[\d,]+\.\d\d$"))
    # the English switch keeps the page
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Pension estimate")).to_be_visible()
