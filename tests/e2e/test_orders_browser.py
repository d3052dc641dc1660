"""The orders console in a real browser (issue 7): status tabs, CSV export, order detail and
the top-bar search, at 1440 px and 390 px, in English and Chinese.

Screenshots go to tests/artifacts/orders-<page>-<width>-<lang>.png.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from orders.models import Order
from shops.models import Membership

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {1440: 900, 390: 844}
WORDS = {
    "en": {"orders": "Orders", "all": "All", "paid": "Paid", "ship_by": "Ship by"},
    "zh-hans": {"orders": "订单", "all": "全部", "paid": "已支付", "ship_by": "最晚发货"},
}


@pytest.fixture
def small_marketplace():
    call_command(
        "seed_demo",
        "--shops",
        "4",
        "--buyers",
        "60",
        "--orders",
        "240",
        "--seed",
        "11",
        verbosity=0,
    )


@pytest.fixture
def browser():
    # As in test_browser.py: the live server's database work runs in its own thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _login(page, base, lang):
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page, name, width, lang):
    page.screenshot(path=str(ARTIFACTS / f"orders-{name}-{width}-{lang}.png"), full_page=True)
    if width == 390:  # what a phone shows first, at a size one can read
        page.screenshot(path=str(ARTIFACTS / f"orders-{name}-{width}-{lang}-top.png"))


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_orders_tabs_export_detail_and_search_at_desktop_and_phone_width(
    live_server,
    small_marketplace,
    browser,
    lang,
    tmp_path,
):
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    words = WORDS[lang]
    for width, height in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))  # noqa: B023
        _login(page, base, lang)
        shop_name = page.inner_text(".sc-shop-name").strip()
        shop = Membership.objects.get(user__username="demo", shop__name=shop_name).shop

        # when: the orders list opens
        page.goto(f"{base}/orders/")
        # then: the status tabs carry counts, "All" is the active one
        tabs = page.locator(".sc-status-tabs .nav-link")
        assert tabs.count() == 8
        active = page.locator(".sc-status-tabs .nav-link.active")
        assert active.inner_text().startswith(words["all"])
        assert re.search(r"\d", active.inner_text())
        first = page.locator("tbody tr.sc-order-row").first
        number = first.locator(".sc-c-number a").inner_text().strip()
        if width == 390:
            # a card: number, status, amount, buyer and placed time visible; no table header
            assert not page.locator(".sc-orders-table thead").is_visible()
            for cell in ("number", "status", "amount", "buyer", "placed"):
                assert first.locator(f".sc-c-{cell}").is_visible(), cell
            box = first.bounding_box()
            assert box is not None
            assert box["width"] <= 390
        # the time zone is shown beside the times
        assert "Asia/Shanghai" in page.inner_text("#orders-table")
        _shot(page, "list", width, lang)

        # when: the "Paid" tab is chosen (an htmx swap, the URL follows)
        page.click(".sc-status-tabs a.nav-link[href*='status=paid']")
        page.wait_for_url(re.compile(r".*status=paid.*"))
        page.wait_for_load_state("networkidle")
        page.wait_for_selector(".htmx-request", state="detached")
        page.wait_for_timeout(400)  # the loading indicator's fade-out (app.css, 0.2 s)
        # then: only paid orders, each with its shipping deadline in words
        assert (
            page.locator(".sc-status-tabs .nav-link.active").inner_text().startswith(words["paid"])
        )
        paid_rows = page.locator("tbody tr.sc-order-row")
        if paid_rows.count():
            assert page.locator(".sc-ship").first.is_visible()
        _shot(page, "tab-paid", width, lang)

        # when: the export is downloaded (the list's filters apply)
        with page.expect_download() as info:
            page.click("#orders-export")
        path = tmp_path / f"export-{width}-{lang}.csv"
        info.value.save_as(path)
        raw = path.read_bytes()
        # then: a UTF-8 BOM, a header in the page's language, the paid orders only
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").splitlines()
        assert len(lines) - 1 == Order.objects.filter(shop=shop, status="paid").count()
        if lang == "zh-hans":
            assert "订单号" in lines[0] or "订单" in lines[0]

        # when: an order opens from the list
        page.goto(f"{base}/orders/")
        page.click(f"text={number}")
        page.wait_for_url(re.compile(r".*/orders/\d+/$"))
        # then: the money breakdown and the timeline are there
        assert page.locator("#order-amounts").is_visible()
        assert page.locator("#order-timeline li").count() >= 1
        _shot(page, "detail", width, lang)

        # when: a refunded, disputed or tracking-heavy order opens: its timeline in true order
        rich = (
            Order.objects.filter(shop=shop, shipment__isnull=False)
            .annotate(scans=Count("shipment__events"))
            .order_by("-refunded_minor", "-disputed", "-scans", "pk")
            .first()
        )
        if rich is not None:
            page.goto(f"{base}/orders/{rich.pk}/")
            times = page.locator("#order-timeline .sc-tl-time").all_inner_texts()
            assert times == sorted(times)
            _shot(page, "detail-history", width, lang)

        # when: the order number is searched from the top bar (on a phone: the search page)
        page.goto(f"{base}/orders/?status=cancelled")
        if width == 390:
            assert not page.locator("#sc-search-q").is_visible()
            page.click("#sc-search-link")
            box = "#search-page-q"
        else:
            box = "#sc-search-q"
        page.fill(box, number)
        page.press(box, "Enter")
        # then: the order opens straight away
        page.wait_for_url(re.compile(r".*/orders/\d+/$"))
        assert number in page.inner_text("h1")

        # when: something that is not in the shop is searched
        if width == 390:
            page.click("#sc-search-link")
        page.fill(box, "NO-SUCH-ORDER-42")
        page.press(box, "Enter")
        page.wait_for_selector("#search-nothing")
        _shot(page, "search-nothing", width, lang)
        assert errors == []
        context.close()
