"""Journeys: an employer declares bases (form, then a file with a dry run); a checker
approves a pension case made by another clerk, who could not approve it themself."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shebao.registry.tables import employer

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def test_employer_declares_bases(page, live, tmp_path):
    w = live.world
    sign_in(page, live, "employer-310101")
    expect(page).to_have_url(re.compile(r"/employer$"))
    page.get_by_role("link", name="基数申报").click()
    page.select_option("#f-person_id", str(w.persons["310101"]))
    page.fill("#f-year", "2025")
    page.fill("#f-wage", "8000.5x")
    page.get_by_role("button", name="申报", exact=True).click()
    expect(page.locator('[data-field="wage"]')).to_be_visible()
    page.fill("#f-wage", "50000")
    page.get_by_role("button", name="申报", exact=True).click()
    expect(page.get_by_test_id("declared")).to_contain_text("¥37,302.00")   # the ceiling
    with live.engine.connect() as conn:
        uscc = conn.execute(select(employer.c.uscc).where(
            employer.c.id == w.employers["310101"])).scalar_one()
    f = tmp_path / "bases.csv"
    f.write_text(f"citizen_id,uscc,wage\n{w.citizen_ids['310101']},{uscc},9100\n"
                 f"310101199901011234,{uscc},9100\n", encoding="utf-8")
    page.fill("#f-upload_year", "2025")
    page.set_input_files("#f-file", str(f))
    page.get_by_role("button", name="校验 / 导入").click()
    expect(page.get_by_test_id("accepted")).to_have_text("1")
    expect(page.get_by_test_id("rejected")).to_have_text("1")
    page.get_by_role("link", name="缴费单").click()
    expect(page.get_by_test_id("bills")).to_contain_text("2025-08")


def test_checker_approves_a_case_made_by_another_clerk(page, live, browser):
    case = live.world.cases["310104"]
    # the maker sees the case waiting for someone else and has no approve button
    sign_in(page, live, "benefits_clerk-310104")
    page.goto(f"{live.url}/staff/pension/{case}")
    expect(page.get_by_test_id("own-submission")).to_be_visible()
    expect(page.get_by_role("button", name="复核通过")).to_have_count(0)
    # a second clerk in another browser context approves it
    other = browser.new_context(locale="zh-CN")
    p2 = other.new_page()
    sign_in(p2, live, "benefits_clerk-2-310104")
    p2.get_by_role("link", name="养老金核定").click()
    p2.wait_for_url(f"{live.url}/staff/pension")  # the list, not the page we came from
    p2.get_by_role("link", name=str(case), exact=True).click()
    p2.wait_for_url(f"{live.url}/staff/pension/{case}")
    expect(p2.get_by_test_id("case-status")).to_have_text("待复核")
    expect(p2.get_by_test_id("case-total")).to_have_text(re.compile(r"¥[\d,]+\.\d\d"))
    p2.get_by_role("button", name="复核通过").click()
    expect(p2.get_by_test_id("case-status")).to_have_text("已通过")
    other.close()
