"""Products list and detail in a real browser (Playwright, Debian's Chromium): at 1440 and
390 px, in English and Chinese, with screenshots in tests/artifacts/products-*.png."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {1440: 900, 390: 844}
WORDS = {"en": ("Products", "30-day units"), "zh-hans": ("商品", "30 天销量")}


@pytest.fixture
def demo_marketplace():
    # given: a small demo marketplace (its products carry the local demo pictures)
    call_command(
        "seed_demo",
        "--shops",
        "4",
        "--buyers",
        "120",
        "--orders",
        "500",
        "--seed",
        "11",
        verbosity=0,
    )


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _open(browser, live_server, *, width: int, language: str):
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    context.set_default_timeout(60_000)  # two shared cores: a slow page is not a failure
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page, errors


def _pictures_loaded(page, selector: str) -> int:
    """How many of the visible product pictures the browser loaded (CSP allowed, file found),
    after making the lazy ones below the fold load too (for a full-page screenshot)."""
    page.evaluate(
        "sel => document.querySelectorAll(sel).forEach(i => { i.loading = 'eager'; })", selector
    )
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel)]
            .filter(i => i.offsetParent !== null).every(i => i.complete)""",
        arg=selector,
    )
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)]
            .filter(i => i.offsetParent !== null && i.naturalWidth > 0).length""",
        selector,
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [1440, 390])
def test_products_list_and_detail(live_server, demo_marketplace, browser, width, language):
    ARTIFACTS.mkdir(exist_ok=True)
    lang = "en" if language == "en" else "zh"
    context, page, errors = _open(browser, live_server, width=width, language=language)
    try:
        # when: the seller sorts the products by 30-day GMV
        page.goto(f"{live_server.url}/shops/products/?sort=gmv")
        title, units_label = WORDS[language]
        assert title in page.inner_text("h1")
        if width == 1440:
            # then: a table with pictures, units and GMV; the best seller first
            table = page.locator("table.sc-table")
            assert table.is_visible()
            assert units_label.lower() in table.inner_text().lower()  # headers in capitals
            assert page.locator(".sc-product-cards").is_hidden()
            pictures = "table img.sc-thumb"
            first_gmv = page.locator("table tbody").first.locator("td.num").nth(1).inner_text()
        else:
            # then: one card per product (picture, title, units, GMV, status), no table
            assert page.locator("table.sc-table").is_hidden()
            cards = page.locator(".sc-product-card")
            assert cards.count() > 0
            first = cards.first
            assert first.locator(".sc-badge").is_visible()
            assert units_label in first.inner_text()
            pictures = ".sc-product-card img.sc-thumb"
            first_gmv = first.locator("dd").nth(1).inner_text()
            # nothing wider than the phone's screen
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert re.search(r"[1-9]", first_gmv), first_gmv  # the best seller sold something
        img = page.locator(pictures).first
        assert img.get_attribute("loading") == "lazy"
        assert img.get_attribute("alt")
        assert img.get_attribute("width") == img.get_attribute("height")
        assert _pictures_loaded(page, pictures) == page.locator(pictures).count()
        page.screenshot(path=str(ARTIFACTS / f"products-{width}-{lang}.png"), full_page=True)

        # when: the seller opens the best seller
        link = (
            page.locator("table tbody a").first
            if width == 1440
            else page.locator(".sc-product-card a").first
        )
        name = link.inner_text().strip()
        link.click()
        page.wait_for_url("**/shops/products/*/")
        page.wait_for_selector("[data-testid=units-30d]")
        # then: its picture and its 30-day figures, per SKU as well
        assert name in page.inner_text("h1")
        assert page.locator("[data-testid=units-30d]").inner_text().strip() not in {"", "0"}
        assert _pictures_loaded(page, "img.sc-thumb") == 1
        if width == 390:  # the SKUs as cards, nothing wider than the screen
            assert page.locator(".sc-sku-cards .sc-product-card").first.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"product-detail-{width}-{lang}.png"), full_page=True)
        # and no CSP violation or script error on either page
        assert errors == []
    finally:
        context.close()
