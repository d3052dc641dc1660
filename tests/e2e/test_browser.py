"""The main seller flow in a real browser: Playwright driving Debian's Chromium, headless.

Screenshots are kept in tests/artifacts/ (CI keeps them as artefacts).
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from shops.models import Membership

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_marketplace():
    # given: a small demo marketplace built by the same command `make run` uses
    call_command(
        "seed_demo",
        "--shops",
        "4",
        "--buyers",
        "150",
        "--orders",
        "600",
        "--seed",
        "7",
        verbosity=0,
    )


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the live server's database work
    # happens in its own thread, and the test's own ORM calls are plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_demo_logs_in_switches_shop_and_reads_dashboard_and_orders(
    live_server, demo_marketplace, browser
):
    ARTIFACTS.mkdir(exist_ok=True)
    shops = [
        m.shop
        for m in Membership.objects.filter(user__username="demo")
        .select_related("shop")
        .order_by("shop__name")
    ]
    assert len(shops) >= 2, "seed_demo makes demo the owner of several shops"
    page = browser.new_page(viewport={"width": 1400, "height": 900})

    # when: demo logs in
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    # then: the dashboard of one of demo's shops, with its charts drawn
    page.wait_for_selector("canvas")
    current = page.inner_text(".sc-shop-name").strip()
    assert current in {s.name for s in shops}
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # when: demo switches to another of its shops
    target = next(s for s in shops if s.name != current)
    page.click("#sc-shop-switcher")
    page.click(f"button[name=shop_id][value='{target.pk}']")
    page.wait_for_load_state("networkidle")
    # then: the switcher shows it, and the dashboard is that shop's
    assert page.inner_text(".sc-shop-name").strip() == target.name
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("canvas")
    page.screenshot(path=str(ARTIFACTS / "dashboard-switched.png"), full_page=True)

    # when: demo opens the orders list
    page.goto(f"{live_server.url}/orders/")
    # then: the shop's orders are listed, newest first, and one opens with its timeline
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    page.screenshot(path=str(ARTIFACTS / "orders.png"), full_page=True)
    first_number = target.orders.order_by("-placed_at", "-id").first().number
    assert first_number in page.inner_text("table tbody")
    page.click(f"text={first_number}")
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    assert first_number in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "order-detail.png"), full_page=True)

    # when: demo filters the list by status through htmx (the table region is swapped in place)
    page.goto(f"{live_server.url}/orders/?status=cancelled")
    assert "cancelled" in page.url

    # when: demo switches the language to Simplified Chinese
    page.goto(f"{live_server.url}/")
    page.click("button[aria-label=Language]")
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/orders/")
    # then: the console speaks Chinese
    assert "订单" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "orders-zh.png"), full_page=True)
