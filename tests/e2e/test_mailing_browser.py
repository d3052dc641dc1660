"""A marketing-email campaign end to end in a real browser (issue 11 Proof; SPEC M-2, M-4, M-5,
M-8, M-9, M-11): the seller verifies an own sender subdomain (answered by the test's
authoritative DNS server on loopback), builds a segment whose count follows the conditions as
they are typed, composes a campaign from a template, reads the pre-send checklist, confirms,
watches the progress and reads the report and the send log — the messages received by a real
SMTP server on loopback (aiosmtpd). At 1440 px in English, then the campaign pages at 390 px in
Chinese; axe-clean, no sideways scrolling.
Screenshots: tests/artifacts/mailing-campaign-<step>-<viewport>-<language>.png.
"""

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from factories import (
    PASSWORD,
    first_sku,
    make_buyer,
    make_member,
    make_order,
    make_product,
    make_shop,
)
from playwright.sync_api import expect

from core import clock
from mailing.models import (
    Campaign,
    CampaignStatus,
    DomainKind,
    Message,
    Segment,
    SenderDomain,
)

from .conftest import ARTIFACTS, log_in_page, new_page
from .test_accessibility import blocking_violations

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mailing"))
from dispatchkit import ADDRESS, PHONE, SmtpSink, use_sink
from dnsserver import DnsServer
from mailkit import publish

LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0500f0004850180848a8c210000000049454e44ae426082"
)


def _shot(page, step: str, viewport: str, language: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=str(ARTIFACTS / f"mailing-campaign-{step}-{viewport}-{language}.png"), full_page=True
    )


@pytest.fixture
def loopback(settings):
    """The DNS server the resolver asks and the SMTP server campaigns are handed to."""
    with DnsServer() as dns_server, SmtpSink() as sink:
        settings.SC_MAILING_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.SC_MAILING_DNS_PORT = dns_server.port
        settings.SC_MAILING_DNS_TIMEOUT = 1.0
        use_sink(settings, sink)
        yield dns_server, sink


def _shop_with_customers():
    """An enabled shop (brand and a template ready) with six subscribed US customers, two
    subscribed Canadian ones and one French customer awaiting double opt-in."""
    from constance import config

    from mailing.services import audience, setup

    shop = make_shop(name="Harbour Lights", currency="USD")
    config.MAILING_MIN_GMV_30D_CURRENCY = "USD"
    config.MAILING_MIN_GMV_30D_MINOR = 0
    setup.mailing_enable(shop=shop)
    setup.brand_save(
        shop=shop,
        sender_name="Harbour Lights",
        primary_colour="#0b6bcb",
        background_colour="#f5f5f5",
        physical_address=ADDRESS,
        service_phone=PHONE,
        logo=SimpleUploadedFile("logo.png", LOGO, content_type="image/png"),
    )
    setup.template_copy(shop=shop, builtin_key="seasonal_promotion")
    sku = first_sku(make_product(shop))
    for i, country in enumerate(["US"] * 6 + ["CA"] * 2 + ["FR"]):
        buyer = make_buyer(email=f"buyer{i}@example.com", country=country)
        make_order(shop, buyer, sku=sku, placed_at=clock.now() - timedelta(days=3 + i))
        audience.consent_record(
            shop=shop, email=buyer.email, status="granted", source="buyer_preference"
        )
    return shop


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
def test_m2_m4_m8_m11_seller_verifies_a_domain_builds_a_segment_sends_and_reads_the_report(
    chromium, live_server, transactional_db, loopback
):
    # given
    dns_server, sink = loopback
    shop = _shop_with_customers()
    user = make_member(shop, username="harbour")
    context, page = new_page(chromium, live_server, "1440", "en")
    log_in_page(page, user.username, PASSWORD)
    base = page.base_url

    # when: the own subdomain is entered, its records published, and checked
    page.goto(base + "/mailing/setup/domain/")
    page.fill("#own-domain-form input[name=domain]", "news.harbour.example.com")
    page.click("#own-domain-form button[type=submit]")
    page.wait_for_selector("#dns-records")
    publish(dns_server, SenderDomain.objects.get(shop=shop, kind=DomainKind.OWN))
    page.click("#dns-check")
    page.wait_for_selector('[data-record="dkim"][data-state="pass"]')
    # then
    assert page.locator('#dns-records [data-state="pass"]').count() == 4
    assert SenderDomain.objects.get(shop=shop, kind=DomainKind.OWN).is_verified
    assert blocking_violations(page) == []
    _shot(page, "domain", "1440", "en")

    # when: a segment is built; the count follows the conditions as they are typed
    page.goto(base + "/mailing/segments/new/")
    page.fill("input[name=name]", "North America")
    page.wait_for_selector("#segment-count")
    countries = page.locator("input[name=countries]")
    countries.press_sequentially("US", delay=50)
    expect(page.locator("#segment-count")).to_have_text("6 recipients")
    countries.press_sequentially(", CA", delay=50)
    # then: the French buyer awaits double opt-in, so is never counted (M-3)
    expect(page.locator("#segment-count")).to_have_text("8 recipients")
    assert blocking_violations(page) == []
    _shot(page, "segment", "1440", "en")
    page.get_by_role("button", name="Save segment").click()
    page.wait_for_load_state("networkidle")
    assert Segment.objects.filter(shop=shop, name="North America").exists()

    # when: a campaign from the template, to the segment
    page.goto(base + "/mailing/campaigns/new/")
    page.fill("input[name=name]", "Autumn lights")
    page.select_option("select[name=template]", index=1)
    page.select_option("select[name=segment]", label="North America")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_selector("#checklist")
    # then: the pre-send checklist: recipients after suppression, quota days, cost
    checklist = page.inner_text("#checklist")
    assert "8 recipients after suppression and consent" in checklist
    assert "Sent over 1 day" in checklist
    assert "free messages left this month" in checklist
    assert blocking_violations(page) == []
    _shot(page, "checklist", "1440", "en")

    # when: confirmed (the worker runs in-line in tests), the progress watched
    page.get_by_role("button", name="Confirm and send").click()
    page.wait_for_selector("#campaign-progress")
    expect(page.locator("#p-sent")).to_have_text("8")
    # then: eight messages reached the SMTP server, once each, DKIM-signed for the subdomain
    campaign = Campaign.objects.get(shop=shop, name="Autumn lights")
    assert campaign.status == CampaignStatus.SENT
    assert sorted(r for m in sink.received for r in m.rcpt_tos) == sorted(
        Message.objects.filter(campaign=campaign).values_list("email", flat=True)
    )
    assert len(sink.received) == 8
    assert all(
        "d=news.harbour.example.com" in str(m.message["DKIM-Signature"]) for m in sink.received
    )
    assert blocking_violations(page) == []
    _shot(page, "progress", "1440", "en")

    # when: a buyer opens the message (its pixel) and the seller reads the report
    pixel = next(
        part
        for part in sink.received[0].message.get_body(("html",)).get_content().split('"')
        if "/m/o/" in part
    )
    # (the public link base is another host in tests: the same path on the live server)
    assert page.request.get(base + urlsplit(pixel).path).ok
    page.reload()
    # then
    assert page.inner_text("#p-total").strip() == "8"
    opened = page.locator("#campaign-progress dt:has-text('Opened') + dd").inner_text()
    assert opened.strip() == "1"
    page.goto(base + f"/mailing/campaigns/{campaign.pk}/log/")
    assert page.locator("main").inner_text().count("@example.com") >= 8
    assert blocking_violations(page) == []
    _shot(page, "log", "1440", "en")
    assert page.console_errors == []
    context.close()

    # and on a phone, in Chinese: the campaign pages fit and are axe-clean
    context, phone = new_page(chromium, live_server, "390", "zh-hans")
    log_in_page(phone, user.username, PASSWORD)
    for step, path in (
        ("campaigns", "/mailing/campaigns/"),
        ("report", f"/mailing/campaigns/{campaign.pk}/"),
        ("log", f"/mailing/campaigns/{campaign.pk}/log/"),
        ("segments", "/mailing/segments/"),
        ("health", "/mailing/health/"),
        ("statements", "/mailing/statements/"),
        ("home", "/"),
    ):
        phone.goto(base + path)
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390, path
        assert blocking_violations(phone) == [], path
        _shot(phone, step, "390", "zh-hans")
    assert phone.console_errors == []
    context.close()
