"""Marketing-email set-up in a real browser (issue 11 item 1; SPEC M-1, M-2): an eligible seller
enables marketing email, enters an own subdomain, sees its DNS records (answered by the test's
authoritative DNS server on loopback) go from missing to verified, fills the brand profile with
a logo, copies a built-in template, edits it and previews it. At 1440 px in English, then every
set-up page at 390 px in Chinese; axe-clean, no sideways scrolling.
Screenshots: tests/artifacts/mailing-<step>-<viewport>-<language>.png.
"""

import base64
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from factories import PASSWORD, make_member, make_shop

from mailing.models import BrandProfile, DomainKind, MailingAccount, MailTemplate, SenderDomain

from .conftest import ARTIFACTS, log_in_page, new_page
from .test_accessibility import blocking_violations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mailing"))
from dnsserver import DnsServer
from mailkit import publish

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _shot(page, step: str, viewport: str, language: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=str(ARTIFACTS / f"mailing-{step}-{viewport}-{language}.png"), full_page=True
    )


@pytest.fixture
def dns_on_loopback(settings):
    with DnsServer() as server:
        settings.SC_MAILING_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.SC_MAILING_DNS_PORT = server.port
        settings.SC_MAILING_DNS_TIMEOUT = 1.0
        yield server


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
def test_m1_m2_seller_enables_verifies_a_subdomain_brands_and_previews_a_template(
    chromium, live_server, transactional_db, dns_on_loopback
):
    # given: a shop that passes M-1 (the GMV threshold set to zero in its currency)
    from constance import config

    shop = make_shop(name="Lantern Mail", currency="USD")
    config.MAILING_MIN_GMV_30D_CURRENCY = "USD"
    config.MAILING_MIN_GMV_30D_MINOR = 0
    user = make_member(shop, username="lanternmail")
    context, page = new_page(chromium, live_server, "1440", "en")
    log_in_page(page, user.username, PASSWORD)
    base = page.base_url

    # when: enabling
    page.goto(base + "/mailing/")
    assert blocking_violations(page) == []
    page.click("#mailing-enable-form button[type=submit]")
    page.wait_for_selector("#mailing-account")
    # then: the set-up checklist, the default domain ready
    assert MailingAccount.objects.filter(shop=shop).exists()
    assert page.locator('[data-check="m2_domain"][data-state="pass"]').count() == 1
    _shot(page, "overview", "1440", "en")

    # when: an own subdomain is entered, nothing published yet, and checked
    page.goto(base + "/mailing/setup/domain/")
    page.fill("#own-domain-form input[name=domain]", "promo.lantern.example.com")
    page.click("#own-domain-form button[type=submit]")
    page.wait_for_selector("#dns-records")
    page.click("#dns-check")
    page.wait_for_selector('[data-record="dkim"][data-state="fail"]')
    # then: each record with its problem
    assert page.locator('#dns-records [data-state="fail"]').count() == 4
    assert page.locator("#not-verified-note").is_visible()
    assert blocking_violations(page) == []
    _shot(page, "domain-missing", "1440", "en")

    # when: the records are published and checked again
    own = SenderDomain.objects.get(shop=shop, kind=DomainKind.OWN)
    publish(dns_on_loopback, own)
    page.click("#dns-check")
    page.wait_for_selector('[data-record="dkim"][data-state="pass"]')
    # then
    assert page.locator('#dns-records [data-state="pass"]').count() == 4
    assert page.locator("#not-verified-note").count() == 0
    _shot(page, "domain-verified", "1440", "en")

    # when: the brand profile is filled in, with a logo
    page.goto(base + "/mailing/setup/brand/")
    page.fill("input[name=sender_name]", "Lantern Mail")
    page.fill("textarea[name=physical_address]", "1 Wensan Road, Hangzhou")
    page.fill("input[name=service_phone]", "+86 571 8502 2088")
    page.set_input_files(
        "input[name=logo]", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("#brand-profile button[type=submit]")
    page.wait_for_selector("#current-logo")
    # then
    assert BrandProfile.objects.get(shop=shop).footer_complete
    assert page.locator("#footer-missing").count() == 0
    assert blocking_violations(page) == []

    # when: a built-in is copied, its Spanish subject edited, and previewed
    page.goto(base + "/mailing/setup/templates/")
    assert blocking_violations(page) == []
    page.click('[data-builtin="coins_expiring"] button[type=submit]')
    page.wait_for_selector("#template-form")
    page.click("a[lang=es]")
    page.fill("input[name=subject]", "Tus monedas caducan: {{ coins.expiry_date }}")
    page.click("#template-form button[type=submit]")
    page.wait_for_selector(".alert-success, [role=status]")
    assert blocking_violations(page) == []
    template = MailTemplate.objects.get(shop=shop)
    page.goto(base + f"/mailing/setup/templates/{template.pk}/preview/?lang=es")
    # then: the subject with a sample value, the email inside a sandboxed frame
    assert page.inner_text("#preview-subject").strip() == "Tus monedas caducan: 2026-12-31"
    frame = page.frame_locator("iframe[title='Desktop preview']")
    assert "Darse de baja" in frame.locator("body").inner_text()
    assert blocking_violations(page) == []
    _shot(page, "preview", "1440", "en")
    overview = page.goto(base + "/mailing/")
    assert overview.ok
    assert page.locator('.sc-check-fail, [data-state="fail"]').count() == 0
    assert page.console_errors == []
    context.close()

    # and on a phone, in Chinese: every set-up page fits and is axe-clean
    context, phone = new_page(chromium, live_server, "390", "zh-hans")
    log_in_page(phone, user.username, PASSWORD)
    for step, path in (
        ("overview", "/mailing/"),
        ("domain", "/mailing/setup/domain/"),
        ("brand", "/mailing/setup/brand/"),
        ("templates", "/mailing/setup/templates/"),
        ("edit", f"/mailing/setup/templates/{template.pk}/"),
        ("preview", f"/mailing/setup/templates/{template.pk}/preview/"),
    ):
        phone.goto(base + path)
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390, path
        assert phone.evaluate("document.documentElement.lang").lower() == "zh-hans"
        assert blocking_violations(phone) == [], path
        _shot(phone, step, "390", "zh-hans")
    assert phone.console_errors == []
    context.close()
    assert django_settings.SC_MAILING_DNS_NAMESERVERS == ["127.0.0.1"]
