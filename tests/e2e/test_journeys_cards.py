"""Journey: a citizen applies for a card online, a clerk issues it, the citizen activates it
and shows the e-card's QR code in the portal; a clerk of another district verifies the code at
the counter; after the citizen reports the card lost the same code is refused."""
import re

import pytest
import segno
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def test_citizen_shows_the_ecard_and_a_clerk_verifies_it(page, live, browser):
    sign_in(page, live, "citizen-310101")
    page.get_by_role("link", name="社会保障卡").click()
    page.get_by_role("button", name="申领社保卡").click()
    expect(page.get_by_test_id("card-status")).to_have_text("已申领，制卡中")

    clerk_ctx = browser.new_context(locale="zh-CN")
    clerk = clerk_ctx.new_page()
    sign_in(clerk, live, "collection_clerk-310101")
    clerk.get_by_role("link", name="社保卡申领").click()
    expect(clerk.get_by_test_id("card-applications")).to_contain_text("张*")
    clerk.get_by_role("button", name="制卡").first.click()
    expect(clerk.get_by_test_id("issued")).to_contain_text(re.compile(r"A\d{8}"))
    card_no = re.search(r"A\d{8}", clerk.get_by_test_id("issued").inner_text()).group(0)
    clerk_ctx.close()

    page.reload()
    expect(page.get_by_test_id("card-status")).to_have_text("已制卡，未启用")
    page.get_by_role("button", name="启用我的社保卡").click()
    expect(page.get_by_test_id("card-status")).to_have_text("正常使用")
    page.get_by_test_id("show-ecard").click()
    expect(page.get_by_test_id("ecard-qr")).to_be_visible()
    expect(page.get_by_test_id("ecard-card-no")).to_have_text(card_no)
    token = page.get_by_test_id("ecard-token").text_content().strip()
    # the QR shown encodes exactly this credential (what a scanner reads)
    src = page.get_by_test_id("ecard-qr").get_attribute("src")
    assert src == segno.make(token, error="m").svg_data_uri(scale=3, border=4)
    qr_box = page.get_by_test_id("ecard-qr").bounding_box()
    assert qr_box["width"] >= 200 and qr_box["height"] >= 200

    # a counter clerk of another district checks it
    counter_ctx = browser.new_context(locale="zh-CN")
    counter = counter_ctx.new_page()
    sign_in(counter, live, "benefits_clerk-310104")
    counter.get_by_role("link", name="电子社保卡核验").click()
    counter.fill("#f-token", token)
    counter.select_option("#f-purpose", "identity check at the counter")
    counter.get_by_role("button", name="核验").click()
    expect(counter.get_by_test_id("ecard-result")).to_contain_text("电子社保卡有效")
    expect(counter.get_by_test_id("ecard-holder")).to_have_text("张伟")

    # the citizen reports the card lost: the same code is now refused
    page.get_by_role("link", name="返回我的社保卡").click()
    page.get_by_role("button", name="挂失社保卡").click()
    expect(page.get_by_test_id("card-status")).to_have_text("已挂失（冻结）")
    counter.fill("#f-token", token)
    counter.get_by_role("button", name="核验").click()
    expect(counter.get_by_test_id("ecard-result")).to_contain_text("该卡已挂失")
    # and a tampered code is not ours
    counter.fill("#f-token", token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    counter.get_by_role("button", name="核验").click()
    expect(counter.get_by_test_id("ecard-result")).to_contain_text("非本经办机构签发")
    counter_ctx.close()
