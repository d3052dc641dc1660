"""The promoter flow in a real browser (SPEC A-1, A-3, A-4, A-6, A-10; issue 9's proof): a
promoter signs up and uploads its documents, a platform admin approves it in the review queue,
the promoter creates a PID and a tracking link; a click through the link followed by the order's
events shows a *locked*, then a *pre-issued* commission in the promoter's reports; diagnostics
shows the order's attribution path with no break. Every promoter page is axe-clean (no serious or
critical violation) and fits the viewport. 1440 px in English and 390 px in Chinese.
Screenshots: tests/artifacts/promoter-<step>-<viewport>-<language>.png.
"""

from datetime import timedelta

import pytest
from factories import PASSWORD, first_sku, make_order, make_product, make_shop, make_user

from affiliate import services
from affiliate.models import Click, Commission, Link, Promoter
from affiliate.services import clicks
from core import clock
from orders import services as order_services

from .conftest import log_in_page, new_page
from .test_accessibility import blocking_violations

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _check(page, screenshot, name: str) -> None:
    """No blocking axe violation, no sideways scroll, no console error; a screenshot."""
    page.wait_for_load_state("networkidle")
    assert blocking_violations(page) == [], name
    wide = page.locator(".table-responsive[data-sc-scrollable]")
    assert wide.count() == 0, (name, [wide.nth(i).inner_text()[:80] for i in range(wide.count())])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"promoter-{name}")


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
@pytest.mark.parametrize(
    ("viewport", "language"), [("1440", "en"), ("390", "zh-hans")], indirect=False
)
def test_a1_a3_a6_a10_promoter_signs_up_is_approved_links_and_sees_its_commission(
    chromium, live_server, settings, tmp_path, screenshot, viewport, language
):
    settings.SC_AFFILIATE_REDIRECT_HOSTS = ["www.aliexpress.com"]
    # given: a shop whose affiliate programme is on, and a platform admin
    shop = make_shop(name="Lantern Goods", store_level=4)
    services.programme_enable(shop=shop, rate_bp=1000)
    product = make_product(shop, title="Paper lantern", price_minor=120_00)
    admin = make_user("reviewer", is_staff=True, is_superuser=True)
    context, page = new_page(chromium, live_server, viewport, language)
    base = page.base_url

    # when: the promoter signs up
    page.goto(base + "/promoter/signup/")
    _check(page, screenshot, "signup")
    page.fill("#id_name", "Bright Reviews Ltd")
    page.fill("#id_email", "bright@promo.example.com")
    page.fill("#id_password", "Bright-pass-2026")
    page.click("#promoter-signup-form button[type=submit]")
    page.wait_for_url("**/promoter/onboarding/")
    promoter = Promoter.objects.get(email="bright@promo.example.com")

    # and uploads its documents (the first through the page), then submits them
    doc = tmp_path / "licence.pdf"
    doc.write_bytes(PDF)
    page.select_option("#id_kind", "licence")
    page.set_input_files("#id_file", str(doc))
    page.click("#document-form button[type=submit]")
    page.wait_for_selector("tr[data-kind=licence] a")
    from django.core.files.uploadedfile import SimpleUploadedFile

    for kind in ("id_front", "id_back", "bank", "tax"):
        services.document_upload(
            promoter=promoter, kind=kind, uploaded=SimpleUploadedFile(f"{kind}.pdf", PDF)
        )
    page.reload()
    _check(page, screenshot, "onboarding")
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("#promoter-status[data-status=pending]")
    # then: it waits for review; the pages for approved promoters stay closed
    page.goto(base + "/promoter/pids/")
    page.wait_for_url("**/promoter/onboarding/")

    # when: the admin approves it in the review queue
    admin_context, admin_page = new_page(chromium, live_server, viewport, "en")
    admin_page.goto(base + "/admin/login/")
    admin_page.fill("input[name=username]", admin.username)
    admin_page.fill("input[name=password]", PASSWORD)
    admin_page.click("input[type=submit]")
    admin_page.goto(base + "/admin/affiliate/promoter/?status__exact=pending")
    assert "Bright Reviews Ltd" in admin_page.inner_text("#result_list")
    admin_page.check(f"input[name=_selected_action][value='{promoter.pk}']")
    admin_page.select_option("select[name=action]", "approve")
    admin_page.click("button[name=index]")
    admin_page.wait_for_load_state()
    admin_context.close()
    promoter.refresh_from_db()
    assert promoter.status == "approved"

    # and the promoter creates a PID and a tracking link to the product
    page.goto(base + "/promoter/pids/")
    page.select_option("#id_channel", "video")
    page.fill("#id_name", "Lantern review channel")
    page.click("#pid-form button[type=submit]")
    page.wait_for_selector("tr[data-pid]")
    _check(page, screenshot, "pids")
    page.goto(base + "/promoter/shops/")
    _check(page, screenshot, "shops")
    page.goto(f"{base}/promoter/links/?shop={shop.external_id}")
    page.fill("#id_product", product.external_id)
    page.fill("#id_utm_campaign", "lantern-festival")
    page.fill("#id_sub_id", "video-12")
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("tr[data-link]")
    link = Link.objects.get(pid__promoter=promoter)
    assert f"{base}/t/{link.code}" in page.inner_text("tr[data-link]")
    _check(page, screenshot, "links")

    # when: a buyer clicks through the link (the redirect answers 302 with the click cookie)
    buyer = chromium.new_context(base_url=base)
    answer = buyer.request.get(f"/t/{link.code}", max_redirects=0)
    assert answer.status == 302
    assert answer.headers["location"].startswith("https://www.aliexpress.com/item/")
    click_id = next(c["value"] for c in buyer.cookies() if c["name"] == "sc_aff_click")
    buyer.close()
    clicks.flush()  # the beat's flusher
    assert Click.objects.filter(click_id=click_id, link=link).exists()

    # and the buyer orders with the cookie's click id (pending payment): locked
    order = make_order(
        shop,
        status="pending_payment",
        sku=first_sku(product),
        affiliate_click_id=click_id,
        placed_at=clock.now() + timedelta(minutes=5),
    )
    assert Commission.objects.get(order=order).status == "locked"
    page.goto(base + "/promoter/reports/")
    page.wait_for_selector(f"tr[data-order='{order.number}'][data-state=locked]")
    _check(page, screenshot, "reports-locked")

    # when: the order is paid and the frequent job runs: pre-issued
    order_services.order_pay(
        order=order,
        payment_id="pay-browser-1",
        amount_minor=order.payable_before_coins.amount,
        method="card",
        paid_at=clock.now() + timedelta(minutes=10),
    )
    assert services.commissions_pre_issue(now=clock.now() + timedelta(minutes=12)) == 1
    page.goto(base + "/promoter/reports/")
    page.wait_for_selector(f"tr[data-order='{order.number}'][data-state=pre_issued]")
    assert page.locator("#report-states tr[data-state=pre_issued]").count() == 1
    _check(page, screenshot, "reports-pre-issued")
    promoter.refresh_from_db()
    assert promoter.trial is False  # the first attributed paid order ends the trial

    # then: diagnostics shows the order's path, every step passed
    page.goto(base + "/promoter/diagnose/")
    page.fill("#diag-number", order.number)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#diag-path")
    assert page.locator("#diag-break").count() == 0
    assert page.locator("#diag-state").count() == 1
    assert page.locator(".sc-check-fail").count() == 0
    assert click_id in page.inner_text("#diag-path")
    _check(page, screenshot, "diagnose")

    # and the overview, payouts and settings pages are clean too
    for name, path in (("home", "/promoter/"), ("payouts", "/promoter/payouts/")):
        page.goto(base + path)
        _check(page, screenshot, name)
    page.goto(base + "/promoter/account/")
    _check(page, screenshot, "account")
    assert page.console_errors == []
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("viewport", ["390"])
def test_a1_promoter_sign_in_pages_are_axe_clean(anonymous_page, screenshot, language):
    page = anonymous_page
    for name in ("login", "signup", "password/forgot"):
        page.goto(f"{page.base_url}/promoter/{name}/")
        _check(page, screenshot, name.replace("/", "-"))


def test_a1_seller_login_does_not_open_the_portal(chromium, live_server, viewport):
    # a seller signed into Seller Center is sent to the promoter sign-in
    shop = make_shop(name="Seller Only")
    from factories import make_member

    user = make_member(shop, username="seller-only")
    context, page = new_page(chromium, live_server, viewport, "en")
    log_in_page(page, user.username, PASSWORD)
    page.goto(page.base_url + "/promoter/")
    page.wait_for_url("**/promoter/login/**")
    assert page.locator("#promoter-login-form").count() == 1
    context.close()
