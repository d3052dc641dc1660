"""Accessibility of every seller page in a real browser (DESIGN §5, issue 7 item 7).

axe-core (bundled in ``axe-playwright-python``, injected into the page: no network) runs over
each page at 1440 px and 390 px, in English and Chinese: no serious or critical violation.
The keyboard: a skip link first, a visible focus ring on every control of the top bar (the shop
switcher included). Screenshots are kept in tests/artifacts/ (``a11y-<page>-<viewport>-<lang>``).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

from core.checks import all_passed
from core.money import Money
from mailing.models import Campaign
from mailing.selectors import eligibility_checks
from orders.models import Order
from shops.models import BalanceEntry, Product
from shops.services import balance_credit

BLOCKING = {"serious", "critical"}
LANGUAGES = ["en", "zh-hans"]


def seller_pages(shop) -> list[tuple[str, str]]:
    """Every page a seller works in, with an object of ``shop`` for the detail pages."""
    order = Order.objects.filter(shop=shop).order_by("-placed_at", "-id").first()
    product = Product.objects.filter(shop=shop).order_by("id").first()
    campaign = Campaign.objects.filter(shop=shop, status="sent").order_by("id").first()
    return [
        ("dashboard", "/"),
        ("orders", "/orders/"),
        ("order-detail", f"/orders/{order.pk}/"),
        ("products", "/shops/products/"),
        ("product-detail", f"/shops/products/{product.pk}/"),
        ("coins", "/coins/"),
        ("coin-fund", "/coins/fund/"),
        ("coin-products", "/coins/products/"),
        ("coin-buyers", "/coins/buyers/"),
        ("coin-buyer", f"/coins/buyers/{order.buyer_id}/"),
        ("coin-rules", "/coins/rules/"),
        ("coin-rule-new", "/coins/rules/new/"),
        ("coin-dashboard", "/coins/dashboard/"),
        ("coin-grade", "/coins/grade/"),
        ("affiliate", "/affiliate/"),
        ("affiliate-orders", "/affiliate/orders/"),
        ("affiliate-promoters", "/affiliate/promoters/"),
        ("affiliate-diagnose", "/affiliate/diagnose/"),
        ("affiliate-report", "/affiliate/report/"),
        ("affiliate-pending", "/affiliate/pending/"),
        ("mailing", "/mailing/"),
        ("mailing-audience", "/mailing/audience/"),
        ("mailing-segments", "/mailing/segments/"),
        ("mailing-segment-new", "/mailing/segments/new/"),
        ("mailing-suppressions", "/mailing/suppressions/"),
        ("mailing-campaigns", "/mailing/campaigns/"),
        *(
            [
                ("mailing-campaign", f"/mailing/campaigns/{campaign.pk}/"),
                ("mailing-campaign-log", f"/mailing/campaigns/{campaign.pk}/log/"),
            ]
            if campaign
            else []
        ),
        ("mailing-health", "/mailing/health/"),
        ("mailing-statements", "/mailing/statements/"),
        ("activities", "/activities/"),
        ("activities-monitor", "/activities/monitor/"),
        ("activities-reenrol", "/activities/reenrol/"),
        ("activities-appeals", "/activities/appeals/"),
        ("balance", "/shops/balance/"),
        ("notifications", "/shops/notifications/"),
        ("notification-preferences", "/shops/notifications/preferences/"),
    ]


# Axe reads colours as they are painted: a button still easing into its hover or focus colours
# (Bootstrap's 0.15 s transition after a click) can measure as low contrast mid-way. Checks run
# on the settled page: the pointer moved off, nothing focused, transitions finished at once.
_SETTLE = "*, *::before, *::after { transition: none !important; animation: none !important; }"


def settle(page) -> None:
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.add_style_tag(content=_SETTLE)


def blocking_violations(page) -> list[str]:
    settle(page)
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def current_shop(page, demo) -> object:
    name = page.inner_text(".sc-shop-name").strip()
    return next(s for s in demo.shops if s.name == name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_seller_page_has_no_serious_or_critical_axe_violation(
    seller_page, demo_marketplace, screenshot
):
    # given: the demo owner, logged in
    page = seller_page
    shop = current_shop(page, demo_marketplace)
    found = {}
    for name, path in seller_pages(shop):
        # when
        response = page.goto(page.base_url + path)
        assert response.status == 200, f"{path}: {response.status}"
        page.wait_for_load_state("networkidle")
        screenshot(page, f"a11y-{name}")
        # then
        violations = blocking_violations(page)
        if violations:
            found[path] = violations
    assert not found, "\n".join(f"{path}: {v}" for path, vs in found.items() for v in vs)
    assert page.console_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_page_has_no_serious_or_critical_axe_violation(anonymous_page, screenshot):
    # when
    page = anonymous_page
    page.goto(page.base_url + "/accounts/login/")
    screenshot(page, "a11y-login")
    # then
    assert blocking_violations(page) == []


@pytest.mark.parametrize("viewport", ["1440"])
def test_first_tab_reaches_the_skip_link_which_moves_focus_to_the_content(seller_page):
    # given
    page = seller_page
    page.goto(page.base_url + "/orders/")
    # when
    page.keyboard.press("Tab")
    # then: the skip link is the first stop, and visible once focused
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#sc-main"
    assert page.locator("a.sc-skip-link").is_visible()
    # when
    page.keyboard.press("Enter")
    # then: focus is in the main landmark
    assert page.evaluate("document.activeElement.closest('main') !== null")


def _focus_ring(page, selector: str) -> dict:
    page.focus(selector)
    return page.evaluate(
        """(sel) => {
            const el = document.querySelector(sel);
            const s = getComputedStyle(el);
            return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                    shadow: s.boxShadow, matches: el.matches(':focus-visible')};
        }""",
        selector,
    )


@pytest.mark.parametrize("viewport", ["1440"])
def test_keyboard_focus_is_visible_on_the_shop_switcher_and_the_navigation(seller_page):
    # given: focus moved by the keyboard (so :focus-visible applies)
    page = seller_page
    page.goto(page.base_url + "/")
    page.keyboard.press("Tab")
    for selector in ("#sc-shop-switcher", ".sc-nav-link[href='/orders/']", "#sc-lang-switcher"):
        # when
        ring = _focus_ring(page, selector)
        # then: a real outline (at least 2 px) is drawn around the control
        assert ring["outline"] not in ("none", ""), (selector, ring)
        assert ring["width"] >= 2, (selector, ring)


@pytest.mark.parametrize("viewport", ["390"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_phone_menu_opens_navigates_and_shows_the_time_zone(seller_page, screenshot):
    # given: a phone
    page = seller_page
    page.goto(page.base_url + "/coins/")
    assert not page.locator("#sc-sidebar .sc-nav").is_visible()
    # when: the menu button is tapped
    page.click("button[aria-controls=sc-sidebar]")
    page.wait_for_selector("#sc-sidebar.show")
    page.wait_for_timeout(400)  # the slide-in transition
    screenshot(page, "menu", full_page=False)
    # then: the whole menu fits the screen, with the time zone in it
    box = page.locator("#sc-sidebar").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert page.locator("#sc-sidebar .sc-sidebar-foot").is_visible()
    # when: a link is tapped
    page.click("#sc-sidebar a.sc-nav-link[href='/shops/balance/']")
    page.wait_for_url("**/shops/balance/")
    # then: the page opens with the menu closed and the time zone in the footer
    assert not page.locator("#sc-sidebar.show").is_visible()
    assert page.locator("#sc-footer").is_visible()


@pytest.mark.parametrize("viewport", ["390"])
def test_no_seller_page_scrolls_sideways_on_a_phone(seller_page, demo_marketplace):
    # given
    page = seller_page
    shop = current_shop(page, demo_marketplace)
    wide = {}
    for _name, path in seller_pages(shop):
        # when
        page.goto(page.base_url + path)
        page.wait_for_load_state("networkidle")
        # then: tables scroll inside their box, the page itself never does
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
@pytest.mark.parametrize("language", LANGUAGES)
def test_failed_checks_show_how_to_fix_in_the_browser(seller_page, demo_marketplace, screenshot):
    # given: a demo shop that fails an email-marketing condition (the new shop)
    page = seller_page
    failing = next(s for s in demo_marketplace.shops if not all_passed(eligibility_checks(shop=s)))
    page.click("#sc-shop-switcher")
    page.click(f"button[name=shop_id][value='{failing.pk}']")
    page.wait_for_load_state("networkidle")
    # when
    page.goto(page.base_url + "/mailing/")
    # then: every failed condition has its fix line, on screen
    failed = page.locator(".sc-check-fail, .sc-check-unknown")
    assert failed.count() > 0
    for i in range(failed.count()):
        assert failed.nth(i).locator("[data-fix]").is_visible()
    screenshot(page, "fix-mailing")
    assert "SPEC " not in page.inner_text("body")


@pytest.mark.parametrize("viewport", ["390"])
def test_balance_entries_become_cards_on_a_phone(seller_page, demo_marketplace, screenshot):
    # given: three entries on the balance of the shop the demo works in
    page = seller_page
    shop = current_shop(page, demo_marketplace)
    for i, amount in enumerate((125_00, 9_50, 1_234_00)):
        balance_credit(
            shop=shop,
            amount=Money(amount, shop.currency),
            reason=f"Settlement {i + 1}",
            idempotency_key=f"e2e-{i}",
        )
    # when
    page.goto(page.base_url + "/shops/balance/")
    screenshot(page, "balance-cards")
    # then: no table header on screen; each row is a card of labelled lines with the time zone
    assert page.locator("table.sc-table-cards thead").bounding_box()["height"] <= 1
    rows = page.locator("table.sc-table-cards tbody tr")
    # (the demo's modules move money too: coin top-ups, affiliate settlements)
    entries = BalanceEntry.objects.filter(shop=shop).count()
    assert rows.count() == min(entries, settings.SC_PAGE_SIZE)
    assert entries >= 3
    for i in range(3):
        assert page.get_by_text(f"Settlement {i + 1}").count() >= 1
    label = page.evaluate(
        "getComputedStyle(document.querySelector('.sc-table-cards td[data-label]'), '::before')"
        ".content"
    )
    assert label == '"When"'
    assert rows.first.locator("abbr.sc-tz").inner_text() == "CST"
    card = rows.first.bounding_box()
    assert card["width"] <= 390
