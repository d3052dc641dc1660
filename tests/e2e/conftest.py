"""Shared fixtures of the browser tests: Playwright driving Debian's Chromium, headless.

What a browser test needs, in one place (DESIGN §8):

- ``chromium``: a headless Chromium for the test (no network, no first-run noise).
- ``demo_marketplace``: a small demo marketplace built by ``seed_demo`` (the command ``make run``
  uses) in the test database; returns a ``Demo`` with the ``demo`` login's shops.
- ``viewport``: ``"1440"`` or ``"390"`` (a phone). Parametrized over both by default; a test
  narrows it with ``@pytest.mark.parametrize("viewport", ["390"])``.
- ``language``: ``"en"`` or ``"zh-hans"``, the console's language (Django's language cookie).
  English by default; ``@pytest.mark.parametrize("language", LANGUAGES)`` for both.
- ``seller_page``: a Playwright ``Page`` of that viewport and language, logged in as ``demo``
  (owner of four shops) on the live server; ``page.base_url`` is the server's address and
  ``page.console_errors`` collects the browser console's errors.
- ``log_in(page, username, password)``: signs a page in through the login form.
- ``screenshot(page, name)``: keeps ``tests/artifacts/<name>-<viewport>-<language>.png``.

    def test_orders_tabs(seller_page, screenshot):
        seller_page.goto(seller_page.base_url + "/orders/")
        screenshot(seller_page, "orders")

Tests here are marked ``e2e`` and use a transactional database (the live server runs in its own
thread, so it must see committed rows).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from shops.models import Membership, Shop

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

VIEWPORTS = {
    "1440": {"width": 1440, "height": 900},
    "390": {"width": 390, "height": 844},  # a current phone, CSS pixels
}
LANGUAGES = ["en", "zh-hans"]
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # seed_demo's documented login


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture
def chromium():
    # One per test, not per session: a Playwright left running between tests keeps an asyncio
    # loop in this thread, and a test that starts its own sync_playwright() would then fail.
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
                "--font-render-hinting=none",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@dataclass(frozen=True)
class Demo:
    username: str
    password: str
    shops: list[Shop]  # the demo login's shops, by name


@pytest.fixture
def demo_marketplace(transactional_db) -> Demo:
    # given: a small demo marketplace built by the same command `make run` uses
    call_command(
        "seed_demo",
        "--shops=4",
        "--buyers=150",
        "--orders=600",
        "--service-orders=40",
        "--seed=7",
        verbosity=0,
    )
    shops = [
        m.shop
        for m in Membership.objects.filter(user__username=DEMO_USER)
        .select_related("shop")
        .order_by("shop__name")
    ]
    return Demo(username=DEMO_USER, password=DEMO_PASSWORD, shops=shops)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def language() -> str:
    return "en"


def log_in_page(page, username: str, password: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def log_in():
    return log_in_page


def new_page(chromium, live_server, viewport: str, language: str):
    context = chromium.new_context(
        viewport=VIEWPORTS[viewport],
        locale="zh-CN" if language == "zh-hans" else "en-US",
        base_url=live_server.url,
    )
    # The console's language comes from Django's language cookie (what the language switcher
    # sets), so a test starts in the language it asks for.
    host = live_server.url.split("://", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    page.base_url = live_server.url
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def anonymous_page(chromium, live_server, viewport, language):
    """A page of the viewport and language, not logged in (the login page, errors)."""
    context, page = new_page(chromium, live_server, viewport, language)
    yield page
    context.close()


@pytest.fixture
def seller_page(chromium, live_server, demo_marketplace, viewport, language):
    """A page logged in as the demo owner, in the viewport and language asked for."""
    context, page = new_page(chromium, live_server, viewport, language)
    log_in_page(page, demo_marketplace.username, demo_marketplace.password)
    yield page
    context.close()


@pytest.fixture
def screenshot(viewport, language):
    """``screenshot(page, "orders")`` keeps tests/artifacts/orders-<viewport>-<language>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}-{viewport}-{language}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
