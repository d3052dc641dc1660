"""The buyer flow in a real browser (SPEC B-1, B-2, B-7): register by email, read the code from
the test mailbox, verify, change the phone with a code by SMS, and see the refusal of a second
change within 7 days naming the next allowed date."""

from datetime import timedelta

import pytest
from buyer_mailbox import last_code

from buyers import sms
from buyers.models import Buyer, ContactChange


@pytest.mark.parametrize("viewport", ["390", "1440"])
def test_b7_register_verify_change_phone_and_second_change_refused(anonymous_page, screenshot):
    page = anonymous_page
    sms.outbox.clear()

    # given: a buyer registers by email
    page.goto(page.base_url + "/buyer/register/")
    page.fill("#id_contact", "browser.buyer@example.com")
    page.fill("#id_password", "Tr1cky-pass")
    page.fill("#id_country", "CN")
    page.click("button[type=submit]")
    page.wait_for_url("**/buyer/verify/")
    screenshot(page, "buyer-verify")

    # when: the code from the mailbox is entered
    page.fill("#id_code", last_code("browser.buyer@example.com"))
    page.click("form:has(#id_code) button[type=submit]")
    page.wait_for_url("**/buyer/account/")
    assert "verified" in page.inner_text("main")

    # and the phone is changed with the password and a code sent by SMS
    page.fill("#id_new_contact", "+86 138 0013 8000")
    page.fill("form:has(#id_new_contact) #id_password", "Tr1cky-pass")
    page.click("form:has(#id_new_contact) button[type=submit]")
    page.wait_for_url("**/buyer/account/contact/confirm/")
    page.fill("#id_code", last_code("+8613800138000"))
    page.click("form:has(#id_code) button[type=submit]")
    page.wait_for_url("**/buyer/account/")
    assert "+8613800138000" in page.inner_text("main")

    # then: a second change at once is refused, naming the date it becomes possible
    page.fill("#id_new_contact", "+86 138 0013 8001")
    page.fill("form:has(#id_new_contact) #id_password", "Tr1cky-pass")
    page.click("form:has(#id_new_contact) button[type=submit]")
    page.wait_for_load_state()
    change = ContactChange.objects.get()
    allowed = change.changed_at + timedelta(days=7)
    text = page.inner_text("main")
    assert "You can change your email or phone again from" in text
    assert f"{allowed:%Y-%m-%d %H:%M}" in text
    assert Buyer.objects.get().phone == "+8613800138000"
    screenshot(page, "buyer-change-refused")
    assert page.console_errors == []


def blocking_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    from .test_accessibility import settle

    settle(page)
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_b1_buyer_pages_have_no_serious_or_critical_axe_violation(
    anonymous_page, screenshot, language
):
    page = anonymous_page
    lang = "" if language == "en" else "?lang=zh-hans"
    found = {}
    for name in ("register", "login", "forgot"):
        page.goto(f"{page.base_url}/buyer/{name}/{lang}")
        screenshot(page, f"a11y-buyer-{name}")
        if violations := blocking_violations(page):
            found[name] = violations
    # the account page, signed in
    page.goto(f"{page.base_url}/buyer/register/{lang}")
    page.fill("#id_contact", "axe@example.com")
    page.fill("#id_password", "Tr1cky-pass")
    page.fill("#id_country", "CN")
    page.click("button[type=submit]")
    page.wait_for_url("**/buyer/verify/")
    if violations := blocking_violations(page):
        found["verify"] = violations
    page.fill("#id_code", last_code("axe@example.com"))
    page.click("form:has(#id_code) button[type=submit]")
    page.wait_for_url("**/buyer/account/")
    screenshot(page, "a11y-buyer-account")
    if violations := blocking_violations(page):
        found["account"] = violations
    assert not found, found
    assert page.console_errors == []
